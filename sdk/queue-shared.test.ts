// @vitest-environment happy-dom
/**
 * The queue shared by tabs (the lock), the storage fallback, consent, the rate limit and
 * Retry-After. Two queues over one store play two tabs of the same page.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ErrorAck, TrackAck, TrackEvent } from '../server/realtime/events.js';
import { EventQueue, BURST, RATE_PER_S, type QueueOptions } from './queue.js';
import { safeStorage, type KeyValueStore } from './storage.js';
import { TabLock, LOCK_TTL_MS } from './lock.js';
import { beaconBodies, BEACON_BYTES, retryAfterMs } from './beacon.js';

const KEY = 'livetier:q:s1';
const LOCK = 'livetier:lock:s1';

function memoryStore(): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

const ok = (batch: TrackEvent[]): TrackAck => ({ accepted: batch.length, duplicates: 0, rejected: [] });

function fakeSend(answer: (batch: TrackEvent[], call: number) => Promise<TrackAck | (ErrorAck & { retryAfterMs?: number })> = async (b) => ok(b)) {
  const batches: TrackEvent[][] = [];
  const send = vi.fn(async (batch: TrackEvent[]) => {
    batches.push(batch);
    return answer(batch, batches.length);
  });
  return { send, batches };
}

const queue = (opts: Partial<QueueOptions> & Pick<QueueOptions, 'send'>) =>
  new EventQueue({ backoff: (n) => 1000 * 2 ** n, warn: () => {}, rate: Infinity, ...opts });

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-03-01T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  localStorage.clear();
});

describe('one tab sends the shared queue', () => {
  it('only the lock holder sends; the other tab\'s events travel in its batches', async () => {
    const store = memoryStore();
    const a = fakeSend();
    const b = fakeSend();
    const tabA = queue({ send: a.send, storage: store, key: KEY, lock: new TabLock(store, LOCK) });
    const tabB = queue({ send: b.send, storage: store, key: KEY, lock: new TabLock(store, LOCK) });
    tabA.setOnline(true);
    const first = tabA.push('like')!;
    await vi.advanceTimersByTimeAsync(100);
    expect(a.batches).toEqual([[first]]);

    tabB.setOnline(true);
    const fromB = tabB.push('comment', { text: 'from tab B' })!;
    await vi.advanceTimersByTimeAsync(100);
    // B sees A's live lease and leaves the send to A, which learns of the change (a storage event)
    expect(b.send).not.toHaveBeenCalled();
    expect(tabA.pending.map((e) => e.id)).toEqual([fromB.id]);
    tabA.changedElsewhere();
    await vi.advanceTimersByTimeAsync(0);
    expect(a.batches[1]).toEqual([fromB]);
    expect(store.map.has(KEY)).toBe(false);
    // B's flush resolves once A's ack removed its event from the shared queue
    await expect(tabB.flush()).resolves.toBeUndefined();
  });

  it('takes over a closed tab\'s events once its lease lapses', async () => {
    const store = memoryStore();
    const gone = fakeSend(() => new Promise(() => {})); // a tab that took the lease, then died mid-send
    const tabA = queue({ send: gone.send, storage: store, key: KEY, lock: new TabLock(store, LOCK) });
    tabA.setOnline(true);
    const ev = tabA.push('like')!;
    await vi.advanceTimersByTimeAsync(100);
    expect(gone.batches).toHaveLength(1);

    const b = fakeSend();
    const tabB = queue({ send: b.send, storage: store, key: KEY, lock: new TabLock(store, LOCK) });
    tabB.setOnline(true);
    await vi.advanceTimersByTimeAsync(LOCK_TTL_MS - 200);
    expect(b.send).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(LOCK_TTL_MS);
    expect(b.batches).toEqual([[ev]]);
    expect(store.map.has(KEY)).toBe(false);
  });

  it('a released lease is taken at once', async () => {
    const store = memoryStore();
    const lockA = new TabLock(store, LOCK);
    expect(lockA.hold()).toBe(true);
    const lockB = new TabLock(store, LOCK);
    expect(lockB.hold()).toBe(false);
    expect(lockB.free()).toBe(false);
    lockA.release();
    expect(lockB.hold()).toBe(true);
    // releasing a lease one does not hold changes nothing
    lockA.release();
    expect(lockA.free()).toBe(false);
  });
});

describe('storage fallback', () => {
  it('keeps events in memory when localStorage throws, and still sends them', async () => {
    const spy = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    const store = safeStorage();
    const { send, batches } = fakeSend();
    const q = queue({ send, storage: store, key: KEY, lock: new TabLock(store, LOCK) });
    const ev = q.push('like')!;
    expect(q.pending).toEqual([ev]);
    expect(localStorage.getItem(KEY)).toBeNull();
    q.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[ev]]);
    expect(q.pending).toEqual([]);
    spy.mockRestore();
  });

  it('a failed write never resurfaces an older stored queue', () => {
    const store = safeStorage();
    store.setItem(KEY, '["old"]');
    const spy = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    store.setItem(KEY, '["new"]');
    expect(store.getItem(KEY)).toBe('["new"]');
    spy.mockRestore();
    // and reads see other tabs' writes again once a write here works
    store.setItem(KEY, '["mine"]');
    localStorage.setItem(KEY, '["other tab"]');
    expect(store.getItem(KEY)).toBe('["other tab"]');
  });
});

describe('consent', () => {
  it('persist: false keeps everything in memory; persist(true) writes it', () => {
    const store = memoryStore();
    const q = queue({ send: fakeSend().send, storage: store, key: KEY, persist: false });
    const ev = q.push('like')!;
    expect(store.map.size).toBe(0);
    q.persist(true);
    expect(JSON.parse(store.map.get(KEY)!)).toEqual([ev]);
  });

  it('clear() forgets memory and storage, and resolves waiting flushes', async () => {
    const store = memoryStore();
    const q = queue({ send: fakeSend().send, storage: store, key: KEY });
    q.push('like');
    const flushed = q.flush();
    q.clear();
    await expect(flushed).resolves.toBeUndefined();
    expect(q.pending).toEqual([]);
    expect(store.map.has(KEY)).toBe(false);
  });
});

describe('rate limit', () => {
  it(`lets a burst of ${BURST} through, then about ${RATE_PER_S} a second`, () => {
    const warn = vi.fn();
    const q = new EventQueue({ send: fakeSend().send, warn });
    const burst = Array.from({ length: BURST + 20 }, () => q.push('like'));
    expect(burst.filter(Boolean)).toHaveLength(BURST);
    expect(warn).toHaveBeenCalledTimes(1); // once per flood, not per event
    vi.advanceTimersByTime(1000);
    const next = Array.from({ length: 30 }, () => q.push('like'));
    expect(next.filter(Boolean)).toHaveLength(RATE_PER_S);
    expect(q.pending).toHaveLength(BURST + RATE_PER_S);
  });
});

describe('Retry-After', () => {
  it('waits at least what the server asked before resending', async () => {
    const { send, batches } = fakeSend(async (b, call) =>
      call === 1 ? { error: { code: 'unavailable', message: 'busy' }, retryAfterMs: 30_000 } : ok(b),
    );
    const q = queue({ send });
    q.setOnline(true);
    q.push('like');
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toHaveLength(1);
    // backoff alone would retry after 1 s
    await vi.advanceTimersByTimeAsync(29_000);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toHaveLength(2);
    expect(q.pending).toEqual([]);
  });

  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('5')).toBe(5000);
    expect(retryAfterMs(new Date(Date.now() + 7000).toUTCString())).toBeGreaterThan(5000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs('soon')).toBe(1000);
  });

  it('pause() holds sends, settle() removes what the beacon\'s answer acknowledged', async () => {
    const { send, batches } = fakeSend();
    const q = queue({ send });
    q.pause(5000);
    q.setOnline(true);
    const a = q.push('like')!;
    const b = q.push('like')!;
    q.settle([a.id]);
    await vi.advanceTimersByTimeAsync(4900);
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(batches).toEqual([[b]]);
  });
});

describe("the server's rate limit", () => {
  it('keeps events rejected as rate_limited and resends them later with the same ids', async () => {
    const warn = vi.fn();
    const { send, batches } = fakeSend(async (b, call) =>
      call === 1
        ? { accepted: 1, duplicates: 0, rejected: [{ id: b[1]!.id, reason: 'rate_limited: more than 50 events per second on this connection' }] }
        : ok(b),
    );
    const q = queue({ send, warn });
    q.setOnline(true);
    const [a, b] = [q.push('like')!, q.push('like')!];
    await vi.advanceTimersByTimeAsync(100);
    expect(q.pending).toEqual([b]);
    expect(warn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches.map((x) => x.map((e) => e.id))).toEqual([[a.id, b.id], [b.id]]);
    expect(q.pending).toEqual([]);
  });
});

describe('beacon bodies', () => {
  const auth = { streamId: 's1', viewerId: 'v_1' };
  const ev = (i: number, text = 'x'): TrackEvent => ({ id: `e${i}`, type: 'comment', ts: 1, data: { text } });

  it('one body when small, with the handshake\'s stream, viewer and token', () => {
    const parts = beaconBodies({ ...auth, token: 'tok' }, [ev(1), ev(2)]);
    expect(parts).toHaveLength(1);
    expect(JSON.parse(parts[0]!.body)).toEqual({ streamId: 's1', viewerId: 'v_1', token: 'tok', events: [ev(1), ev(2)] });
    expect(parts[0]!.ids).toEqual(['e1', 'e2']);
  });

  it(`splits bodies to stay under ${BEACON_BYTES} bytes, counting UTF-8 bytes`, () => {
    const events = Array.from({ length: 400 }, (_, i) => ev(i, '直播'.repeat(100))); // 600 bytes of text each
    const parts = beaconBodies(auth, events);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(new TextEncoder().encode(p.body).length).toBeLessThanOrEqual(BEACON_BYTES);
    expect(parts.flatMap((p) => p.ids)).toEqual(events.map((e) => e.id));
  });

  it('leaves out an event too large to send on its own', () => {
    const parts = beaconBodies(auth, [ev(1), ev(2, 'x'.repeat(BEACON_BYTES))], 1000);
    expect(parts.flatMap((p) => p.ids)).toEqual(['e1']);
  });
});
