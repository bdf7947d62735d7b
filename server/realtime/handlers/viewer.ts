/**
 * The `/viewer` namespace: tracking in, offers out.
 */
import type { Namespace, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, Clock } from '../../engine.js';
import type { Repo, OfferRow } from '../../store/sqlite/repo.js';
import type { ViewerClientToServerEvents, ViewerServerToClientEvents, ViewerSocketData, TrackAck, ErrorAck } from '../events.js';
import { checkEvent, MAX_EVENTS_PER_BATCH, type ValidEvent } from '../../ingest/schema.js';
import { authenticateViewer, originOf, ANON_PREFIX, VIEWER_ID_PATTERN } from '../auth.js';
import { streamRoom, viewerRoom } from '../rooms.js';
import { createDashboardQueries } from '../../store/sqlite/dashboard.js';
// issue 8: flood limits
import { DEFAULT_LIMITS, type Limits } from '../../config.js';
import { authError } from '../auth.js';
import { TokenBucket, RATE_LIMITED } from '../limits.js';
import { bufferedPackets, dropNow, stalled } from '../backpressure.js'; // issue 8

export type ViewerNamespace = Namespace<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;
type ViewerSocket = Socket<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;

/** how long a client has to acknowledge an offer before it counts as not delivered (re-sent on reconnect) */
export const OFFER_ACK_TIMEOUT_MS = 10_000;

export function createViewerHandlers({ nsp, engine, repo, clock, log, limits = DEFAULT_LIMITS }: { nsp: ViewerNamespace; engine: Engine; repo: Repo; clock: Clock; log: FastifyBaseLogger; limits?: Limits }) {
  /** issue 8: sockets one viewer has open in a channel (the viewer room); a handshake beyond the cap is refused */
  const viewerSockets = (channel: string, viewerId: string) => nsp.adapter.rooms.get(viewerRoom(channel, viewerId))?.size ?? 0;
  const overCap = (channel: string, viewerId: string) => limits.connectionsPerViewer > 0 && viewerSockets(channel, viewerId) >= limits.connectionsPerViewer;
  const polls = createDashboardQueries(repo.db);

  nsp.use((socket, next) => {
    try {
      const id = authenticateViewer(repo, socket.handshake.auth, originOf(socket), clock());
      socket.data = { streamId: id.stream.id, channel: id.stream.channel, viewerId: id.viewerId, verified: id.verified };
      if (overCap(id.stream.channel, id.viewerId)) {
        throw authError('too_many_connections', `this viewer already has ${limits.connectionsPerViewer} connections open`);
      }
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
    // issue 8: handshakes racing past the middleware's cap check are closed here, before they count
    if (overCap(channel, viewerId)) {
      socket.disconnect(true);
      return;
    }
    socket.join([viewerRoom(channel, viewerId), streamRoom(streamId)]);
    let joined = false;

    // issue 5: identify() sends the browser's anonymous id once the viewer is verified; link it (once),
    // before this socket's first track is queued: events the browser resends as the verified viewer
    // then find the anonymous copies already moved and are deduplicated against them
    const alias = (socket.handshake.auth as { alias?: unknown } | undefined)?.alias;
    if (verified && typeof alias === 'string' && VIEWER_ID_PATTERN.test(alias)) {
      try {
        engine.alias(channel, alias.startsWith(ANON_PREFIX) ? alias : ANON_PREFIX + alias, viewerId);
      } catch (err) {
        log.error({ err }, 'viewer alias failed');
      }
    }

    engine.join(streamId, viewerId, verified).then(
      () => {
        joined = true;
        if (socket.disconnected) return engine.leave(streamId, viewerId);
        socket.emit('hello', { viewerId, verified, serverNow: clock() });
        // issue 5/6: a viewer who joins (or reconnects) while a poll is open gets it too, unless they answered it
        const poll = polls.openPollFor(streamId, viewerId, clock());
        if (poll) socket.emit('poll', poll);
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

    // issue 8: events/s per connection (token bucket), track calls waiting for their commit, and
    // backpressure: a socket that stopped reading its acks is closed rather than buffered without bound
    const bucket = new TokenBucket(limits.eventsPerSecond, limits.eventsBurst, Date.now());
    let inflight = 0;

    socket.on('track', async (events: unknown, ack: (res: TrackAck | ErrorAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (stalled(socket, limits.maxBufferedPackets)) {
        log.warn({ streamId, buffered: bufferedPackets(socket) }, 'viewer socket is not reading: closed');
        dropNow(socket);
        return;
      }
      if (!Array.isArray(events)) {
        return reply({ error: { code: 'bad_request', message: 'track expects an array of events' } });
      }
      if (events.length > MAX_EVENTS_PER_BATCH) {
        return reply({ error: { code: 'bad_request', message: `at most ${MAX_EVENTS_PER_BATCH} events per track call` } });
      }
      if (limits.maxInflightTracks > 0 && inflight >= limits.maxInflightTracks) {
        return reply({ error: { code: 'rate_limited', message: `at most ${limits.maxInflightTracks} track calls may wait for their ack; retry after one is answered` } });
      }
      const valid: ValidEvent[] = [];
      const rejected: TrackAck['rejected'] = [];
      const granted = bucket.take(events.length, Date.now());
      for (const [i, raw] of events.entries()) {
        if (i >= granted) {
          const id = raw && typeof raw === 'object' && typeof (raw as any).id === 'string' ? ((raw as any).id as string).slice(0, 64) : null;
          rejected.push({ id, reason: `${RATE_LIMITED}: more than ${limits.eventsPerSecond} events per second on this connection; retry later with the same id` });
          continue;
        }
        const c = checkEvent(raw);
        if (c.ok) valid.push(c.event);
        else rejected.push({ id: c.id, reason: c.reason });
      }
      inflight++;
      try {
        const r = await engine.track(streamId, viewerId, valid);
        reply({ accepted: r.accepted, duplicates: r.duplicates, rejected });
      } catch (err) {
        log.error({ err }, 'track failed');
        reply({ error: { code: 'unavailable', message: 'events could not be stored; retry with the same ids' } });
      } finally {
        inflight--;
      }
    });
  });

  return { deliver };
}
