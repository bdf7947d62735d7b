/**
 * `POST /v1/streams/:id/keys/rotate` (admin): new host and ingest keys for a stream. The old
 * ones keep working for `graceSeconds` (default 0) and then stop, so a merchant can roll keys
 * without downtime. Host sockets still open with an old key are disconnected when it stops.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { documented, errorReply, StreamParams } from './schemas.js';
import { notFound, requireAdmin } from './guards.js';
import { isHostKey, rotateKeys } from '../auth/streamKeys.js';
import { hostRoom } from '../realtime/rooms.js';

/** the longest grace period: a week */
export const MAX_GRACE_SECONDS = 7 * 86400;

export const RotateBody = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS })) },
  { additionalProperties: false, examples: [{ graceSeconds: 3600 }] },
);

const Rotated = Type.Object({
  id: Type.String(),
  hostKey: Type.String(),
  ingestKey: Type.String(),
  graceSeconds: Type.Integer(),
  previousValidUntil: Type.Union([Type.Integer(), Type.Null()]),
});

export const keyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const timers = new Set<NodeJS.Timeout>();
  app.addHook('onClose', async () => timers.forEach(clearTimeout));

  /** Disconnects the stream's host sockets whose key no longer works. */
  async function dropStaleHosts(streamId: string) {
    const stream = await app.store.getStream(streamId);
    if (!stream) return;
    for (const socket of await app.io.of('/host').in(hostRoom(streamId)).fetchSockets()) {
      const key = (socket.handshake.auth as { hostKey?: unknown }).hostKey;
      if (typeof key !== 'string' || !(await isHostKey(app.store, stream, key))) socket.disconnect(true);
    }
  }

  app.post(
    '/v1/streams/:id/keys/rotate',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['streams'],
        operationId: 'rotateStreamKeys',
        summary: "Rotate a stream's host and ingest keys",
        description:
          'The previous keys keep working everywhere (REST, `/host`, the raw feed) for `graceSeconds` (0–604800, default 0: they stop at once), then answer 401 and their `/host` sockets are disconnected. No body is the same as `{}`.',
        params: StreamParams,
        body: Type.Union([RotateBody, Type.Null()]),
        response: {
          200: documented(Rotated, 'The new keys (shown only here)', {
            id: 'spring-sale', hostKey: 'lt_host_3Rk8sP1vZ0qX6nB2wL9tC4mY', ingestKey: 'lt_ingest_7Gd2hJ5kW0pR3sV8xN1bQ6eT', graceSeconds: 3600, previousValidUntil: 1746106200000,
          }),
          404: errorReply(404, 'not_found', 'unknown stream spring-sale'),
        },
      },
    },
    async (req) => {
      const stream = await app.store.getStream(req.params.id);
      if (!stream) throw notFound(`unknown stream ${req.params.id}`);
      const graceSeconds = req.body?.graceSeconds ?? 0;
      const r = await rotateKeys(app.store, stream, graceSeconds);
      const timer = setTimeout(() => {
        timers.delete(timer);
        void dropStaleHosts(stream.id).catch((err) => app.log.error({ err }, 'dropping stale host sockets failed'));
      }, graceSeconds * 1000 + 50);
      timer.unref();
      timers.add(timer);
      return { id: stream.id, hostKey: r.hostKey, ingestKey: r.ingestKey, graceSeconds, previousValidUntil: r.previousValidUntil };
    },
  );
};
