/**
 * The event queue: ids, batching, persistence and retries. It knows nothing about sockets: it
 * receives a `send(batch)` function, and is told when sending is possible (`setOnline`).
 *
 * Every event gets its id once, when tracked; a retry re-sends the same ids, so the server's
 * dedup makes delivery exactly-once from the merchant's point of view.
 *
 * When it persists, storage is the truth: every change re-reads it first, so tabs of the same
 * page share one queue, and a `lock` (lock.ts) lets only one of them send it. A token bucket
 * keeps a buggy page from flooding the server.
 */
import type { EventType, TrackAck, ErrorAck, TrackEvent } from '../server/realtime/events.js';
import type { KeyValueStore } from './storage.js';
import { backoff as defaultBackoff } from './backoff.js';
import { timeOrderedId } from './ids.js';
import type { TabLock } from './lock.js';

/** events per `track` call (the server takes up to 500; small batches keep acks quick) */
export const MAX_BATCH = 50;
/** pending events kept; beyond it the oldest are dropped */
export const MAX_QUEUE = 1000;
/** how long `push` waits for company before sending, so a burst travels as one batch */
export const SEND_DELAY_MS = 100;
/** the rate limit: events per second, and the burst allowed on top */
export const RATE_PER_S = 10;
export const BURST = 100;

/** the start of a rejection reason that means "not now": the server's rate limit */
export const RATE_LIMITED = 'rate_limited';

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A failed send may say how long to wait (an HTTP `Retry-After`, or an ack's `retryAfterMs`). */
export type RetryHint = { retryAfterMs?: number };
export type Send = (batch: TrackEvent[]) => Promise<TrackAck | (ErrorAck & RetryHint)>;

export interface QueueOptions {
  send: Send;
  /** where pending events survive reloads; none: memory only */
  storage?: KeyValueStore;
  /** storage key, one per stream */
  key?: string;
  /** false: memory only until `persist(true)` (consent pending) */
  persist?: boolean;
  /** the tab lease: without it this queue always sends */
  lock?: TabLock;
  /** events per second and burst of the token bucket (Infinity: no limit) */
  rate?: number;
  burst?: number;
  delayMs?: number;
  backoff?: (attempt: number) => number;
  now?: () => number;
  id?: (now: number) => string;
  warn?: (...args: unknown[]) => void;
}

interface Waiter {
  ids: Set<string>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class EventQueue {
  private events: TrackEvent[] = [];
  private online = false;
  private closed = false;
  private sending = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dueAt = Infinity;
  private waiters: Waiter[] = [];
  private persisting: boolean;
  private tokens: number;
  private refilledAt: number;
  private dropping = false;
  private notBefore = 0;
  private readonly opts: Required<Omit<QueueOptions, 'storage' | 'key' | 'lock'>> & Pick<QueueOptions, 'storage' | 'key' | 'lock'>;

  constructor(options: QueueOptions) {
    this.opts = {
      delayMs: SEND_DELAY_MS,
      backoff: defaultBackoff,
      now: () => Date.now(),
      id: timeOrderedId,
      warn: (...args) => console.warn(...args),
      persist: true,
      rate: RATE_PER_S,
      burst: BURST,
      ...options,
    };
    this.persisting = this.opts.persist;
    this.tokens = this.opts.burst;
    this.refilledAt = this.opts.now();
    this.events = this.load();
  }

  /** Events not yet acknowledged, oldest first (a copy). */
  get pending(): TrackEvent[] {
    this.refresh();
    return this.events.slice();
  }

  /** Queues one event and returns it, or null when the rate limit drops it. */
  push(type: EventType, data?: Record<string, unknown>): TrackEvent | null {
    const ts = this.opts.now();
    if (!this.allow(ts)) return null;
    const event: TrackEvent = data === undefined ? { id: this.opts.id(ts), type, ts } : { id: this.opts.id(ts), type, ts, data };
    this.refresh();
    this.events.push(event);
    if (this.events.length > MAX_QUEUE) this.remove(new Set(this.events.slice(0, this.events.length - MAX_QUEUE).map((e) => e.id)));
    this.save();
    this.schedule(this.opts.delayMs);
    return event;
  }

  /**
   * Starts (true) or stops (false) keeping events in storage. Starting writes what is in
   * memory beside what storage already holds; stopping leaves storage alone (see `clear`).
   */
  persist(on: boolean) {
    if (on === this.persisting) return;
    const mine = this.events;
    this.persisting = on;
    if (!on) return;
    this.refresh();
    const known = new Set(this.events.map((e) => e.id));
    this.events = [...this.events, ...mine.filter((e) => !known.has(e.id))].slice(-MAX_QUEUE);
    this.save();
    this.schedule(0);
  }

  /** Forgets every pending event, here and in storage (consent refused). Waiting flushes resolve. */
  clear() {
    this.remove(new Set(this.events.map((e) => e.id)));
    const { storage, key } = this.opts;
    if (storage && key) storage.removeItem(key);
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Events the server acknowledged through another way (the beacon's answer). */
  settle(ids: string[]) {
    this.refresh();
    this.remove(new Set(ids));
    this.save();
  }

  /** The server asked to wait (`Retry-After`): nothing is sent for `ms`. */
  pause(ms: number) {
    this.notBefore = Math.max(this.notBefore, this.opts.now() + ms);
  }

  /** Another tab changed the shared queue (a `storage` event): re-read it, and send if it is ours to send. */
  changedElsewhere() {
    this.refresh();
    this.schedule(0);
  }

  /** The transport says whether a send can reach the server now. Going online sends at once. */
  setOnline(online: boolean) {
    this.online = online;
    if (online) {
      this.attempt = 0;
      this.schedule(0);
    }
  }

  /**
   * Resolves when every event queued so far has been acknowledged (accepted, a duplicate or
   * rejected) or dropped by the cap. Sends now rather than after the batching delay.
   */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('LiveTier queue is closed'));
    this.refresh();
    const ids = new Set(this.events.map((e) => e.id));
    if (!ids.size) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ ids, resolve, reject }));
    this.schedule(0);
    return done;
  }

  /** Stops sending. Pending events stay in storage for the next page; waiting flushes reject. */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new Error('LiveTier queue is closed'));
  }

  private schedule(ms: number) {
    if (this.closed || !this.events.length) return;
    const at = this.opts.now() + ms;
    if (this.timer !== undefined && this.dueAt <= at) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Infinity;
      void this.sendBatch();
    }, ms);
  }

  private async sendBatch() {
    if (this.closed || this.sending || !this.online) return;
    this.refresh();
    if (!this.events.length) return;
    const wait = this.notBefore - this.opts.now();
    if (wait > 0) return this.schedule(wait);
    // another tab sends the shared queue: look again when its lease could have lapsed
    const { lock } = this.opts;
    if (lock && this.persisting && !lock.hold()) return this.schedule(lock.ttl);
    const batch = this.events.slice(0, MAX_BATCH);
    this.sending = true;
    let ack: (TrackAck | (ErrorAck & RetryHint)) | null;
    let hint: RetryHint = {};
    try {
      ack = await this.opts.send(batch);
    } catch (err) {
      ack = null; // timeout, disconnect
      hint = (err ?? {}) as RetryHint;
    } finally {
      this.sending = false;
    }
    if (this.closed) return;
    if (!ack || 'error' in ack || !Array.isArray(ack.rejected)) {
      // keep the events; the same ids go again later, no sooner than the server asked
      const asked = Number((ack && 'error' in ack ? ack : hint).retryAfterMs) || 0;
      if (asked) this.pause(asked);
      this.schedule(Math.max(asked, this.opts.backoff(this.attempt++)));
      return;
    }
    // an ack settles its batch (accepted, duplicate or rejected), except events the server
    // refused for now because of its rate limit: those go again later with the same ids
    const later = new Set<string | null>();
    for (const r of ack.rejected) {
      if (r.reason.startsWith(RATE_LIMITED)) later.add(r.id);
      else this.opts.warn(`[livetier] event rejected: ${r.reason}`, batch.find((e) => e.id === r.id) ?? r.id);
    }
    this.refresh();
    this.remove(new Set(batch.filter((e) => !later.has(e.id)).map((e) => e.id)));
    this.save();
    if (later.size) return this.schedule(this.opts.backoff(this.attempt++));
    this.attempt = 0;
    this.schedule(0);
  }

  /** the token bucket: `rate` events a second, `burst` at once */
  private allow(now: number): boolean {
    const { rate, burst } = this.opts;
    if (rate === Infinity) return true;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens--;
      this.dropping = false;
      return true;
    }
    if (!this.dropping) this.opts.warn(`[livetier] more than ${rate} events/s: dropping events`);
    this.dropping = true;
    return false;
  }

  /** re-reads the stored queue (other tabs add and send too); waiting flushes settle for what left */
  private refresh() {
    if (!this.persisting || !this.opts.storage || !this.opts.key) return;
    const stored = this.load();
    const ids = new Set(stored.map((e) => e.id));
    this.remove(new Set(this.events.filter((e) => !ids.has(e.id)).map((e) => e.id)));
    this.events = stored;
  }

  private remove(ids: Set<string>) {
    this.events = this.events.filter((e) => !ids.has(e.id));
    this.waiters = this.waiters.filter((w) => {
      for (const id of ids) w.ids.delete(id);
      if (w.ids.size) return true;
      w.resolve();
      return false;
    });
  }

  private load(): TrackEvent[] {
    const { storage, key } = this.opts;
    if (!this.persisting || !storage || !key) return this.events;
    try {
      const raw: unknown = JSON.parse(storage.getItem(key) ?? '[]');
      if (!Array.isArray(raw)) return [];
      return raw.filter(isStoredEvent).slice(-MAX_QUEUE);
    } catch {
      return [];
    }
  }

  private save() {
    const { storage, key } = this.opts;
    if (!this.persisting || !storage || !key) return;
    if (this.events.length) storage.setItem(key, JSON.stringify(this.events));
    else storage.removeItem(key);
  }
}

function isStoredEvent(e: unknown): e is TrackEvent {
  if (!e || typeof e !== 'object') return false;
  const { id, type, ts, data } = e as Record<string, unknown>;
  return (
    typeof id === 'string' &&
    ID_PATTERN.test(id) &&
    typeof type === 'string' &&
    typeof ts === 'number' &&
    (data === undefined || (typeof data === 'object' && data !== null && !Array.isArray(data)))
  );
}
