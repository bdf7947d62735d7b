import { describe, expect, it } from 'vitest';
import { MINUTE_MS, MINUTES_MAX, MinuteSeries, minuteOf } from './minutes.js';

const T0 = Date.UTC(2025, 4, 1, 12, 0, 0); // a minute's start
const at = (min: number, s = 0) => T0 + min * MINUTE_MS + s * 1000;

describe('MinuteSeries', () => {
  it('gives each minute its last watching count, and the orders and GMV recorded in it (a scripted stream)', () => {
    const m = new MinuteSeries();
    // minute 0: 3 join, 5 by its end, one order of ¥120
    m.add({ at: at(0, 5), connected: 3, orders: 0, gmv: 0 });
    m.add({ at: at(0, 30), connected: 6, orders: 1, gmv: 12_000 });
    m.add({ at: at(0, 59), connected: 5, orders: 1, gmv: 12_000 });
    // minute 1: two orders (¥80 + ¥50), 4 watching at its end
    m.add({ at: at(1, 10), connected: 5, orders: 2, gmv: 20_000 });
    m.add({ at: at(1, 40), connected: 4, orders: 3, gmv: 25_000 });
    // minutes 2 and 3: nothing changed; minute 4: the ¥80 order refunded, 2 watching
    m.add({ at: at(4, 1), connected: 2, orders: 3, gmv: 17_000 });
    expect(m.points()).toEqual([
      { t: at(0), watching: 5, orders: 1, gmv: 12_000 },
      { t: at(1), watching: 4, orders: 2, gmv: 13_000 },
      { t: at(2), watching: 4, orders: 0, gmv: 0 },
      { t: at(3), watching: 4, orders: 0, gmv: 0 },
      { t: at(4), watching: 2, orders: 0, gmv: -8_000 },
    ]);
    // the series adds up to the stream's totals
    const points = m.points();
    expect(points.reduce((a, p) => a + p.orders, 0)).toBe(3);
    expect(points.reduce((a, p) => a + p.gmv, 0)).toBe(17_000);
  });

  it('returns what a sample changed: its minute revised, the quiet minutes it fills in', () => {
    const m = new MinuteSeries();
    expect(m.add({ at: at(0, 1), connected: 1, orders: 0, gmv: 0 })).toEqual([{ t: at(0), watching: 1, orders: 0, gmv: 0 }]);
    expect(m.add({ at: at(0, 50), connected: 2, orders: 1, gmv: 900 })).toEqual([{ t: at(0), watching: 2, orders: 1, gmv: 900 }]);
    expect(m.add({ at: at(3, 0), connected: 2, orders: 1, gmv: 900 })).toEqual([
      { t: at(1), watching: 2, orders: 0, gmv: 0 },
      { t: at(2), watching: 2, orders: 0, gmv: 0 },
      { t: at(3), watching: 2, orders: 0, gmv: 0 },
    ]);
  });

  it('takes a late sample of an earlier minute in order, and recounts the minute after it', () => {
    const m = new MinuteSeries();
    m.add({ at: at(0), connected: 1, orders: 0, gmv: 0 });
    m.add({ at: at(2), connected: 3, orders: 2, gmv: 2_000 });
    // a stored point of minute 1 read back after the fact (another process's history)
    expect(m.add({ at: at(1, 30), connected: 2, orders: 1, gmv: 1_500 })).toEqual([
      { t: at(1), watching: 2, orders: 1, gmv: 1_500 },
      { t: at(2), watching: 3, orders: 1, gmv: 500 },
    ]);
    expect(m.points().map((p) => p.orders)).toEqual([0, 1, 1]);
  });

  it('counts what was recorded before the first sample in the first minute', () => {
    const m = new MinuteSeries();
    m.add({ at: at(7, 20), connected: 10, orders: 4, gmv: 40_000 });
    expect(m.points()).toEqual([{ t: at(7), watching: 10, orders: 4, gmv: 40_000 }]);
  });

  it('rebuilds the same series from its samples (what a restart or a report reads back)', () => {
    const m = new MinuteSeries();
    for (let i = 0; i < 30; i++) m.add({ at: at(i * 2, i % 60), connected: i % 7, orders: i, gmv: i * 1_000 });
    const copy = new MinuteSeries();
    for (const s of m.samples()) copy.add(s);
    expect(copy.points()).toEqual(m.points());
  });

  it('keeps the last day: one point per minute, MINUTES_MAX at most, the newest', () => {
    const m = new MinuteSeries();
    for (let i = 0; i < MINUTES_MAX + 100; i++) m.add({ at: at(i, 30), connected: 1, orders: i + 1, gmv: 0 });
    const points = m.points();
    expect(points).toHaveLength(MINUTES_MAX);
    expect(points[0]!.t).toBe(at(100));
    expect(points.at(-1)!.t).toBe(at(MINUTES_MAX + 99));
    // every kept minute still counts from the one before it
    expect(points.every((p) => p.orders === 1)).toBe(true);
    // a gap longer than a day fills in the last day only
    m.add({ at: at(MINUTES_MAX * 3), connected: 0, orders: MINUTES_MAX + 100, gmv: 0 });
    expect(m.points()).toHaveLength(MINUTES_MAX);
    expect(m.points()[0]!.t).toBe(at(MINUTES_MAX * 2 + 1));
  });

  it('puts a sample in the minute its time falls in', () => {
    expect(minuteOf(at(5, 59) + 999)).toBe(at(5));
    expect(minuteOf(at(6))).toBe(at(6));
  });
});
