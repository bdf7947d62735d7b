import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../store/sqlite/index.js';
import { Engine } from '../engine.js';
import type { Store } from '../store/types.js';
import { DISTRIBUTION_MAX_AGE_MS, DISTRIBUTION_REFRESH_MS } from './tiering.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 15, 12);
const BUYERS = 80;

function buy(store: Store, viewerId: string, orderId: string, amount: number, at: number) {
  return store.recordPurchase({
    purchase: { channel: 'shop', orderId, streamId: 's1', viewerId, amount, currency: 'CNY', items: null, couponCode: null, at, createdAt: at },
    now: at,
  });
}

const id = (i: number) => `b${String(i).padStart(2, '0')}`;

/**
 * 80 buyers of the default rules (365-day lookback, quantiles from 50 buyers): buyer i bought
 * 4·i days before T0, the even ones also 60 days before that; so 120 days later the old orders of
 * the even buyers from i = 47 on have left the window, and every order of buyers from i = 62 on.
 */
async function setup() {
  const store = openSqliteStore(':memory:');
  await store.createStream({ id: 's1', channel: 'shop', title: 'Live', allowedOrigins: [], hostKeyHash: 'h', ingestKeyHash: 'i', createdAt: T0 - 400 * DAY }, 'secret');
  for (let i = 0; i < BUYERS; i++) {
    await buy(store, id(i), `o${i}`, 1_000 * (i + 1), T0 - 4 * i * DAY);
    if (i % 2 === 0) await buy(store, id(i), `p${i}`, 7_000 * (i + 1), T0 - (4 * i + 60) * DAY);
  }
  const clock = { now: T0 };
  const engine = new Engine(store, () => clock.now);
  return { store, engine, clock };
}

/** the cut points a model built now, from the store alone, would have */
async function freshCuts(store: Store, now: number) {
  const other = new Engine(store, () => now);
  const m = await other.tiering.model('shop');
  return { cuts: m.cuts(now), buyers: m.buyers };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('background refresh of the channel distributions', () => {
  it('after time passes with no events, a refresh gives the cut points of a recount', async () => {
    const { store, engine, clock } = await setup();
    const model = await engine.tiering.model('shop');
    expect(model.buyers).toBe(BUYERS);
    expect(model.cuts(T0)).toEqual((await freshCuts(store, T0)).cuts);

    clock.now = T0 + 120 * DAY;
    const fresh = await freshCuts(store, clock.now);
    expect(fresh.buyers).toBe(62);
    expect(fresh.cuts.source).toBe('quantiles');
    // stale: buyers who stopped coming still count with orders that left the window
    expect(model.cuts(clock.now)).not.toEqual(fresh.cuts);

    expect(await engine.tiering.refreshDistributions()).toEqual(['shop']);
    expect(model.buyers).toBe(fresh.buyers);
    expect(model.cuts(clock.now)).toEqual(fresh.cuts);
    expect(model.entry(id(70))).toBeNull();
    expect(model.entry(id(50))).toMatchObject({ orders: 1 });
    await engine.close();
  });

  it('refreshes a channel only when the day changed or its registry is old, one channel per call', async () => {
    const { store, engine, clock } = await setup();
    await store.createStream({ id: 's2', channel: 'other', title: 'Live', allowedOrigins: [], hostKeyHash: 'h2', ingestKeyHash: 'i2', createdAt: T0 }, 'secret');
    const start = Date.UTC(2026, 0, 15, 0, 10); // early in a UTC day, so the hours below stay in it
    clock.now = start;
    await engine.tiering.model('shop');
    await engine.tiering.model('other');
    expect(await engine.tiering.refreshDistributions()).toEqual([]); // both read just now
    clock.now = start + DISTRIBUTION_MAX_AGE_MS - 1;
    expect(await engine.tiering.refreshDistributions()).toEqual([]);
    clock.now = start + DISTRIBUTION_MAX_AGE_MS;
    // both are due: one per call, round-robin
    expect(await engine.tiering.refreshDistributions()).toEqual(['shop']);
    expect(await engine.tiering.refreshDistributions()).toEqual(['other']);
    expect(await engine.tiering.refreshDistributions()).toEqual([]);
    clock.now = Date.UTC(2026, 0, 16, 0, 0); // the next day, less than the age limit later
    expect(await engine.tiering.refreshDistributions(2)).toEqual(['shop', 'other']);
    await engine.close();
  });

  it("keeps cached connected viewers' own values, and re-reads the others from the store", async () => {
    const { store, engine, clock } = await setup();
    const model = await engine.tiering.model('shop');
    await engine.join('s1', id(0), true); // cached, connected: 2 orders
    expect(engine.tiering.cached('shop', id(0))?.streams.size).toBe(1);
    expect(model.entry(id(0))).toMatchObject({ orders: 2 });
    // orders the store has but this process did not see (e.g. written by another process)
    await buy(store, id(0), 'x0', 5_000, T0 + 1_000);
    await buy(store, id(1), 'x1', 5_000, T0 + 1_000);
    clock.now = T0 + DAY;
    expect(await engine.tiering.refreshDistributions()).toEqual(['shop']);
    expect(model.entry(id(0))).toMatchObject({ orders: 2 }); // the profile's values, not the store's
    expect(model.entry(id(1))).toMatchObject({ orders: 2, day: Math.floor((T0 + 1_000) / DAY) });
    await engine.close();
  });

  it('does not register again a viewer erased while the refresh query ran', async () => {
    const { store, engine, clock } = await setup();
    const model = await engine.tiering.model('shop');
    clock.now = T0 + DAY;
    const buyers = store.buyers.bind(store);
    let erase: Promise<void> | null = null;
    vi.spyOn(store, 'buyers').mockImplementation(async (...args) => {
      const rows = await buyers(...args);
      erase = engine.tiering.forget('shop', id(3)); // lands while the query's result is on its way
      await erase;
      return rows;
    });
    await engine.tiering.refreshDistributions();
    expect(erase).not.toBeNull();
    expect(model.entry(id(3))).toBeNull();
    expect(model.entry(id(4))).not.toBeNull();
    await engine.close();
  });

  it('Engine.start runs the refresh every minute until close; errors go to onError', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const store = openSqliteStore(':memory:');
    const errors: unknown[] = [];
    const engine = new Engine(store, () => T0, undefined, (err) => errors.push(err));
    const refresh = vi.spyOn(engine.tiering, 'refreshDistributions').mockRejectedValue(new Error('db gone'));
    await engine.start();
    expect(DISTRIBUTION_REFRESH_MS).toBe(60_000);
    await vi.advanceTimersByTimeAsync(DISTRIBUTION_REFRESH_MS);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('db gone');
    await engine.close();
    await vi.advanceTimersByTimeAsync(3 * DISTRIBUTION_REFRESH_MS);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});
