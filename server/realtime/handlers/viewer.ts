/**
 * The `/viewer` namespace: tracking in, offers out.
 */
import type { Namespace, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, Clock } from '../../engine.js';
import type { OfferRow, Store } from '../../store/types.js';
import type { ViewerClientToServerEvents, ViewerServerToClientEvents, ViewerSocketData, TrackAck, ErrorAck } from '../events.js';
import { checkEvent, MAX_EVENTS_PER_BATCH, type ValidEvent } from '../../ingest/schema.js';
import { authenticateViewer, originOf, ANON_PREFIX, VIEWER_ID_PATTERN } from '../auth.js';
import { streamRoom, viewerRoom } from '../rooms.js';
// flood limits
import { DEFAULT_LIMITS, type Limits } from '../../config.js';
import { authError, handshakeError, unavailable } from '../auth.js';
import { TokenBucket, RATE_LIMITED } from '../limits.js';
import { bufferedPackets, dropNow, stalled } from '../backpressure.js';

export type ViewerNamespace = Namespace<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;
type ViewerSocket = Socket<ViewerClientToServerEvents, ViewerServerToClientEvents, Record<string, never>, ViewerSocketData>;

/** why tracked events were refused, as the metrics count them (server/metrics.ts): a closed set, never the free-text reason */
export type RejectReason = 'invalid' | 'rate_limited' | 'bad_request' | 'unavailable';

/** what this namespace tells the metrics: counts only, no ids */
export interface RealtimeObserver {
  /** a track call's stored and duplicate events */
  tracked(accepted: number, duplicates: number): void;
  /** events refused: per event (invalid, rate_limited) or with the whole call (the ack's error code; a call that is not an array counts as one) */
  rejected(reason: RejectReason, n: number): void;
  offerIssued(): void;
  /** the first acknowledgement of an offer */
  offerDelivered(): void;
}

/** how long a client has to acknowledge an offer before it counts as not delivered (re-sent on reconnect) */
export const OFFER_ACK_TIMEOUT_MS = 10_000;

export function createViewerHandlers({
  nsp, engine, store, clock, log, limits = DEFAULT_LIMITS, cluster = false, observer,
}: { nsp: ViewerNamespace; engine: Engine; store: Store; clock: Clock; log: FastifyBaseLogger; limits?: Limits; cluster?: boolean; observer?: RealtimeObserver }) {
  /** sockets one viewer has open in a channel (the viewer room); a handshake beyond the cap is refused */
  const viewerSockets = (channel: string, viewerId: string) => nsp.adapter.rooms.get(viewerRoom(channel, viewerId))?.size ?? 0;
  const overCap = (channel: string, viewerId: string) => limits.connectionsPerViewer > 0 && viewerSockets(channel, viewerId) >= limits.connectionsPerViewer;
  /** in cluster mode the viewer's sockets on every process count (one round trip to the others per handshake) */
  const overCapEverywhere = async (channel: string, viewerId: string) =>
    cluster
      ? limits.connectionsPerViewer > 0 && (await nsp.in(viewerRoom(channel, viewerId)).fetchSockets()).length >= limits.connectionsPerViewer
      : overCap(channel, viewerId);

  nsp.use(async (socket, next) => {
    try {
      const id = await authenticateViewer(store, socket.handshake.auth, originOf(socket), clock());
      socket.data = { streamId: id.stream.id, channel: id.stream.channel, viewerId: id.viewerId, verified: id.verified };
      if (await overCapEverywhere(id.stream.channel, id.viewerId)) {
        throw authError('too_many_connections', `this viewer already has ${limits.connectionsPerViewer} connections open`);
      }
      next();
    } catch (err) {
      next(handshakeError(err));
    }
  });

  /** a client acknowledged the offer (engine.delivered ignores all but the first) */
  const delivered = (offer: OfferRow) => {
    if (!offer.deliveredAt) observer?.offerDelivered();
    engine.delivered(offer, (e) => log.error({ err: e }, 'offer delivery not recorded'));
  };

  const sendOffer = (socket: ViewerSocket, offer: OfferRow) => {
    socket.timeout(OFFER_ACK_TIMEOUT_MS).emit('offer', engine.payload(offer), (err) => {
      if (!err) delivered(offer);
    });
  };

  /**
   * Pushes an offer to its viewer's sockets; delivered once at least one client acknowledged it.
   * On one process, and for a push's fan-out in cluster mode (`here`: each process sends its own
   * connected viewers their offers), it goes straight to this process's sockets of the viewer: a
   * plain emit with an ack per socket (a room broadcast with acks costs a timer and a response
   * collector per offer, and through the Redis adapter a message to every process and an answer
   * from each). Any other offer in cluster mode (a trigger's, a purchase reported here for a viewer
   * elsewhere) goes through the adapter to every socket of the viewer.
   */
  function deliver(offer: OfferRow, here = false) {
    observer?.offerIssued();
    const room = viewerRoom(offer.channel, offer.viewerId);
    const record = () => delivered(offer);
    if (!cluster || here) {
      const ids = nsp.adapter.rooms.get(room);
      if (!ids) return;
      const payload = engine.payload(offer);
      let acked = false;
      for (const id of ids) {
        nsp.sockets.get(id)?.emit('offer', payload, () => {
          if (acked) return;
          acked = true;
          record();
        });
      }
      return;
    }
    nsp
      .to(room)
      .timeout(OFFER_ACK_TIMEOUT_MS)
      .emit('offer', engine.payload(offer), (_err: Error | null, responses: unknown[]) => {
        // an empty room answers at once with no responses: that is not a delivery
        if (responses && responses.length > 0) record();
      });
  }

  nsp.on('connection', (socket: ViewerSocket) => {
    const { streamId, channel, viewerId, verified } = socket.data;
    // handshakes racing past the middleware's cap check are closed here, before they count
    if (overCap(channel, viewerId)) {
      socket.disconnect(true);
      return;
    }
    socket.join([viewerRoom(channel, viewerId), streamRoom(streamId)]);
    let joined = false;

    // identify() sends the browser's anonymous id once the viewer is verified; link it (once)
    // before this socket's first track is committed: events the browser resends as the verified
    // viewer then find the anonymous copies already moved and are deduplicated against them
    const alias = (socket.handshake.auth as { alias?: unknown } | undefined)?.alias;
    let aliasFailed = false;
    const aliased =
      verified && typeof alias === 'string' && VIEWER_ID_PATTERN.test(alias)
        ? engine.alias(channel, alias.startsWith(ANON_PREFIX) ? alias : ANON_PREFIX + alias, viewerId).then(
            () => {},
            (err) => {
              aliasFailed = true;
              log.error({ err }, 'viewer alias failed');
            },
          )
        : Promise.resolve();

    aliased
      .then(() => engine.join(streamId, viewerId, verified))
      .then(async () => {
        joined = true;
        if (socket.disconnected) return engine.leave(streamId, viewerId);
        // read first, then send together: the poll and the pending offers arrive right behind hello
        // a viewer who joins (or reconnects) while a poll is open gets it too, unless they answered it
        const [poll, pending] = await Promise.all([store.openPollFor(streamId, viewerId, clock()), engine.pendingOffers(channel, viewerId)]);
        if (socket.disconnected) return;
        socket.emit('hello', { viewerId, verified, serverNow: clock(), ...(aliasFailed ? { aliased: false as const } : {}) });
        if (poll) socket.emit('poll', poll);
        for (const offer of pending) sendOffer(socket, offer);
      })
      .catch((err) => {
        if (!joined) {
          log.error({ err }, 'viewer join failed');
          socket.disconnect(true);
        } else {
          log.error({ err }, 'viewer hello failed');
        }
      });

    socket.on('disconnect', () => {
      if (joined) engine.leave(streamId, viewerId);
    });

    // events/s per connection (token bucket), track calls waiting for their commit, and
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
        observer?.rejected('bad_request', 1);
        return reply({ error: { code: 'bad_request', message: 'track expects an array of events' } });
      }
      if (events.length > MAX_EVENTS_PER_BATCH) {
        observer?.rejected('bad_request', events.length);
        return reply({ error: { code: 'bad_request', message: `at most ${MAX_EVENTS_PER_BATCH} events per track call` } });
      }
      if (limits.maxInflightTracks > 0 && inflight >= limits.maxInflightTracks) {
        observer?.rejected('rate_limited', events.length);
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
        await aliased;
        const r = await engine.track(streamId, viewerId, valid);
        if (observer) {
          observer.tracked(r.accepted, r.duplicates);
          const limited = rejected.filter((x) => x.reason.startsWith(RATE_LIMITED)).length;
          observer.rejected('rate_limited', limited);
          observer.rejected('invalid', rejected.length - limited);
        }
        reply({ accepted: r.accepted, duplicates: r.duplicates, rejected });
      } catch (err) {
        const down = unavailable(err);
        observer?.rejected('unavailable', events.length);
        if (down) log.warn({ streamId }, 'track: store unavailable');
        else log.error({ err }, 'track failed');
        reply(down ?? { error: { code: 'unavailable', message: 'events could not be stored; retry with the same ids', retryAfterMs: 1000 } });
      } finally {
        inflight--;
      }
    });
  });

  return { deliver };
}
