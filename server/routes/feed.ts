/**
 * `GET /v1/streams/:id/feed`: the host summary over a raw WebSocket, for OBS overlays, bots and
 * tools that do not speak socket.io. One JSON object per message with a `type` field.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { bearer, hashKey, safeEqual } from '../auth/keys.js';
import { unauthorized } from './guards.js';

/** a consumer this far behind is dropped rather than buffered without bound */
export const FEED_MAX_BUFFERED_BYTES = 1 << 20;

export const feedRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string }; Querystring: { key?: string } }>(
    '/v1/streams/:id/feed',
    {
      websocket: true,
      preValidation: async (req) => {
        const key = bearer(req.headers.authorization) ?? req.query.key ?? null;
        const stream = app.repo.getStream(req.params.id);
        if (!key || !stream || !safeEqual(hashKey(key), stream.hostKeyHash)) throw unauthorized('the feed needs this stream\'s host key');
      },
    },
    (socket: WebSocket, req) => {
      const streamId = req.params.id;
      const send = (type: 'snapshot' | 'update') => {
        const summary = app.engine.summary(streamId);
        if (!summary) return;
        if (socket.bufferedAmount > FEED_MAX_BUFFERED_BYTES) return socket.terminate();
        socket.send(JSON.stringify({ type, ...summary }));
      };
      send('snapshot');
      const off = app.realtime.hosts.onUpdate((id) => id === streamId && send('update'));
      socket.on('close', off);
      socket.on('message', () => {}); // the feed is one-way; input is ignored
    },
  );
};
