/**
 * `GET /v1/streams/:id/feed`: the host dashboard over a raw WebSocket, for OBS overlays, bots and
 * tools that do not speak socket.io. One JSON object per message with a `type` field:
 * `snapshot` then `update` (the summary), `funnel` (with `kpis`, the numbers hosts read), `trend`
 * (`points`), `activity` (`items`), `minutes` (`points`: the stream minute by minute) and `poll`
 * (the latest poll's results), the same data the `/host` socket.io namespace sends.
 *
 * A wrong or missing key is refused at the upgrade with 401 (403 for another stream's key). A
 * consumer that does not keep up is dropped (closed with 1008 and a reason) as soon as more than
 * `feedLimits.maxBufferedBytes` wait in its send buffer: nothing is buffered without bound.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { bearer, hashKey } from '../auth/keys.js';
import { forbidden, unauthorized } from './guards.js';
import { ErrorReply } from './schemas.js';
import { isHostKey } from '../auth/streamKeys.js'; // a rotated host key works during its grace period
import type { FeedMessage } from '../realtime/handlers/host.js';

/** a consumer this far behind is dropped rather than buffered without bound */
export const FEED_MAX_BUFFERED_BYTES = 1 << 20;
/** the live limit (tests lower it to see a slow consumer dropped without sending megabytes) */
export const feedLimits = { maxBufferedBytes: FEED_MAX_BUFFERED_BYTES };
/** close code for a dropped consumer: 1008 policy violation (RFC 6455) */
export const FEED_SLOW_CLOSE_CODE = 1008;

export const feedRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string }; Querystring: { key?: string } }>(
    '/v1/streams/:id/feed',
    {
      websocket: true,
      // documentation only: no params or querystring schema (that would validate, and change the answers)
      schema: {
        tags: ['reports'],
        operationId: 'streamFeed',
        summary: 'The host dashboard as a raw WebSocket (OBS overlays, bots)',
        description:
          'A WebSocket upgrade (`ws://` / `wss://`), not a JSON request. One JSON message per change, each with a `type`: `snapshot` then `update` (the summary, as `GET /v1/streams/{id}/summary`), `funnel` (with `kpis`: GPM, UV value, average watch time, peak, comment, product-click and add-to-cart rates, conversion, new and returning viewers), `trend` (`points`), `activity` (`items`), `minutes` (`points`: watching now, orders and GMV per minute) and `poll` (the latest poll\'s results): the data the `/host` socket.io namespace sends (docs/asyncapi.yaml). The feed is one-way: input is ignored. A consumer with more than 1 MB unread is closed with 1008. The host key comes as a bearer header or as `?key=`.',
        security: [{ hostKey: [] }, { hostKeyQuery: [] }],
        response: {
          101: { description: 'Switching protocols: the feed starts with a `snapshot` message', type: 'null' },
          401: ErrorReply,
          403: ErrorReply,
          404: { description: 'A plain HTTP GET (no WebSocket upgrade) with the right key: empty body', type: 'null' },
        },
      },
      preValidation: async (req) => {
        const key = bearer(req.headers.authorization) ?? (typeof req.query.key === 'string' ? req.query.key : null);
        if (!key) throw unauthorized('the feed needs this stream\'s host key: Authorization: Bearer <key> or ?key=');
        const hash = hashKey(key);
        const stream = await app.store.getStream(req.params.id);
        if (stream && (await isHostKey(app.store, stream, key))) return;
        if (await app.store.streamByHostHash(hash)) throw forbidden('this key is not the host key of this stream');
        throw unauthorized('wrong host key for this stream');
      },
    },
    (socket: WebSocket, req) => {
      const streamId = req.params.id;
      let dropped = false;
      const send = (messages: FeedMessage[]) => {
        if (dropped || socket.readyState !== socket.OPEN) return;
        for (const m of messages) {
          if (socket.bufferedAmount > feedLimits.maxBufferedBytes) {
            dropped = true;
            req.log.warn({ streamId, buffered: socket.bufferedAmount }, 'feed consumer too slow: dropped');
            socket.close(FEED_SLOW_CLOSE_CODE, 'too slow: messages were not read');
            // a consumer that reads nothing never completes the closing handshake: cut it off
            setTimeout(() => socket.terminate(), 1000).unref();
            return;
          }
          socket.send(JSON.stringify(m));
        }
      };
      // updates that come while the snapshot is read wait behind it, so the snapshot is always first
      let backlog: FeedMessage[][] | null = [];
      const off = app.realtime.hosts.onMessage((id, messages) => {
        if (id !== streamId) return;
        if (backlog) backlog.push(messages);
        else send(messages);
      });
      socket.on('close', off);
      app.realtime.hosts.initial(streamId).then(
        (messages) => {
          send(messages);
          for (const m of backlog ?? []) send(m);
          backlog = null;
        },
        (err) => {
          req.log.error({ err, streamId }, 'feed snapshot failed');
          socket.close(1011, 'the snapshot could not be read; reconnect');
        },
      );
      socket.on('message', () => {}); // the feed is one-way; input is ignored
    },
  );
};
