/**
 * The LiveTier browser SDK. The whole public surface:
 *
 *   const lt = init({ server: 'https://live.example', stream: 'spring-sale', video: '#player' });
 *   lt.track('add_to_cart', { sku: 'TEA-01', price: 12900 });
 *   const off = lt.on('offer', (offer) => show(offer));
 *   lt.identify('u_42', tokenFromYourBackend);
 *   await lt.flush();
 *   lt.close();
 *
 * Everything else in sdk/ is private and may change.
 */
import type { EventType, OfferPayload } from '../server/realtime/events.js';
import { EventQueue } from './queue.js';
import { ViewerTransport, type Identity, type LiveTierError } from './transport.js';
import { startHeartbeat } from './heartbeat.js';
import { anonymousId, queueKey, safeStorage } from './storage.js';

export const version = '0.1.0';

export type { EventType, OfferPayload, Identity, LiveTierError };

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
}

interface Listeners {
  offer: (offer: OfferPayload) => void;
  identity: (identity: Identity) => void;
  error: (error: LiveTierError) => void;
}

export interface LiveTierClient {
  /** the viewer id sent in the handshake (the server's view arrives with `on('identity')`) */
  readonly viewerId: string;
  /** Queues an event; returns its id. */
  track<T extends EventType>(type: T, data?: EventDataMap[T]): string;
  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof Listeners>(event: K, fn: Listeners[K]): () => void;
  /** Switches to a logged-in viewer: reconnects with `{ streamId, viewerId, token }`. */
  identify(viewerId: string, token: string): void;
  /** Resolves when everything tracked so far has been acknowledged by the server. */
  flush(): Promise<void>;
  /** Stops heartbeats and disconnects; unsent events stay stored for the next page. */
  close(): void;
}

export function init(options: InitOptions): LiveTierClient {
  const { server, stream, token, video, heartbeat = true } = options;
  if (!server || !stream) throw new TypeError('LiveTier.init needs { server, stream }');
  const storage = safeStorage();
  let viewerId = options.viewerId || anonymousId(storage);

  const listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = { offer: new Set(), identity: new Set(), error: new Set() };
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

  let queue: EventQueue;
  const transport = new ViewerTransport(server, { streamId: stream, viewerId, ...(token ? { token } : {}) }, {
    online: (online) => queue.setOnline(online),
    offer: (offer) => {
      if (listeners.offer.size) return emit('offer', offer);
      return new Promise<void>((done) => unclaimed.push({ offer, done }));
    },
    hello: (info) => emit('identity', info),
    error: (err) => emit('error', err),
  });
  queue = new EventQueue({ send: (batch) => transport.send(batch), storage, key: queueKey(stream) });

  const stopHeartbeat = heartbeat && typeof document !== 'undefined' ? startHeartbeat({ video, send: (data) => queue.push('watch', { ...data }) }) : () => {};

  // send what is waiting before the page goes away; what does not make it stays stored
  const onHidden = () => {
    if (document.visibilityState === 'hidden') queue.flush().catch(() => {});
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onHidden);

  let closed = false;
  transport.connect();

  return {
    get viewerId() {
      return viewerId;
    },
    track(type, data) {
      return queue.push(type, data as Record<string, unknown> | undefined).id;
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
      viewerId = id;
      transport.reconnect({ streamId: stream, viewerId: id, token: newToken });
    },
    flush: () => queue.flush(),
    close() {
      if (closed) return;
      closed = true;
      stopHeartbeat();
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onHidden);
      queue.close();
      transport.close();
      for (const set of Object.values(listeners)) set.clear();
    },
  };
}
