/**
 * The `/host` namespace: a snapshot on connect, an `update` within a second of any change, and
 * the one-click push of an offer to a tier.
 */
import type { Namespace, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import { Compile } from 'typebox/compile';
import type { Engine } from '../../engine.js';
import type { Repo } from '../../store/repo.js';
import type { HostClientToServerEvents, HostServerToClientEvents, HostSocketData, HostPushAck } from '../events.js';
import { authenticateHost } from '../auth.js';
import { hostRoom } from '../rooms.js';
import { HostPushBody } from '../../routes/schemas.js';

export type HostNamespace = Namespace<HostClientToServerEvents, HostServerToClientEvents, Record<string, never>, HostSocketData>;
type HostSocket = Socket<HostClientToServerEvents, HostServerToClientEvents, Record<string, never>, HostSocketData>;

/** updates are coalesced: at most one per stream per this many ms (well under the 1 s promise) */
export const HOST_UPDATE_INTERVAL_MS = 250;

const checkPush = Compile(HostPushBody);

export function createHostHandlers({ nsp, engine, repo, log }: { nsp: HostNamespace; engine: Engine; repo: Repo; log: FastifyBaseLogger }) {
  nsp.use((socket, next) => {
    try {
      const stream = authenticateHost(repo, socket.handshake.auth);
      socket.data = { streamId: stream.id };
      next();
    } catch (err) {
      next(err as Error);
    }
  });

  const timers = new Map<string, NodeJS.Timeout>();
  const listeners = new Set<(streamId: string) => void>();

  /** Schedules one `update` for the stream's hosts (and raw-feed listeners). */
  function changed(streamId: string) {
    if (timers.has(streamId)) return;
    timers.set(
      streamId,
      setTimeout(() => {
        timers.delete(streamId);
        const summary = engine.summary(streamId);
        if (!summary) return;
        nsp.to(hostRoom(streamId)).emit('update', summary);
        for (const l of listeners) l(streamId);
      }, HOST_UPDATE_INTERVAL_MS),
    );
  }

  nsp.on('connection', (socket: HostSocket) => {
    const { streamId } = socket.data;
    socket.join(hostRoom(streamId));
    const summary = engine.summary(streamId);
    if (summary) socket.emit('snapshot', summary);

    socket.on('push', (req: unknown, ack: (res: HostPushAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!checkPush.Check(req)) {
        const e = [...checkPush.Errors(req)][0];
        const where = e?.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return reply({ error: { code: 'bad_request', message: e ? `${where ? where + ' ' : ''}${e.message}` : 'invalid push' } });
      }
      try {
        reply(engine.pushToTier(streamId, req.tier, req.offer));
      } catch (err) {
        log.error({ err }, 'host push failed');
        reply({ error: { code: 'internal', message: 'the push failed' } });
      }
    });
  });

  function close() {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  }

  return { changed, close, onUpdate: (fn: (streamId: string) => void) => (listeners.add(fn), () => listeners.delete(fn)) };
}
