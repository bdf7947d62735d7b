/**
 * The `/viewer` namespace: tracking in, offers out.
 */
import type { Namespace, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, Clock } from '../../engine.js';
import type { Repo, OfferRow } from '../../store/repo.js';
import type { ViewerClientToServerEvents, ViewerServerToClientEvents, ViewerSocketData, TrackAck, ErrorAck } from '../events.js';
import { checkEvent, MAX_EVENTS_PER_BATCH, type ValidEvent } from '../../ingest/schema.js';
import { authenticateViewer, originOf, ANON_PREFIX, VIEWER_ID_PATTERN } from '../auth.js';
import { streamRoom, viewerRoom } from '../rooms.js';

export type ViewerNamespace = Namespace<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;
type ViewerSocket = Socket<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;

/** how long a client has to acknowledge an offer before it counts as not delivered (re-sent on reconnect) */
export const OFFER_ACK_TIMEOUT_MS = 10_000;

export function createViewerHandlers({ nsp, engine, repo, clock, log }: { nsp: ViewerNamespace; engine: Engine; repo: Repo; clock: Clock; log: FastifyBaseLogger }) {
  nsp.use((socket, next) => {
    try {
      const id = authenticateViewer(repo, socket.handshake.auth, originOf(socket), clock());
      socket.data = { streamId: id.stream.id, channel: id.stream.channel, viewerId: id.viewerId, verified: id.verified };
      next();
    } catch (err) {
      next(err as Error);
    }
  });

  const sendOffer = (socket: ViewerSocket, offer: OfferRow) => {
    socket.timeout(OFFER_ACK_TIMEOUT_MS).emit('offer', engine.payload(offer), (err) => {
      if (!err) engine.delivered(offer);
    });
  };

  /** Pushes an offer to every socket of its viewer; delivered once at least one client acknowledged it. */
  function deliver(offer: OfferRow) {
    nsp
      .to(viewerRoom(offer.channel, offer.viewerId))
      .timeout(OFFER_ACK_TIMEOUT_MS)
      .emit('offer', engine.payload(offer), (_err: Error | null, responses: unknown[]) => {
        // an empty room answers at once with no responses: that is not a delivery
        if (responses && responses.length > 0) engine.delivered(offer);
      });
  }

  nsp.on('connection', (socket: ViewerSocket) => {
    const { streamId, channel, viewerId, verified } = socket.data;
    socket.join([viewerRoom(channel, viewerId), streamRoom(streamId)]);
    let joined = false;

    engine.join(streamId, viewerId, verified).then(
      () => {
        joined = true;
        if (socket.disconnected) return engine.leave(streamId, viewerId);
        // issue 5: identify() sends the browser's anonymous id once the viewer is verified; link it (once)
        const alias = (socket.handshake.auth as { alias?: unknown } | undefined)?.alias;
        if (verified && typeof alias === 'string' && VIEWER_ID_PATTERN.test(alias)) {
          try {
            engine.alias(channel, alias.startsWith(ANON_PREFIX) ? alias : ANON_PREFIX + alias, viewerId);
          } catch (err) {
            log.error({ err }, 'viewer alias failed');
          }
        }
        socket.emit('hello', { viewerId, verified, serverNow: clock() });
        for (const offer of engine.pendingOffers(channel, viewerId)) sendOffer(socket, offer);
      },
      (err) => {
        log.error({ err }, 'viewer join failed');
        socket.disconnect(true);
      },
    );

    socket.on('disconnect', () => {
      if (joined) engine.leave(streamId, viewerId);
    });

    socket.on('track', async (events: unknown, ack: (res: TrackAck | ErrorAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!Array.isArray(events)) {
        return reply({ error: { code: 'bad_request', message: 'track expects an array of events' } });
      }
      if (events.length > MAX_EVENTS_PER_BATCH) {
        return reply({ error: { code: 'bad_request', message: `at most ${MAX_EVENTS_PER_BATCH} events per track call` } });
      }
      const valid: ValidEvent[] = [];
      const rejected: TrackAck['rejected'] = [];
      for (const raw of events) {
        const c = checkEvent(raw);
        if (c.ok) valid.push(c.event);
        else rejected.push({ id: c.id, reason: c.reason });
      }
      try {
        const r = await engine.track(streamId, viewerId, valid);
        reply({ accepted: r.accepted, duplicates: r.duplicates, rejected });
      } catch (err) {
        log.error({ err }, 'track failed');
        reply({ error: { code: 'unavailable', message: 'events could not be stored; retry with the same ids' } });
      }
    });
  });

  return { deliver };
}
