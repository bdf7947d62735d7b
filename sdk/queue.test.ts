// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ErrorAck, TrackAck, TrackEvent } from '../server/realtime/events.js';
import { EventQueue, MAX_BATCH, MAX_QUEUE, SEND_DELAY_MS, type QueueOptions } from './queue.js';
import type { KeyValueStore } from './storage.js';
import { timeOrderedId } from './ids.js';

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY = 'livetier:q:test';

function memoryStore(): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

const ok = (batch: TrackEvent[]): TrackAck => ({ accepted: batch.length, duplicates: 0, rejected: [] });

/** a fake server: records each batch and answers with `answer` (default: all accepted) */
function fakeSend(answer: (batch: TrackEvent[], call: number) => Promise<TrackAck | ErrorAck> = async (b) => ok(b)) {
  const batches: TrackEvent[][] = [];
  const send = vi.fn(async (batch: TrackEvent[]) => {
    batches.push(batch);
    return answer(batch, batches.length);
  });
  return { send, batches };
}

function queue(opts: Partial<QueueOptions> & Pick<QueueOptions, 'send'>) {
  return new EventQueue({ backoff: (n) => 1000 * 2 ** n, warn: () => {}, rate: Infinity, ...opts });
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-03-01T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ids', () => {
  it('gives every event a unique id the server accepts', () => {
    const q = queue({ send: fakeSend().send });
    const ids = Array.from({ length: 500 }, () => q.push('like')!.id);
    expect(new Set(ids).size).toBe(500);
    for (const id of ids) expect(id).toMatch(ID);
  });

  it('makes time-ordered ids', () => {
    const a = timeOrderedId(1_700_000_000_000);
    const b = timeOrderedId(1_700_000_000_001);
    const c = timeOrderedId(1_800_000_000_000);
    expect([c, a, b].sort()).toEqual([a, b, c]);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });

  it('shapes events as { id, type, ts, data? }', () => {
    const q = queue({ send: fakeSend().send });
    const withData = q.push('comment', { text: 'hi' });
    const without = q.push('like');
    expect(withData).toEqual({ id: expect.any(String), type: 'comment', ts: Date.now(), data: { text: 'hi' } });
    expect(without).not.toHaveProperty('data');
  });
});

describe('batching', () => {
  it('sends a burst as one batch shortly after the first track', async () => {
    const { send, batches } = fakeSend();
    const q = queue({ send });
    q.setOnline(true);
    q.push('like');
    q.push('comment', { text: 'a' });
    q.push('product_view', { sku: 'X' });
    expect(send).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(SEND_DELAY_MS);
    expect(batches.map((b) => b.map((e) => e.type))).toEqual([['like', 'comment', 'product_view']]);
    expect(q.pending).toEqual([]);
  });

  it(`sends at most ${MAX_BATCH} events per call`, async () => {
    const { send, batches } = fakeSend();
    const q = queue({ send });
    for (let i = 0; i < 120; i++) q.push('like');
    q.setOnline(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(new Set(batches.flat().map((e) => e.id)).size).toBe(120);
  });

  it('sends nothing while offline, then everything on connect', async () => {
    const { send, batches } = fakeSend();
    const q = queue({ send });
    q.push('like');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(send).not.toHaveBeenCalled();
    q.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toHaveLength(1);
  });
});

describe('acks', () => {
  it('removes accepted, duplicate and rejected events, warning once per rejected event', async () => {
    const warn = vi.fn();
    const { send } = fakeSend(async (b) => ({ accepted: 1, duplicates: 1, rejected: [{ id: b[2]!.id, reason: 'data.text must be at least 1 characters' }] }));
    const q = queue({ send, warn });
    q.setOnline(true);
    q.push('like');
    q.push('like');
    const bad = q.push('comment', { text: '' });
    await vi.advanceTimersByTimeAsync(SEND_DELAY_MS);
    expect(q.pending).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]!.join(' ')).toContain('data.text');
    expect(warn.mock.calls[0]).toContainEqual(bad);
    // a rejected event is never retried
    await vi.advanceTimersByTimeAsync(120_000);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('keeps events after a failed send and resends them with the same ids', async () => {
    const { send, batches } = fakeSend(async (b, call) => {
      if (call === 1) throw new Error('operation has timed out');
      if (call === 2) return { error: { code: 'unavailable', message: 'retry with the same ids' } };
      return ok(b);
    });
    const q = queue({ send });
    q.setOnline(true);
    const ids = [q.push('like')!.id, q.push('comment', { text: 'x' })!.id];
    await vi.advanceTimersByTimeAsync(SEND_DELAY_MS);
    expect(batches).toHaveLength(1);
    expect(q.pending.map((e) => e.id)).toEqual(ids);
    // backoff(0) = 1000 ms in this test
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(2);
    expect(q.pending).toHaveLength(2);
    // backoff(1) = 2000 ms
    await vi.advanceTimersByTimeAsync(2000);
    expect(batches).toHaveLength(3);
    for (const b of batches) expect(b.map((e) => e.id)).toEqual(ids);
    expect(q.pending).toEqual([]);
  });

  it('flush() resolves only once everything queued so far is acknowledged', async () => {
    let fail = true;
    const { send } = fakeSend(async (b) => {
      if (fail) throw new Error('down');
      return ok(b);
    });
    const q = queue({ send });
    q.setOnline(true);
    q.push('like');
    let done = false;
    const flushed = q.flush().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(send).toHaveBeenCalledTimes(1);
    expect(done).toBe(false);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    await flushed;
    expect(done).toBe(true);
    await expect(q.flush()).resolves.toBeUndefined();
  });

  it('close() rejects a waiting flush', async () => {
    const q = queue({ send: fakeSend().send });
    q.push('like');
    const flushed = q.flush();
    q.close();
    await expect(flushed).rejects.toThrow(/closed/);
  });
});

describe('persistence', () => {
  it('keeps pending events across a new queue with the same storage', async () => {
    const storage = memoryStore();
    const first = queue({ send: fakeSend().send, storage, key: KEY });
    const a = first.push('like');
    const b = first.push('add_to_cart', { sku: 'TEA', price: 12900, quantity: 2 });
    first.close();
    expect(JSON.parse(storage.map.get(KEY)!)).toHaveLength(2);

    const { send, batches } = fakeSend();
    const second = queue({ send, storage, key: KEY });
    expect(second.pending).toEqual([a, b]);
    second.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches[0]).toEqual([a, b]);
    expect(storage.map.has(KEY)).toBe(false);
  });

  it('ignores broken or foreign stored data', () => {
    const storage = memoryStore();
    storage.setItem(KEY, '{not json');
    expect(queue({ send: fakeSend().send, storage, key: KEY }).pending).toEqual([]);
    storage.setItem(KEY, JSON.stringify([{ id: 'has space', type: 'like', ts: 1 }, { id: 'ok', type: 'like', ts: 1 }, 42]));
    expect(queue({ send: fakeSend().send, storage, key: KEY }).pending.map((e) => e.id)).toEqual(['ok']);
  });

  it(`caps the queue at ${MAX_QUEUE} events, dropping the oldest`, async () => {
    const storage = memoryStore();
    const q = queue({ send: fakeSend().send, storage, key: KEY });
    const ids = Array.from({ length: MAX_QUEUE + 5 }, (_, i) => q.push('comment', { text: String(i) })!.id);
    expect(q.pending).toHaveLength(MAX_QUEUE);
    expect(q.pending[0]!.id).toBe(ids[5]);
    expect(q.pending.at(-1)!.id).toBe(ids.at(-1));
    expect(JSON.parse(storage.map.get(KEY)!)).toHaveLength(MAX_QUEUE);
  });

  it('a flush waiting on dropped events still resolves', async () => {
    const q = queue({ send: fakeSend().send });
    q.push('like');
    const flushed = q.flush();
    for (let i = 0; i < MAX_QUEUE; i++) q.push('like');
    await expect(flushed).resolves.toBeUndefined();
  });
});
