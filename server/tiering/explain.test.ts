import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CATALOGUE, explainAll, explainText, pickLang, reason, REASON_LANGS, sameExplain, toExplain, type ReasonCode, type ReasonParams } from './explain.js';
import { TierModel } from './channel.js';
import { DEFAULT_TIER_RULES, type TierRulesDoc } from './rules.js';
import { emptyEngagement } from './model.js';
import type { ViewerState } from './state.js';

/** one or more parameter sets for every code: a code added to the catalogue without one fails below */
const SAMPLES: { [C in ReasonCode]: ReasonParams[C][] } = {
  'tier.high': [{ orders: 3, spend: 231_403, currency: 'CNY', windowDays: 90, minOrders: 2, minSpend: 100_000 }, { orders: 2, spend: 150_000, currency: 'USD', windowDays: 90, minOrders: 2, minSpend: 100_000, rank: 10 }],
  'tier.mid': [{ orders: 1, spend: 12_345, currency: 'CNY', windowDays: 180 }],
  'tier.toHigh.orders': [{ more: 1, windowDays: 90 }],
  'tier.toHigh.spend': [{ spend: 98_000, currency: 'CNY', windowDays: 90 }],
  'tier.noPurchase': [{ windowDays: 180 }, { windowDays: 365, needs: { tier: 'high', rule: { minEngagement: 3 } } }],
  'rfm.scores': [
    { recency: 5, frequency: 4, monetary: 5, orders: 3, spend: 50_000, currency: 'CNY', lookbackDays: 365, sinceDays: 0, needs: { tier: 'high', rule: { minRecency: 4, minFrequencyPlusMonetary: 8 } }, rank: 5 },
    { recency: 2, frequency: 1, monetary: 1, orders: 1, spend: 990, currency: 'JPY', lookbackDays: 365, sinceDays: 40 },
  ],
  'rfm.needs': [{ tier: 'high', rule: { minRecency: 4, minFrequencyPlusMonetary: 8 } }, { tier: 'mid', rule: {} }],
  'engagement.activity': [{ watchMinutes: 12, comments: 3, likes: 1, productViews: 0, addToCarts: 2 }],
  'engagement.score': [{ score: 1 }, { score: 3 }, { score: 5 }],
  'lifecycle.lapsed': [{ days: 200, lapsedDays: 180 }],
  'lifecycle.atRisk': [{ noVisitDays: 30 }, { abandonedCheckouts: 2, ignoredOffers: 3 }, { noVisitDays: 31, pAlive: 0.32, atRiskPAlive: 0.5 }],
  'lifecycle.new': [{ days: 0 }, { days: 1 }, { days: 3 }],
  'lifecycle.active': [{ days: 6 }],
  'crossSell.rule': [{ if: ['TEA-01'], then: ['CUP-02'], confidence: 0.65 }, { if: ['TEA-01', 'POT-01'], then: ['CUP-02'], confidence: 0.5 }],
  'segment.traits': [{ share: 0.15, gmvShare: 0.4, ordersPerMonth: 2.5, spendRatio: 2, recencyDays: 12 }, { share: 0.6, gmvShare: 0.2, ordersPerMonth: 0.25, spendRatio: 0.33, recencyDays: 40 }],
  text: [{ text: 'spent ¥500' }],
};

const HAN = /[\u4e00-\u9fff]/;
const BROKEN = /undefined|NaN|null|\[object/;

describe('the reason catalogue', () => {
  it('has words for every code in both languages, and a sample of each here', () => {
    const codes = Object.keys(SAMPLES).sort();
    for (const lang of REASON_LANGS) expect(Object.keys(CATALOGUE[lang].text).sort()).toEqual(codes);
  });

  it.each(Object.keys(SAMPLES) as ReasonCode[])('%s reads in English and in Chinese, with every number', (code) => {
    for (const params of SAMPLES[code] as ReasonParams[ReasonCode][]) {
      const e = reason(code, params as never);
      const en = explainText(e, 'en');
      const zh = explainText(e, 'zh-CN');
      for (const text of [en, zh]) {
        expect(text.length).toBeGreaterThan(3);
        expect(text).not.toMatch(BROKEN);
      }
      if (code === 'text') {
        expect(zh).toBe(en); // written before codes: as it was
        continue;
      }
      expect(zh).toMatch(HAN);
      expect(en).not.toMatch(HAN);
      for (const [k, v] of Object.entries(params)) {
        if (typeof v === 'number' && v > 1 && !['spend', 'minSpend'].includes(k)) {
          expect(en, `${code}.${k}`).toContain(String(v));
          expect(zh, `${code}.${k}`).toContain(String(v));
        }
      }
    }
  });

  it('words in English exactly as the tier model always has', () => {
    expect(explainAll(SAMPLES['tier.high'].map((p) => reason('tier.high', p)))).toEqual([
      '3 verified orders, ¥2,314.03 in 90 days (high needs 2+ orders and ¥1,000+)',
      '2 verified orders, $1,500 in 90 days (high needs 2+ orders and $1,000+) — top 10% of spenders',
    ]);
    expect(explainText(reason('rfm.scores', SAMPLES['rfm.scores'][0]!))).toBe(
      'R 5 · F 4 · M 5: 3 verified orders, ¥500 in 365 days, last today (high needs R≥4 and F+M≥8) — top 5% of spenders',
    );
    expect(explainText(reason('rfm.needs', { tier: 'mid', rule: {} }))).toBe('mid needs any purchase');
    expect(explainAll(SAMPLES['segment.traits'].map((p) => reason('segment.traits', p)))).toEqual([
      '15% of buyers, 40% of GMV: buy 2.5 times a month, spend 2× the average, last bought 12 days ago',
      '60% of buyers, 20% of GMV: buy about every 4 months, spend 0.33× the average, last bought 40 days ago',
    ]);
    expect(explainText(reason('lifecycle.atRisk', { abandonedCheckouts: 2, ignoredOffers: 3 }))).toBe('at risk: 2 abandoned checkouts in a row, last 3 offers ignored');
  });

  it('words money and days for Chinese readers', () => {
    expect(explainText(reason('tier.high', SAMPLES['tier.high'][0]!), 'zh-CN')).toBe('90 天内 3 笔已核实订单，消费 ¥2,314.03（高价值需 2 笔以上且 ¥1,000 以上）');
    expect(explainText(reason('lifecycle.new', { days: 0 }), 'zh-CN')).toBe('新观众：今天首次出现');
    expect(explainText(reason('lifecycle.new', { days: 3 }), 'zh-CN')).toBe('新观众：3 天前首次出现');
    expect(explainText(reason('rfm.needs', SAMPLES['rfm.needs'][0]!), 'zh-CN')).toBe('高价值需 R≥4 且 F+M≥8');
  });

  it('shows a code it does not know (a newer server wrote it) as the code, never throws', () => {
    expect(explainText({ code: 'predicted.clv', params: { clv: 1 } } as never, 'zh-CN')).toBe('predicted.clv');
    expect(explainText({ code: 'tier.mid' } as never, 'en')).not.toMatch(/^$/);
  });

  it('reads stored lists: codes as they are, strings written before codes as `text`', () => {
    expect(toExplain(['3 verified orders', { code: 'lifecycle.new', params: { days: 0 } }])).toEqual([
      { code: 'text', params: { text: '3 verified orders' } },
      { code: 'lifecycle.new', params: { days: 0 } },
    ]);
    expect(toExplain(null)).toEqual([]);
    expect(sameExplain([reason('lifecycle.new', { days: 0 })], [reason('lifecycle.new', { days: 0 })])).toBe(true);
    expect(sameExplain([reason('lifecycle.new', { days: 0 })], [reason('lifecycle.new', { days: 1 })])).toBe(false);
  });
});

describe('pickLang', () => {
  it('takes ?lang first, then Accept-Language by q, else English', () => {
    expect(pickLang('zh-CN', 'en')).toBe('zh-CN');
    expect(pickLang('en', 'zh-CN')).toBe('en');
    expect(pickLang('ZH-hans', undefined)).toBe('zh-CN');
    expect(pickLang(undefined, undefined)).toBe('en');
    expect(pickLang(undefined, 'zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-CN');
    expect(pickLang(undefined, 'fr-FR, en;q=0.5, zh;q=0.7')).toBe('zh-CN');
    expect(pickLang(undefined, 'fr, de;q=0.5')).toBe('en');
    expect(pickLang(undefined, 'zh;q=0, en-GB')).toBe('en');
    expect(pickLang(undefined, '*')).toBe('en');
  });
  it('a language asked for by name that has no words is the caller’s mistake', () => {
    expect(pickLang('fr', 'zh-CN')).toBeNull();
    expect(pickLang('', undefined)).toBeNull();
  });
});

describe('every reason the tier model gives has words in both languages', () => {
  const DAY = 86_400_000;
  const NOW = Date.UTC(2026, 4, 1);
  const docs: TierRulesDoc[] = [
    DEFAULT_TIER_RULES,
    { ...DEFAULT_TIER_RULES, mode: 'scores', minBuyers: 3 },
    { ...DEFAULT_TIER_RULES, mode: 'scores', minBuyers: 3, scores: { high: { minEngagement: 3 }, mid: { minFrequency: 2, minMonetary: 2 } } },
  ];
  const state = fc.record({
    purchases: fc.array(fc.record({ amount: fc.integer({ min: 0, max: 500_000 }), ago: fc.integer({ min: 0, max: 400 }) }), { maxLength: 6 }),
    watchMin: fc.integer({ min: 0, max: 200 }),
    comments: fc.integer({ min: 0, max: 30 }),
    firstAgo: fc.integer({ min: 0, max: 300 }),
    seenAgo: fc.integer({ min: 0, max: 60 }),
    checkouts: fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 3 }),
  });
  it.each(docs.map((d, i) => [i, d] as const))('rules %i', (_i, doc) => {
    const model = new TierModel(doc);
    fc.assert(
      fc.property(fc.array(state, { minLength: 1, maxLength: 8 }), (viewers) => {
        viewers.forEach((v, n) => {
          const seen = Math.min(v.firstAgo, v.seenAgo);
          const s: ViewerState = {
            purchases: v.purchases.map((p, k) => ({ orderId: `o${k}`, amount: p.amount, at: NOW - p.ago * DAY })),
            ...emptyEngagement(), watchMs: v.watchMin * 60_000, comments: v.comments,
            engWeighted: v.comments,
            firstSeenAt: NOW - v.firstAgo * DAY,
            lastSeenAt: NOW - seen * DAY,
            checkouts: v.checkouts.map((d) => NOW - d * DAY),
            offers: [],
          };
          const ev = model.assess(`v${n}`, s, NOW);
          expect(explainAll(ev.explain, 'en')).toEqual(ev.reasons);
          for (const text of [...ev.reasons, ...explainAll(ev.explain, 'zh-CN')]) expect(text).not.toMatch(BROKEN);
          for (const text of explainAll(ev.explain, 'zh-CN')) expect(text).toMatch(HAN);
          expect(JSON.parse(JSON.stringify(ev.explain))).toEqual(ev.explain); // stored as JSON, read back the same
        });
      }),
      { numRuns: 60 },
    );
  });
});
