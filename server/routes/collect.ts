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
import { ErrorReply } from './schemas.js';
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
    events: Type.Array(Type.Unknown(), { maxItems: MAX_EVENTS_PER_BATCH }),
  },
  { additionalProperties: false },
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
        body: CollectBody,
        response: { 200: Ack, 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 503: ErrorReply },
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
