/**
 * The LiveTier browser SDK. The whole public surface:
 *
 *   const lt = init({ server: 'https://live.example', stream: 'spring-sale', video: '#player', consent: 'pending' });
 *   lt.consent(true);                           // after the viewer agreed (nothing is sent or stored before)
 *   lt.track('add_to_cart', { sku: 'TEA-01', price: 12900 });
 *   const off = lt.on('offer', (offer) => show(offer));
 *   lt.identify('u_42', tokenFromYourBackend);  // links this browser's anonymous history, once
 *   await lt.flush();
 *   lt.close();
 *
 * Everything else in sdk/ is private and may change.
 */
import type { EventType, OfferPayload, PollPayload, ViewerAuth } from '../server/realtime/events.js';
import { EventQueue } from './queue.js';
import { ViewerTransport, type Identity, type LiveTierError } from './transport.js';
import { startHeartbeat } from './heartbeat.js';
import { aliasKey, ANON_ID, anonymousId, queueKey, safeStorage, storedAlias, VIEWER_ID_KEY, type PendingAlias } from './storage.js';
import { TabLock, lockKey } from './lock.js';
import { beaconBodies, sendBeacons } from './beacon.js';
import { randomUUID } from './ids.js';

export const version = '0.2.0';

export type { EventType, OfferPayload, PollPayload, Identity, LiveTierError };

/** The `data` of each event type, as the server validates it. Money is in integer minor units. */
export interface EventDataMap {
  watch: { playing: boolean; engagedMs: number };
  comment: { text: string };
  like: { count?: number };
  product_view: { sku: string; price?: number };
  add_to_cart: { sku: string; price?: number; quantity?: number };
  checkout: { sku?: string; amount?: number };
  purchase: { orderId: string; amount: number; currency: string };
  offer_seen: { offerId: string };
  offer_click: { offerId: string };
  /** the answer to a host's poll: an integer 1-5 */
  poll_answer: { pollId: string; value: number };
}

export interface InitOptions {
  /** origin of the LiveTier server, e.g. `https://live.example` */
  server: string;
  /** stream id */
  stream: string;
  /** a signed viewer token from the merchant's backend; without one the viewer is anonymous */
  token?: string;
  /** the stream's `<video>` (or a CSS selector for it): watch time counts only while it plays */
  video?: HTMLVideoElement | string;
  /** the anonymous viewer id to use; default: one kept in localStorage (`livetier:vid`) */
  viewerId?: string;
  /** send `watch` heartbeats (default true) */
  heartbeat?: boolean;
  /**
   * `pending`: send nothing and write nothing to storage until `consent(true)`; events tracked
   * meanwhile wait in memory. Default `granted`.
   */
  consent?: 'granted' | 'pending';
}

interface Listeners {
  offer: (offer: OfferPayload) => void;
  identity: (identity: Identity) => void;
  error: (error: LiveTierError) => void;
  poll: (poll: PollPayload) => void;
}

export interface LiveTierClient {
  /** the viewer id sent in the handshake (the server's view arrives with `on('identity')`) */
  readonly viewerId: string;
  /** Queues an event; returns its id, or `''` when dropped (more than 10 events/s beyond a burst of 100, or closed). */
  track<T extends EventType>(type: T, data?: EventDataMap[T]): string;
  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof Listeners>(event: K, fn: Listeners[K]): () => void;
  /**
   * Switches to a logged-in viewer: reconnects with `{ streamId, viewerId, token, alias }`; the
   * server links this browser's anonymous history to that viewer, once, verified by the token.
   */
  identify(viewerId: string, token: string): void;
  /** `true`: start sending and storing; `false`: stop, and forget the stored viewer id and queue. */
  consent(granted: boolean): void;
  /** Resolves when everything tracked so far has been acknowledged by the server. */
  flush(): Promise<void>;
  /** Stops heartbeats and disconnects; unsent events stay stored for the next page. */
  close(): void;
}

export function init(options: InitOptions): LiveTierClient {
  const { server, stream, video, heartbeat = true } = options;
  if (!server || !stream) throw new TypeError('LiveTier.init needs { server, stream }');
  const storage = safeStorage();
  const hasDoc = typeof document !== 'undefined';
  let granted = options.consent !== 'pending';
  let token = options.token;
  /**
   * identify()'s link of the anonymous id to a verified viewer, sent only while identified as that
   * viewer. Stored beside the queue (`livetier:alias:<stream>`) until a handshake that carried it
   * is answered, so a page closed right after identify() links on the next one identified so.
   */
  let pending: PendingAlias | null = storedAlias(storage, stream);
  const keepAlias = () => {
    if (granted && pending) storage.setItem(aliasKey(stream), JSON.stringify(pending));
  };
  const freshId = () => {
    const stored = storage.getItem(VIEWER_ID_KEY);
    return stored && ANON_ID.test(stored) ? stored : `v_${randomUUID()}`;
  };
  // while consent is pending, the id lives in memory only
  let viewerId = options.viewerId || (granted ? anonymousId(storage) : freshId());

  const listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = { offer: new Set(), identity: new Set(), error: new Set(), poll: new Set() };
  /** offers that arrived before anyone listened; acknowledged once handed over */
  let unclaimed: { offer: OfferPayload; done: () => void }[] = [];

  const emit = <K extends keyof Listeners>(event: K, value: Parameters<Listeners[K]>[0]) => {
    for (const fn of [...listeners[event]]) {
      try {
        (fn as (v: typeof value) => void)(value);
      } catch (err) {
        console.error(`[livetier] ${event} listener failed`, err);
      }
    }
  };

  const auth = (): ViewerAuth => ({
    streamId: stream,
    viewerId,
    ...(token ? { token } : {}),
    ...(token && pending?.viewerId === viewerId ? { alias: pending.anon } : {}),
  });
  const lock = new TabLock(storage, lockKey(stream));
  let transport: ViewerTransport | null = null;
  const queue = new EventQueue({
    send: (batch) => (transport ? transport.send(batch) : Promise.reject(new Error('not connected'))),
    storage,
    key: queueKey(stream),
    persist: granted,
    lock,
  });

  let closed = false;
  const connect = () => {
    if (transport || closed || !granted) return;
    transport = new ViewerTransport(server, auth(), {
      online: (online) => queue.setOnline(online),
      offer: (offer) => {
        if (listeners.offer.size) return emit('offer', offer);
        return new Promise<void>((done) => unclaimed.push({ offer, done }));
      },
      hello: (info) => {
        // the server says hello only once the handshake's alias ran: the link is made (unless it says it failed)
        const sent = transport?.auth.alias;
        if (info.verified && info.aliased !== false && sent && storedAlias(storage, stream)?.anon === sent) storage.removeItem(aliasKey(stream));
        emit('identity', info);
      },
      error: (err) => emit('error', err),
      poll: (poll) => emit('poll', poll),
    });
    transport.connect();
  };

  const stopHeartbeat = heartbeat && hasDoc ? startHeartbeat({ video, send: (data) => queue.push('watch', { ...data }) }) : () => {};

  // Before the page goes away: what is queued goes over HTTP (never the `unload` event, which
  // breaks the back/forward cache). Events stay queued until an answer settles them.
  const beaconUrl = `${server.replace(/\/+$/, '')}/v1/collect`;
  const inFlight = new Set<string>();
  const beacon = (read: boolean) => {
    if (!granted || closed || !lock.free()) return; // another tab sends the shared queue
    const events = queue.pending.filter((e) => !inFlight.has(e.id));
    if (!events.length) return;
    const sent = sendBeacons(beaconUrl, beaconBodies(auth(), events), read, (a) => {
      if (a.settled) queue.settle(a.settled);
      if (a.retryAfterMs) queue.pause(a.retryAfterMs);
    });
    for (const id of sent) inFlight.add(id);
  };
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') beacon(true);
    else inFlight.clear();
  };
  const onPageHide = () => {
    beacon(false);
    lock.release();
  };
  const onPageShow = () => inFlight.clear();
  // another tab changed the shared queue, or gave up its lease: look again
  const onStorage = (e: StorageEvent) => {
    if (e.key === queueKey(stream) || e.key === lockKey(stream)) queue.changedElsewhere();
  };
  if (hasDoc) {
    document.addEventListener('visibilitychange', onVisibility);
    addEventListener('pagehide', onPageHide);
    addEventListener('pageshow', onPageShow);
    addEventListener('storage', onStorage);
  }

  connect();

  return {
    get viewerId() {
      return viewerId;
    },
    track(type, data) {
      if (closed) return '';
      return queue.push(type, data as Record<string, unknown> | undefined)?.id ?? '';
    },
    on(event, fn) {
      listeners[event].add(fn);
      if (event === 'offer' && unclaimed.length) {
        const waiting = unclaimed;
        unclaimed = [];
        queueMicrotask(() => {
          for (const { offer, done } of waiting) {
            emit('offer', offer);
            done();
          }
        });
      }
      return () => void listeners[event].delete(fn);
    },
    identify(id, newToken) {
      if (!token && ANON_ID.test(viewerId)) {
        pending = { anon: viewerId, viewerId: id };
        keepAlias();
      }
      viewerId = id;
      token = newToken;
      transport?.reconnect(auth());
    },
    consent(yes) {
      if (closed || yes === granted) return;
      granted = yes;
      if (yes) {
        if (!options.viewerId && ANON_ID.test(viewerId) && !token) storage.setItem(VIEWER_ID_KEY, viewerId);
        queue.persist(true);
        keepAlias();
        connect();
        return;
      }
      queue.setOnline(false);
      transport?.close();
      transport = null;
      queue.clear();
      queue.persist(false);
      lock.release();
      storage.removeItem(VIEWER_ID_KEY);
      storage.removeItem(aliasKey(stream));
      pending = null;
      if (!token && !options.viewerId) viewerId = `v_${randomUUID()}`;
    },
    flush: () => queue.flush(),
    close() {
      if (closed) return;
      closed = true;
      stopHeartbeat();
      if (hasDoc) {
        document.removeEventListener('visibilitychange', onVisibility);
        removeEventListener('pagehide', onPageHide);
        removeEventListener('pageshow', onPageShow);
        removeEventListener('storage', onStorage);
      }
      queue.close();
      transport?.close();
      lock.release();
      for (const set of Object.values(listeners)) set.clear();
    },
  };
}
