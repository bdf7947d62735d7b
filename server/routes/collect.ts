/**
 * `POST /v1/collect`: the SDK's HTTP way in, for what is queued when the page is hidden or goes
 * away (`navigator.sendBeacon`). The body is JSON sent as `text/plain`, a CORS-simple request, so
 * browsers send it from any page without a preflight. It is authenticated like the `/viewer`
 * handshake (stream, viewer id, optional viewer token, the stream's allowed origins), and its
 * events take the same path as socket events: checked one by one, deduplicated by id, committed
 * by the group-commit writer before the answer.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { authenticateViewer } from '../realtime/auth.js';
import { checkEvent, MAX_EVENTS_PER_BATCH, type ValidEvent } from '../ingest/schema.js';
import type { ErrorCode, TrackAck } from '../realtime/events.js';
import { documented, errorReply } from './schemas.js';
import { HttpError } from './guards.js';

/** the SDK keeps each body under this (the server's body limit is 64 KB) */
export const COLLECT_BODY_BYTES = 60 * 1024;
/** seconds a client waits before retrying when events could not be stored */
export const RETRY_AFTER_SECONDS = 2;

export const CollectBody = Type.Object(
  {
    streamId: Type.String({ minLength: 1, maxLength: 64 }),
    viewerId: Type.Optional(Type.String({ maxLength: 128 })),
    token: Type.Optional(Type.String({ maxLength: 4096 })),
    events: Type.Array(Type.Unknown(), { maxItems: MAX_EVENTS_PER_BATCH, description: 'tracked events `{ id, type, ts, data? }`, as the `track` socket event (docs/asyncapi.yaml); each is checked alone' }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        streamId: 'spring-sale',
        viewerId: 'user-42',
        token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl',
        events: [{ id: 'e-7', type: 'watch', ts: 1746102600000, data: { playing: true, engagedMs: 30000 } }],
      },
    ],
  },
);

const Ack = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(Type.Object({ id: Type.Union([Type.String(), Type.Null()]), reason: Type.String() })),
});

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  not_found: 404,
  unavailable: 503,
  internal: 500,
  // flood limits
  rate_limited: 429,
  too_many_connections: 429,
};

export const collectRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // text/plain carries JSON here (a CORS-simple type); this parser is scoped to this plugin
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new HttpError(400, 'bad_request', 'body is not valid JSON'), undefined);
    }
  });

  app.post(
    '/v1/collect',
    {
      schema: {
        tags: ['collect'],
        operationId: 'collect',
        summary: "The SDK's beacon: tracked events over HTTP",
        description:
          'Authenticated like the `/viewer` socket handshake (stream, viewer id, optional viewer token, the stream\'s allowed origins), not by a key. The body is JSON, sent as `text/plain` by `navigator.sendBeacon` (a CORS-simple request: no preflight) or as `application/json`. Each event is checked alone and deduplicated by id; the answer comes once the accepted events are committed, like the `track` ack. An allowed `Origin` is echoed in `Access-Control-Allow-Origin`.',
        security: [],
        consumes: ['text/plain', 'application/json'],
        body: CollectBody,
        response: {
          200: documented(Ack, 'Committed: what was accepted, what was already stored (same id), and what was rejected and why', {
            accepted: 2, duplicates: 1, rejected: [{ id: 'e-9', reason: 'data.sku is required' }],
          }),
          400: errorReply(400, 'bad_request', 'body is not valid JSON', 'A bad body (not JSON, too many events) or viewer id'),
          401: errorReply(401, 'unauthorized', 'invalid or expired viewer token', 'A wrong or expired viewer token'),
          403: errorReply(403, 'forbidden', 'origin https://elsewhere.example is not allowed for this stream', "An origin the stream's allowedOrigins does not list"),
          404: errorReply(404, 'not_found', 'unknown stream spring-sale'),
          503: errorReply(503, 'unavailable', 'events could not be stored; retry with the same ids', 'The events could not be stored (or the database is out of reach): retry after Retry-After seconds with the same ids'),
        },
      },
    },
    async (req, reply) => {
      const origin = req.headers.origin;
      const b = req.body;
      let who;
      try {
        who = await authenticateViewer(app.store, { streamId: b.streamId, viewerId: b.viewerId, token: b.token }, origin, Date.now());
      } catch (err) {
        const code = ((err as { data?: { code?: ErrorCode } }).data?.code ?? 'bad_request') as ErrorCode;
        const message = (err as { data?: { message?: string } }).data?.message ?? code;
        throw new HttpError(STATUS[code] ?? 400, code === 'origin_not_allowed' ? 'forbidden' : code, message);
      }
      // the page may read the answer (fetch); a beacon ignores it
      if (origin) reply.header('access-control-allow-origin', origin).header('vary', 'origin');

      const valid: ValidEvent[] = [];
      const rejected: TrackAck['rejected'] = [];
      for (const raw of b.events) {
        const c = checkEvent(raw);
        if (c.ok) valid.push(c.event);
        else rejected.push({ id: c.id, reason: c.reason });
      }
      try {
        const r = await app.engine.track(who.stream.id, who.viewerId, valid);
        return { accepted: r.accepted, duplicates: r.duplicates, rejected };
      } catch (err) {
        req.log.error({ err }, 'collect failed');
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        throw new HttpError(503, 'unavailable', 'events could not be stored; retry with the same ids');
      }
    },
  );
};
