/**
 * The event queue: ids, batching, persistence and retries. It knows nothing about sockets: it
 * receives a `send(batch)` function, and is told when sending is possible (`setOnline`).
 *
 * Every event gets its id once, when tracked; a retry re-sends the same ids, so the server's
 * dedup makes delivery exactly-once from the merchant's point of view.
 */
import type { EventType, TrackAck, ErrorAck, TrackEvent } from '../server/realtime/events.js';
import type { KeyValueStore } from './storage.js';
import { backoff as defaultBackoff } from './backoff.js';
import { timeOrderedId } from './ids.js';

/** events per `track` call (the server takes up to 500; small batches keep acks quick) */
export const MAX_BATCH = 50;
/** pending events kept; beyond it the oldest are dropped */
export const MAX_QUEUE = 1000;
/** how long `push` waits for company before sending, so a burst travels as one batch */
export const SEND_DELAY_MS = 100;

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export type Send = (batch: TrackEvent[]) => Promise<TrackAck | ErrorAck>;

export interface QueueOptions {
  send: Send;
  /** where pending events survive reloads; none: memory only */
  storage?: KeyValueStore;
  /** storage key, one per stream */
  key?: string;
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
  private saveQueued = false;
  private readonly opts: Required<Omit<QueueOptions, 'storage' | 'key'>> & Pick<QueueOptions, 'storage' | 'key'>;

  constructor(options: QueueOptions) {
    this.opts = {
      delayMs: SEND_DELAY_MS,
      backoff: defaultBackoff,
      now: () => Date.now(),
      id: timeOrderedId,
      warn: (...args) => console.warn(...args),
      ...options,
    };
    this.events = this.load();
  }

  /** Events not yet acknowledged, oldest first (a copy). */
  get pending(): TrackEvent[] {
    return this.events.slice();
  }

  /** Queues one event and returns it; it is sent shortly, or as soon as sending is possible. */
  push(type: EventType, data?: Record<string, unknown>): TrackEvent {
    const ts = this.opts.now();
    const event: TrackEvent = data === undefined ? { id: this.opts.id(ts), type, ts } : { id: this.opts.id(ts), type, ts, data };
    this.events.push(event);
    if (this.events.length > MAX_QUEUE) this.remove(new Set(this.events.slice(0, this.events.length - MAX_QUEUE).map((e) => e.id)));
    this.saveSoon();
    this.schedule(this.opts.delayMs);
    return event;
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
    const ids = new Set(this.events.map((e) => e.id));
    if (!ids.size) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ ids, resolve, reject }));
    this.schedule(0);
    return done;
  }

  /** Stops sending. Pending events stay in storage for the next page; waiting flushes reject. */
  close() {
    if (this.saveQueued) this.save();
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
    if (this.closed || this.sending || !this.online || !this.events.length) return;
    const batch = this.events.slice(0, MAX_BATCH);
    this.sending = true;
    let ack: TrackAck | ErrorAck | null;
    try {
      ack = await this.opts.send(batch);
    } catch {
      ack = null; // timeout, disconnect
    } finally {
      this.sending = false;
    }
    if (this.closed) return;
    if (!ack || 'error' in ack || !Array.isArray(ack.rejected)) {
      // keep the events; the same ids go again later
      this.schedule(this.opts.backoff(this.attempt++));
      return;
    }
    this.attempt = 0;
    // one ack settles the whole batch: every event is counted accepted, duplicate or rejected
    for (const r of ack.rejected) {
      const event = batch.find((e) => e.id === r.id);
      this.opts.warn(`[livetier] event rejected: ${r.reason}`, event ?? r.id);
    }
    this.remove(new Set(batch.map((e) => e.id)));
    this.saveSoon();
    this.schedule(0);
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
    if (!storage || !key) return [];
    try {
      const raw: unknown = JSON.parse(storage.getItem(key) ?? '[]');
      if (!Array.isArray(raw)) return [];
      return raw.filter(isStoredEvent).slice(-MAX_QUEUE);
    } catch {
      return [];
    }
  }

  /** one write per burst: a microtask still runs before the page can unload */
  private saveSoon() {
    if (this.saveQueued || !this.opts.storage || !this.opts.key) return;
    this.saveQueued = true;
    queueMicrotask(() => this.saveQueued && this.save());
  }

  private save() {
    this.saveQueued = false;
    const { storage, key } = this.opts;
    if (!storage || !key) return;
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
