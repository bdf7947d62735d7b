/**
 * One tab at a time sends the shared queue: a lease in localStorage (`{ id, until }`) that its
 * holder renews each time it sends and gives up when the page goes away. A tab that closes
 * without giving it up (a crash) loses it when `until` passes, and another tab takes over.
 * When storage does not work, each tab holds its own (memory) lease and sends its own events.
 */
import type { KeyValueStore } from './storage.js';
import { randomUUID } from './ids.js';

/** how long a lease lasts without renewal: the longest a closed tab's events wait for another tab */
export const LOCK_TTL_MS = 5000;

export const lockKey = (stream: string) => `livetier:lock:${stream}`;

export class TabLock {
  readonly id = randomUUID();

  constructor(
    private readonly store: KeyValueStore,
    private readonly key: string,
    private readonly now: () => number = Date.now,
    readonly ttl = LOCK_TTL_MS,
  ) {}

  /** Takes or renews the lease; false while another tab holds a live one. */
  hold(): boolean {
    if (!this.free()) return false;
    this.store.setItem(this.key, JSON.stringify({ id: this.id, until: this.now() + this.ttl }));
    // two tabs may write at once: the one whose write stayed holds it
    return this.read()?.id === this.id;
  }

  /** No other tab holds a live lease. */
  free(): boolean {
    const cur = this.read();
    return !cur || cur.id === this.id || cur.until <= this.now();
  }

  /** Gives the lease up (only if this tab holds it), so another tab takes over at once. */
  release() {
    if (this.read()?.id === this.id) this.store.removeItem(this.key);
  }

  private read(): { id: string; until: number } | null {
    try {
      const v = JSON.parse(this.store.getItem(this.key) ?? 'null');
      return v && typeof v.id === 'string' && typeof v.until === 'number' ? v : null;
    } catch {
      return null;
    }
  }
}
