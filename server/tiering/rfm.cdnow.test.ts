/**
 * Reference check of the RFM quintile convention on a published example: the CDNOW sample
 * (Fader, Hardie & Lee; /work/shared/data/cdnow), its first 10 customers, scored as of 1998-07-01.
 * Convention: 20/40/60/80% nearest-rank cut points, bins right-closed, recency reversed.
 *
 *   customer (sample id)  0001 0002 0003 0004 0005 0006   0007 0008 0009  0010
 *   days since last buy   201  534  546  546  546  11     511  116  140   546
 *   purchases             4    2    1    1    1    16     2    3    5     1
 *   spend (cents)         10050 7511 679 1397 2394 110704 2354 5967 12493 3032
 *
 * Cut points (2nd, 4th, 6th and 8th smallest of 10): recency 116/201/534/546 days, frequency 1/1/2/4,
 * monetary $13.97/$23.94/$59.67/$100.50. With four customers tied at 546 days, recency scores 5,4,3
 * take two customers each and the four tied ones score 2 (none scores 1); frequency 1 takes the four
 * one-time buyers and no one scores 2 (2 purchases exceed the cut points 1, 1 but not 2: score 3).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TierModel } from './channel.js';
import { DEFAULT_TIER_RULES } from './rules.js';
import { exactCuts, scoreRecency, scoreUp, daysBetween, type RfmValues } from './rfm.js';

const NOW = Date.UTC(1998, 6, 1);

function loadFirstTen(): Map<string, RfmValues> {
  const out = new Map<string, RfmValues>();
  for (const line of readFileSync('/work/shared/data/cdnow/CDNOW_sample.txt', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || Number(f[1]) > 10) continue;
    const d = f[2]!;
    const at = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
    const cents = Math.round(Number(f[4]) * 100);
    const v = out.get(f[1]!) ?? { orders: 0, spend: 0, lastAt: 0 };
    out.set(f[1]!, { orders: v.orders + 1, spend: v.spend + cents, lastAt: Math.max(v.lastAt, at) });
  }
  return out;
}

const segments = (scores: number[]) => [1, 2, 3, 4, 5].map((s) => scores.filter((x) => x === s).length);

describe('RFM quintiles on the CDNOW sample (first 10 customers)', () => {
  const data = loadFirstTen();
  const values = [...data.values()];

  it('reads the published rows as expected', () => {
    expect(data.size).toBe(10);
    expect(values.map((v) => daysBetween(v.lastAt, NOW))).toEqual([201, 534, 546, 546, 546, 11, 511, 116, 140, 546]);
    expect(values.map((v) => v.orders)).toEqual([4, 2, 1, 1, 1, 16, 2, 3, 5, 1]);
    expect(values.map((v) => v.spend)).toEqual([10050, 7511, 679, 1397, 2394, 110704, 2354, 5967, 12493, 3032]);
  });

  it('exact cut points and segment counts', () => {
    const r = exactCuts(values.map((v) => daysBetween(v.lastAt, NOW)));
    const f = exactCuts(values.map((v) => v.orders));
    const m = exactCuts(values.map((v) => v.spend));
    expect(r).toEqual([116, 201, 534, 546]);
    expect(f).toEqual([1, 1, 2, 4]);
    expect(m).toEqual([1397, 2394, 5967, 10050]);
    expect(segments(values.map((v) => scoreRecency(daysBetween(v.lastAt, NOW), r)))).toEqual([0, 4, 2, 2, 2]);
    expect(segments(values.map((v) => scoreUp(v.orders, f)))).toEqual([4, 0, 2, 2, 2]);
    expect(segments(values.map((v) => scoreUp(v.spend, m)))).toEqual([2, 2, 2, 2, 2]);
  });

  it('the channel model (the incremental histogram) gives the same segments', () => {
    const model = new TierModel({ ...DEFAULT_TIER_RULES, minBuyers: 10 });
    for (const [id, v] of data) model.register(id, v);
    const cuts = model.cuts(NOW);
    expect(cuts).toMatchObject({ source: 'quantiles', buyers: 10, recency: [116, 201, 534, 546], frequency: [1, 1, 2, 4] });
    // monetary cut points are bucket bounds within 1% of the exact ones
    cuts.monetary.forEach((c, i) => expect(Math.abs(c - [1397, 2394, 5967, 10050][i]!) / c).toBeLessThan(0.01));
    const s = values.map((v) => model.scoreRfm(v, NOW));
    expect(segments(s.map((x) => x.recency!))).toEqual([0, 4, 2, 2, 2]);
    expect(segments(s.map((x) => x.frequency!))).toEqual([4, 0, 2, 2, 2]);
    expect(segments(s.map((x) => x.monetary!))).toEqual([2, 2, 2, 2, 2]);
    // customer 0006 (16 orders, $1,107.04, 11 days ago) is a 5-5-5; 0003 ($6.79 once, 546 days ago) a 2-1-1
    expect(model.scoreRfm(data.get('0006')!, NOW)).toEqual({ recency: 5, frequency: 5, monetary: 5 });
    expect(model.scoreRfm(data.get('0003')!, NOW)).toEqual({ recency: 2, frequency: 1, monetary: 1 });
  });

  it('below minBuyers the fixed cut points apply', () => {
    const model = new TierModel(DEFAULT_TIER_RULES); // minBuyers 50
    for (const [id, v] of data) model.register(id, v);
    expect(model.cuts(NOW)).toMatchObject({ source: 'absolute', buyers: 10, recency: [7, 30, 90, 180] });
    // 0006: 11 days (≤ 30 → 4), 16 orders (> 5 → 5), $1,107.04 (> ¥1,000 → 4)
    expect(model.scoreRfm(data.get('0006')!, NOW)).toEqual({ recency: 4, frequency: 5, monetary: 4 });
  });
});
