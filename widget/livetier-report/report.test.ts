// @vitest-environment happy-dom
/**
 * The report page's sections from a fixed report (no server): numbers and shares in the page's
 * locale, the stream's length, the campaigns from the report alone when their list could not be
 * read, the optional sections (segments, predicted value), empty sections, typed text as text.
 * Chromium has the last word (test/e2e/report.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { render } from 'lit';
import { renderReport, type ReportData, type ReportView } from './view.js';
import { formatLength, formatShare } from './format.js';
import { REPORT_TEXT } from './text.js';

vi.hoisted(() => {
  (globalThis as { litIssuedWarnings?: Set<string> }).litIssuedWarnings = new Set(['dev-mode']);
});

const funnel = (viewers: number, productViews: number, addToCarts: number, checkouts: number, purchases: number, boughtWithoutCheckout = 0) => ({
  viewers, productViews, addToCarts, checkouts, purchases, boughtWithoutCheckout,
});

const START = Date.UTC(2025, 4, 1, 12, 0);

const REPORT: ReportData = {
  streamId: 'spring',
  title: 'Spring <b>tea</b>',
  channel: 'shop',
  createdAt: START,
  endedAt: START + 95 * 60_000,
  generatedAt: START + 100 * 60_000,
  audience: 1200,
  connected: 0,
  peakConnected: 640,
  tiers: { high: 0, mid: 0, potential: 0 },
  orders: 40,
  gmv: 1_234_500,
  aov: 30_863,
  kpis: {
    viewers: 1200, gpm: 1_028_750, uvValue: 1029, avgWatchSeconds: 754, peakConnected: 640, commentRate: 0.125,
    productClickRate: 0.4, addToCartRate: 0.1, conversion: 0.0308, newViewers: 900, returningViewers: 300,
  },
  funnel: {
    ...funnel(1200, 480, 120, 60, 37, 3),
    byTier: { high: funnel(20, 18, 12, 10, 9), mid: funnel(180, 110, 50, 30, 20, 2), potential: funnel(1000, 352, 58, 20, 8, 1) },
    conversion: { productViews: 0.4, addToCarts: 0.25, checkouts: 0.5, purchases: 0.6167, overall: 0.0308 },
  },
  offers: { issued: 30, delivered: 28, redeemed: 6, byCampaign: [{ campaign: 'c-1', title: '<i>VIP</i> perk', issued: 30, delivered: 28, seen: 20, clicked: 10, redeemed: 6 }] },
  topBuyers: [{ viewerId: 'alice', orders: 3, spend: 389_700 }],
  polls: [{ id: 'p1', question: 'Another round?', openedAt: START + 60 * 60_000, closesAt: START + 61 * 60_000, counts: [0, 1, 0, 2, 5], answers: 8, average: 4.38 }],
};

function show(view: Partial<ReportView> & { report?: ReportData } = {}) {
  const root = document.createElement('div');
  render(renderReport({ report: REPORT, lang: 'en', currency: 'CNY', campaigns: null, pushes: [], lifecycleNow: null, ...view }), root);
  const q = (sel: string) => root.querySelector(sel);
  const text = (sel: string) => q(sel)?.textContent?.replace(/\s+/g, ' ').trim();
  return { root, q, text };
}

describe('formats', () => {
  it('shares and lengths in both languages', () => {
    expect(formatShare(0.6167, 'en')).toBe('61.7%');
    expect(formatShare(1, 'zh-CN')).toBe('100%');
    expect(formatLength(REPORT, REPORT_TEXT.en)).toBe('1 h 35 min');
    expect(formatLength(REPORT, REPORT_TEXT['zh-CN'])).toBe('1 小时 35 分钟');
    expect(formatLength({ ...REPORT, endedAt: null }, REPORT_TEXT.en)).toBe('1 h 40 min so far');
    expect(formatLength({ ...REPORT, endedAt: START + 42_000 }, REPORT_TEXT['zh-CN'])).toBe('42 秒');
  });
});

describe('renderReport', () => {
  it('renders the sections with the numbers in the locale, typed text as text', () => {
    const { root, q, text } = show();
    expect([...root.querySelectorAll('section')].map((s) => s.dataset.section)).toEqual(['summary', 'kpis', 'tiers', 'funnel', 'campaigns', 'buyers', 'polls']);
    expect(text('h1')).toBe('Spring <b>tea</b>');
    expect(q('h1 b')).toBeNull();
    expect(text('[data-stat="gmv"] dd')).toBe('¥12,345');
    expect(text('[data-stat="audience"] dd')).toBe('1,200');
    expect(text('[data-stat="avgWatch"] dd')).toBe('12 min 34 s');
    expect(text('[data-stat="commentRate"] dd')).toBe('12.5%');
    expect(text('[data-meta="length"] dd')).toBe('1 h 35 min');
    // the funnel's "All" column uses the server's rates, the tiers' their own counts
    expect(q('[data-part="funnel"] tr[data-step="purchases"] td')?.getAttribute('data-rate')).toBe('0.6167');
    expect(q('[data-part="funnel"] tr[data-step="purchases"] td:nth-of-type(2)')?.getAttribute('data-rate')).toBe('0.9');
    expect(text('[data-part="funnel-note"]')).toBe('3 bought without a tracked checkout (counted as having reached checkout)');
    // ended: no "watching now" column; no lifecycle table without lifecycle counts
    expect(root.querySelectorAll('[data-now]').length).toBe(0);
    expect(q('[data-part="lifecycle"]')).toBeNull();
    expect(text('[data-poll="p1"] td:nth-of-type(4)')).toBe('1: 0 · 2: 1 · 3: 0 · 4: 2 · 5: 5');
  });

  it('without the campaign list, shows the report’s own counts and no uplift column', () => {
    const { root, text } = show({ campaigns: null });
    expect(text('[data-campaign="c-1"] th')).toBe('<i>VIP</i> perk');
    expect(root.querySelector('[data-campaign="c-1"] i')).toBeNull();
    expect(text('[data-campaign="c-1"] [data-stat="redeemed"]')).toBe('6');
    expect(root.querySelectorAll('[data-part="campaigns"] thead th').length).toBe(6);
  });

  it('with the campaign list: uplift with its interval, host pushes left out', () => {
    const uplift = { absolute: 0.0535, ci95: [0.0101, 0.0969] as [number, number], n: { treated: 412, control: 46 }, enoughData: true };
    const stats = { issued: 412, delivered: 405, seen: 380, clicked: 122, redeemed: 31, uplift };
    const { root, text } = show({
      campaigns: [
        { id: 'c-1', name: 'VIP perk', status: 'paused', budgetLeft: null, stats },
        { id: 'push:1', name: 'Flash', status: 'active', adhoc: true, budgetLeft: null, stats },
      ],
    });
    expect(root.querySelectorAll('[data-part="campaigns"] tbody tr').length).toBe(1);
    expect(text('[data-campaign="c-1"] th')).toBe('VIP perk (paused)');
    expect(text('[data-campaign="c-1"] [data-uplift]')).toBe('+5.4 pts (95% CI +1 to +9.7)');
  });

  it('while live: who is watching now, by tier and lifecycle', () => {
    const live = { ...REPORT, endedAt: null, connected: 5, tiers: { high: 1, mid: 1, potential: 3 } };
    const { root, text } = show({ report: live, lifecycleNow: { new: 3, active: 2, at_risk: 0, lapsed: 0 } });
    expect([...root.querySelectorAll('[data-now]')].map((td) => td.getAttribute('data-now'))).toEqual(['1', '1', '3']);
    expect(text('[data-part="lifecycle"] [data-lifecycle="active"] td')).toBe('2');
    expect(text('[data-meta="ended"] dd')).toBe('still live');
  });

  it('shows segments and predicted value once the channel model has them, and says when a section is empty (zh-CN)', () => {
    const report = { ...REPORT, topBuyers: [], polls: [] };
    const segments = {
      fittedAt: START, buyers: 120, k: 2, silhouette: 0.6,
      segments: [
        { id: 1, buyers: 90, share: 0.75, gmvShare: 0.2, ordersPerMonth: 0.25, spend: 2000, spendRatio: 0.33, recencyDays: 40, engagement: 1, description: 'ignored: the codes say it',
          explain: [{ code: 'segment.traits' as const, params: { share: 0.75, gmvShare: 0.2, ordersPerMonth: 0.25, spendRatio: 0.33, recencyDays: 40 } }] },
        { id: 0, buyers: 30, share: 0.25, gmvShare: 0.8, ordersPerMonth: 4, spend: 90000, spendRatio: 3, recencyDays: 3, engagement: 9, description: '…', explain: [] },
      ],
    };
    const predicted = [
      { id: 'vip-1', tier: 'high' as const, predicted: { pAlive: 0.97, expectedOrders90d: 12.34, expectedOrderValue: 20_000, clv365d: 500_000, currency: 'CNY' } },
      { id: 'nobody', tier: 'potential' as const, predicted: null },
    ];
    const { root, text } = show({ report, lang: 'zh-CN', segments, predicted });
    expect([...root.querySelectorAll('section h2')].map((h) => h.textContent)).toEqual([
      '概览', '核心指标', '分层与生命周期', '转化漏斗', '优惠活动', '消费排行', '投票', '人群细分', '预测价值',
    ]);
    expect(text('[data-part="segments"] tbody tr:nth-of-type(1) th')).toBe('人群 1');
    expect(text('[data-part="segments"] tbody tr:nth-of-type(1) td:nth-of-type(2)')).toBe('75%');
    // the traits in the page's language, from the codes; without codes, the API's own words
    expect(text('[data-part="segments"] tbody tr:nth-of-type(1) td:nth-of-type(4)')).toMatch(/^占买家 75%，贡献 GMV 的 20%/);
    expect(text('[data-part="segments"] tbody tr:nth-of-type(2) td:nth-of-type(4)')).toBe('…');
    // only viewers with a prediction
    expect(root.querySelectorAll('[data-part="predicted"] tbody tr').length).toBe(1);
    expect(text('[data-part="predicted"] tr[data-viewer="vip-1"] td:nth-of-type(5)')).toBe('¥5,000');
    expect(text('[data-part="predicted"] tr[data-viewer="vip-1"] td:nth-of-type(3)')).toBe('97%');
    expect(text('[data-section="buyers"] p')).toBe('本场直播暂无已验证购买。');
    expect(text('[data-section="polls"] p')).toBe('本场直播没有投票。');
    // no model yet: neither section
    const bare = show({ report, lang: 'zh-CN', segments: { fittedAt: null, buyers: 0, k: 0, silhouette: null, segments: [] }, predicted: [] });
    expect(bare.root.querySelector('[data-section="segments"]')).toBeNull();
    expect(bare.root.querySelector('[data-section="predicted"]')).toBeNull();
  });
});
