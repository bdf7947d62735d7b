// @vitest-environment happy-dom
/**
 * Issue 6: the dashboard's sections rendered from fixed snapshots (no server): lifecycle, funnel,
 * top viewers and a viewer's detail, campaigns with uplift, activity (escaped), the poll, the trend
 * and the stream minute by minute.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivityItem, MinutePoint, PollResults, StreamFunnel, StreamSummary, TrendPoint } from '../../server/realtime/events.js';
import { LiveTierHostPanel } from './element.js';
import type { CampaignItem, ViewerListItem } from './api.js';
import { mergePoints, minuteColumns, toColumns } from './chart.js';
import { mergeActivity } from './element.js';

vi.hoisted(() => {
  (globalThis as { litIssuedWarnings?: Set<string> }).litIssuedWarnings = new Set(['dev-mode']);
});

const SUMMARY: StreamSummary = {
  streamId: 'spring',
  title: 'Spring tea',
  channel: 'shop',
  tiers: { high: 2, mid: 5, potential: 93 },
  connected: 100,
  audience: 160,
  orders: 4,
  gmv: 100_000,
  offers: { issued: 10, delivered: 9, redeemed: 2 },
  lifecycle: { new: 80, active: 15, at_risk: 4, lapsed: 1 },
  updatedAt: 1_740_000_000_000,
};

const FUNNEL: StreamFunnel = {
  streamId: 'spring',
  viewers: 160,
  productViews: 80,
  addToCarts: 20,
  checkouts: 10,
  purchases: 4,
  boughtWithoutCheckout: 1,
  byTier: {
    high: { viewers: 2, productViews: 2, addToCarts: 2, checkouts: 2, purchases: 2, boughtWithoutCheckout: 1 },
    mid: { viewers: 8, productViews: 6, addToCarts: 3, checkouts: 2, purchases: 2, boughtWithoutCheckout: 0 },
    potential: { viewers: 150, productViews: 72, addToCarts: 15, checkouts: 6, purchases: 0, boughtWithoutCheckout: 0 },
  },
  orders: 4,
  gmv: 100_000,
  aov: 25_000,
  kpis: {
    viewers: 160, gpm: 625_000, uvValue: 625, avgWatchSeconds: 754, peakConnected: 120, commentRate: 0.3125, productClickRate: 0.5,
    addToCartRate: 0.125, conversion: 0.025, newViewers: 130, returningViewers: 30,
  },
  updatedAt: 1_740_000_000_000,
};

const TOP: ViewerListItem[] = [
  { id: 'alice', tier: 'high', lifecycle: 'active', reasons: ['2 verified orders, ¥1,200 in 90 days'] },
  { id: 'bob', tier: 'mid', reasons: ['1 verified order'] },
];

const CAMPAIGNS: CampaignItem[] = [
  {
    id: 'c1',
    name: 'VIP thank-you',
    status: 'active',
    budgetLeft: 50_000,
    stats: { issued: 40, delivered: 38, seen: 30, clicked: 12, redeemed: 6, uplift: { absolute: 0.125, ci95: [0.02, 0.23], n: { treated: 40, control: 10 }, enoughData: true } },
  },
  {
    id: 'c2',
    name: 'Flash deal',
    status: 'paused',
    budgetLeft: null,
    stats: { issued: 3, delivered: 3, seen: 1, clicked: 0, redeemed: 0, uplift: { absolute: null, ci95: null, n: { treated: 3, control: 0 }, enoughData: false } },
  },
];

const ACTIVITY: ActivityItem[] = [
  { id: 3, at: 1_740_000_003_000, viewerId: 'anon:x', type: 'comment', text: '<img src=x onerror="alert(1)"> so good' },
  { id: 2, at: 1_740_000_002_000, viewerId: 'alice', type: 'tier', from: 'mid', to: 'high' },
  { id: 1, at: 1_740_000_001_000, viewerId: 'alice', type: 'purchase', orderId: 'o1', amount: 60_000, currency: 'CNY' },
];

const POLL: PollResults = { id: 'p1', question: 'Rate the tea', scale: 5, closesAt: 1_740_000_100_000, counts: [0, 1, 0, 2, 5], answers: 8, average: 4.13 };

const TREND: TrendPoint[] = [
  { t: 1_740_000_000_000, connected: 90, high: 2, mid: 4, potential: 84, lifecycle: { new: 70, active: 15, at_risk: 4, lapsed: 1 } },
  { t: 1_740_000_005_000, connected: 100, high: 2, mid: 5, potential: 93, lifecycle: { new: 80, active: 15, at_risk: 4, lapsed: 1 } },
];

const MINUTES: MinutePoint[] = [
  { t: 1_740_000_000_000, watching: 90, orders: 1, gmv: 12_000 },
  { t: 1_740_000_060_000, watching: 100, orders: 3, gmv: 13_000 },
];

async function mount(attrs: Record<string, string> = { currency: 'CNY' }): Promise<LiveTierHostPanel> {
  const el = document.createElement('livetier-host-panel');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  document.body.append(el);
  Object.assign(el, { summary: SUMMARY, funnel: FUNNEL, topByValue: TOP, topByEngagement: [...TOP].reverse(), campaigns: CAMPAIGNS, activity: ACTIVITY, poll: POLL, trend: TREND });
  await el.updateComplete;
  return el;
}

const q = (el: LiveTierHostPanel, sel: string) => el.shadowRoot!.querySelector<HTMLElement>(sel);
const qa = (el: LiveTierHostPanel, sel: string) => [...el.shadowRoot!.querySelectorAll<HTMLElement>(sel)];
const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

afterEach(() => {
  document.body.innerHTML = '';
  vi.unstubAllGlobals();
});

describe('<livetier-host-panel> dashboard sections', () => {
  it('shows the audience by lifecycle, and GMV, orders and average order value', async () => {
    const el = await mount();
    expect(qa(el, '[part~=lifecycle]').map((n) => [n.dataset.lifecycle, text(n)])).toEqual([
      ['new', 'New 80'],
      ['active', 'Active 15'],
      ['at_risk', 'At risk 4'],
      ['lapsed', 'Lapsed 1'],
    ]);
    expect(text(q(el, '[data-stat=gmv] dd'))).toBe('¥1,000');
    expect(text(q(el, '[data-stat=orders] dd'))).toBe('4');
    expect(text(q(el, '[data-stat=aov] dd'))).toBe('¥250');
  });

  it('shows the funnel with conversion per step, overall and per tier', async () => {
    const el = await mount();
    const row = (step: string) => qa(el, `[part~=funnel] tr[data-step=${step}] td`).map(text);
    expect(row('viewers')).toEqual(['160', '2', '8', '150']);
    expect(row('productViews')).toEqual(['80 50%', '2 100%', '6 75%', '72 48%']);
    expect(row('addToCarts')).toEqual(['20 25%', '2 100%', '3 50%', '15 20.8%']);
    expect(row('checkouts')).toEqual(['10 50%', '2 100%', '2 66.7%', '6 40%']);
    expect(row('purchases')).toEqual(['4 40%', '2 100%', '2 100%', '0 0%']);
    expect(qa(el, '[part~=funnel] thead th').map(text)).toEqual(['', 'All', 'High value', 'Mid value', 'Potential']);
    // the numbers hosts read, formatted for the locale
    const kpi = (k: string) => text(q(el, `[part~=kpi][data-kpi=${k}] dd`));
    expect([kpi('gpm'), kpi('uvValue'), kpi('avgWatch'), kpi('peak'), kpi('commentRate'), kpi('productClickRate'), kpi('addToCartRate'), kpi('conversion'), kpi('newReturning')]).toEqual([
      '¥6,250', '¥6.25', '12 min 34 s', '120', '31.3%', '50%', '12.5%', '2.5%', '130 / 30',
    ]);
    // buyers whose checkout the page never tracked are said as such, not shown as a rate above 100%
    expect(text(q(el, '[part~=funnel-note]'))).toBe('1 bought without a tracked checkout (counted as having reached checkout)');
  });

  it('lists top viewers by value and by engagement with their reasons, and opens a viewer on click', async () => {
    const el = await mount({ currency: 'CNY', server: 'http://lt.test', stream: 'spring', 'host-key': 'lt_host_k' });
    const fetchMock = vi.fn(async (url: string, _init?: RequestInit) => {
      if (url.includes('/viewers/alice')) {
        return new Response(
          JSON.stringify({ ...TOP[0], scores: { recency: 5, frequency: 4, monetary: 5, engagement: 3 }, stats: { spend: 120_000, comments: 9 }, thisStream: { comments: 2 } }),
        );
      }
      return new Response(JSON.stringify({ statusCode: 404, error: 'not_found', message: 'nope' }), { status: 404 });
    });
    vi.stubGlobal('fetch', fetchMock);
    Object.assign(el, { topByValue: TOP, topByEngagement: [...TOP].reverse() }); // the live connection may not clear them
    await el.updateComplete;
    expect(qa(el, '[data-list=value] [part~=viewer]').map((b) => b.dataset.viewer)).toEqual(['alice', 'bob']);
    expect(qa(el, '[data-list=engagement] [part~=viewer]').map((b) => b.dataset.viewer)).toEqual(['bob', 'alice']);
    expect(text(q(el, '[data-list=value] [data-viewer=alice]'))).toContain('2 verified orders, ¥1,200 in 90 days');

    q(el, '[data-list=value] [data-viewer=alice]')!.click();
    await vi.waitFor(() => expect(text(q(el, '[data-section=viewer]'))).toMatch(/Recency\s*5 \/ 5/));
    const detail = text(q(el, '[data-section=viewer]'));
    expect(detail).toContain('alice');
    expect(detail).toContain('Active');
    expect(detail).toMatch(/Spend\s*¥1,200/);
    expect(detail).toMatch(/This stream\s*Comments\s*2/);
    expect(fetchMock.mock.calls[0]![0]).toBe('http://lt.test/v1/streams/spring/viewers/alice');
    expect((fetchMock.mock.calls[0]![1] as RequestInit).headers).toMatchObject({ authorization: 'Bearer lt_host_k' });
  });

  it('words reasons from their codes in its own language, and shows the server’s words when a viewer has no codes', async () => {
    const el = await mount({ currency: 'CNY', lang: 'zh-CN' });
    const explain = [
      { code: 'tier.high', params: { orders: 2, spend: 120_000, currency: 'CNY', windowDays: 90, minOrders: 2, minSpend: 100_000, rank: 10 } },
      { code: 'lifecycle.active', params: { days: 6 } },
    ] as ViewerListItem['explain'];
    Object.assign(el, { topByValue: [{ ...TOP[0]!, explain }, TOP[1]!] });
    await el.updateComplete;
    expect(text(q(el, '[data-list=value] [data-viewer=alice]'))).toContain('90 天内 2 笔已核实订单，消费 ¥1,200（高价值需 2 笔以上且 ¥1,000 以上） — 消费额前 10% · 活跃：6 天前来过');
    expect(text(q(el, '[data-list=value] [data-viewer=bob]'))).toContain('1 verified order');
    el.lang = 'en';
    await el.updateComplete;
    expect(text(q(el, '[data-list=value] [data-viewer=alice]'))).toContain('2 verified orders, ¥1,200 in 90 days (high needs 2+ orders and ¥1,000+) — top 10% of spenders · active: last seen 6 days ago');
  });

  it("lists viewers by predicted value and shows a viewer's prediction; says so when the channel has no model", async () => {
    const el = await mount({ currency: 'CNY' });
    const predicted = { pAlive: 0.82, expectedOrders90d: 1.44, expectedOrderValue: 12_130, clv365d: 49_800, currency: 'CNY' };
    Object.assign(el, { topByPredicted: [{ ...TOP[0]!, predicted }] });
    await el.updateComplete;
    expect(qa(el, '[data-list=predicted] [part~=viewer]').map((b) => b.dataset.viewer)).toEqual(['alice']);
    Object.assign(el, { viewer: { ...TOP[0]!, predicted } });
    await el.updateComplete;
    const cell = (k: string) => text(q(el, `[data-section=viewer] [data-predicted=${k}]`));
    expect([cell('pAlive'), cell('expectedOrders90d'), cell('expectedOrderValue'), cell('clv365d')]).toEqual(['82%', '1.4', '¥121.30', '¥498']);
    el.lang = 'zh-CN';
    await el.updateComplete;
    expect(text(q(el, '[data-section=viewer] [data-part=predicted] h4'))).toBe('预测（未来 12 个月）');
    Object.assign(el, { topByPredicted: [], viewer: { ...TOP[1]!, predicted: null } });
    await el.updateComplete;
    expect(text(q(el, '[data-list=predicted]'))).toContain('暂无预测');
    expect(q(el, '[data-section=viewer] [data-part=predicted]')).toBeNull();
  });

  it('shows each campaign with its funnel, budget left and uplift with CI, or "not enough data yet"', async () => {
    const el = await mount();
    const row = (id: string) => q(el, `[part~=campaign][data-campaign=${id}]`)!;
    const cells = (id: string) => ['issued', 'delivered', 'seen', 'clicked', 'redeemed', 'budget'].map((k) => text(row(id).querySelector(`[data-stat=${k}]`)));
    expect(cells('c1')).toEqual(['40', '38', '30', '12', '6', '¥500']);
    expect(text(row('c1'))).toContain('+12.5 pts (95% CI +2 to +23)');
    expect(text(row('c1'))).toContain('n = 40 treated / 10 control');
    expect(cells('c2')).toEqual(['3', '3', '1', '0', '0', 'no limit']);
    expect(text(row('c2'))).toContain('not enough data yet');
    expect(text(row('c2'))).toContain('(paused)');
    expect(text(row('c1').querySelector('[part~=toggle]'))).toBe('Pause');
    expect(text(row('c2').querySelector('[part~=toggle]'))).toBe('Resume');
  });

  it('lists the pushes newest first with what each sent, held back, and its uplift, in both languages', async () => {
    const el = await mount();
    el.pushes = [
      {
        id: 'push:2', at: 1_740_000_060_000, tier: 'potential', offer: { title: 'Flash', discount: { kind: 'amount', value: 1000 } }, holdoutPercent: 10,
        sent: 90, held: 10, delivered: 88, seen: 70, clicked: 20, redeemed: 9,
        uplift: { absolute: 0.08, ci95: [0.01, 0.15], n: { treated: 90, control: 10 }, enoughData: true },
      },
      {
        id: 'push:1', at: 1_740_000_000_000, tier: 'mid', offer: { title: 'Ten off', discount: { kind: 'percent', value: 10 } }, holdoutPercent: 0,
        sent: 5, held: 0, delivered: 5, seen: 2, clicked: 0, redeemed: 0,
        uplift: { absolute: null, ci95: null, n: { treated: 5, control: 0 }, enoughData: false },
      },
    ];
    await el.updateComplete;
    const rows = qa(el, '[part~=push-row]');
    expect(rows.map((r) => r.dataset.push)).toEqual(['push:2', 'push:1']);
    expect(text(rows[0]!.querySelector('[data-stat=held]'))).toBe('10');
    expect(text(rows[0])).toContain('Flash · ¥10');
    expect(text(rows[0])).toContain('+8 pts (95% CI +1 to +15)');
    expect(text(rows[1])).toContain('Ten off · 10%');
    expect(text(rows[1])).toContain('not enough data yet');
    el.lang = 'zh-CN';
    await el.updateComplete;
    expect(text(q(el, '[data-section=pushes] h3'))).toBe('推送记录');
    expect(text(q(el, '[data-section=pushes] thead'))).toContain('对照组');
  });

  it('pauses and resumes a campaign with PATCH { status }', async () => {
    const el = await mount({ currency: 'CNY', server: 'http://lt.test', stream: 'spring', 'host-key': 'lt_host_k' });
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => new Response(JSON.stringify({ ...CAMPAIGNS[0], status: JSON.parse(String(init!.body)).status })));
    vi.stubGlobal('fetch', fetchMock);
    el.campaigns = CAMPAIGNS;
    await el.updateComplete;
    q(el, '[data-campaign=c1] [part~=toggle]')!.click();
    await vi.waitFor(() => expect(q(el, '[data-campaign=c1]')!.dataset.status).toBe('paused'));
    expect(fetchMock).toHaveBeenCalledWith('http://lt.test/v1/streams/spring/campaigns/c1', expect.objectContaining({ method: 'PATCH', body: '{"status":"paused"}' }));
    expect(text(q(el, '[data-campaign=c1] [part~=toggle]'))).toBe('Resume');
  });

  it('shows the activity newest first, with comments as text, never HTML', async () => {
    const el = await mount();
    const lines = qa(el, '[part~=activity]');
    expect(lines.map((l) => l.dataset.type)).toEqual(['comment', 'tier', 'purchase']);
    expect(text(lines[0])).toContain('<img src=x onerror="alert(1)"> so good');
    expect(el.shadowRoot!.querySelector('img')).toBeNull();
    expect(text(lines[1])).toContain('alice moved Mid value → High value');
    expect(text(lines[2])).toContain('alice bought ¥600');
  });

  it('shows the poll results as bars with the count of answers and the average', async () => {
    const el = await mount();
    const poll = q(el, '[part~=poll-results]')!;
    expect(poll.dataset.answers).toBe('8');
    expect(qa(el, '.bars li').map((li) => li.dataset.count)).toEqual(['0', '1', '0', '2', '5']);
    expect(text(poll)).toContain('Rate the tea');
    expect(text(poll)).toContain('8 answers, average 4.13 / 5');
    expect(qa(el, '.bars progress').map((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([[0, 5], [1, 5], [0, 5], [2, 5], [5, 5]]);
  });

  it('sets no style attribute anywhere, so a strict CSP (no inline styles) holds', async () => {
    const el = await mount();
    expect(el.shadowRoot!.querySelectorAll('[style]')).toHaveLength(0);
    q(el, '[part~=chart-mode][data-mode=lifecycle]')!.click();
    await el.updateComplete;
    expect(el.shadowRoot!.querySelectorAll('[style]')).toHaveLength(0);
  });

  it('opens a poll from the form and shows a refusal', async () => {
    const el = await mount();
    const openPoll = vi.fn(async () => ({ error: { code: 'bad_request' as const, message: 'question must not be empty' } }));
    el.openPoll = openPoll;
    const form = q(el, '[part~=poll-form]') as HTMLFormElement;
    (form.querySelector('[name=question]') as HTMLInputElement).value = '  How is it? ';
    (form.querySelector('[name=seconds]') as HTMLInputElement).value = '60';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(text(q(el, '[data-section=poll] .result'))).toBe('Poll failed: question must not be empty'));
    expect(openPoll).toHaveBeenCalledWith({ question: 'How is it?', seconds: 60 });
  });

  it('keeps the trend series and shows the latest counts beside the chart', async () => {
    const el = await mount();
    expect(q(el, '[part~=chart]')!.dataset.points).toBe('2');
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['High value 2', 'Mid value 5', 'Potential 93']);
    // the same chart by lifecycle stage
    q(el, '[part~=chart-mode][data-mode=lifecycle]')!.click();
    await el.updateComplete;
    expect(q(el, '[data-section=trend]')!.dataset.mode).toBe('lifecycle');
    expect(q(el, '[part~=chart-mode][data-mode=lifecycle]')!.getAttribute('aria-pressed')).toBe('true');
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['New 80', 'Active 15', 'At risk 4', 'Lapsed 1']);
  });

  it('shows watching now, orders and GMV per minute in a third tab, pressed like the others', async () => {
    const el = await mount();
    const tabs = () => qa(el, '[part~=chart-mode]').map((b) => [text(b), b.getAttribute('aria-pressed')]);
    expect(tabs()).toEqual([['By tier', 'true'], ['By lifecycle', 'false'], ['Sales', 'false']]);
    q(el, '[part~=chart-mode][data-mode=sales]')!.click();
    await el.updateComplete;
    expect(q(el, '[data-section=trend]')!.dataset.mode).toBe('sales');
    expect(tabs()).toEqual([['By tier', 'false'], ['By lifecycle', 'false'], ['Sales', 'true']]);
    // before the first minute: dashes, and a line saying the chart will come
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['Watching now –', 'Orders / min –', 'GMV / min –']);
    expect(text(q(el, '[data-section=trend] .muted'))).toBe('The chart fills in minute by minute.');
    el.minutes = MINUTES;
    await el.updateComplete;
    const chart = q(el, '[part~=chart]')!;
    expect(chart.dataset.points).toBe('2');
    expect([chart.getAttribute('role'), chart.getAttribute('aria-label')]).toEqual(['img', 'Watching now, orders and GMV per minute']);
    // the current minute's numbers, GMV as money
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['Watching now 100', 'Orders / min 3', 'GMV / min ¥130']);
    expect(q(el, '[data-section=trend] .muted')).toBeNull();
    // back to the tiers: the trend again
    q(el, '[part~=chart-mode][data-mode=tier]')!.click();
    await el.updateComplete;
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['High value 2', 'Mid value 5', 'Potential 93']);
    expect(q(el, '[part~=chart]')!.getAttribute('aria-label')).toBe('Audience over the stream');
  });

  it('has Chinese labels with lang="zh-CN"', async () => {
    const el = await mount({ lang: 'zh-CN', currency: 'CNY' });
    expect(text(q(el, '[data-section=funnel] h3'))).toBe('转化漏斗');
    expect(text(q(el, '[data-lifecycle=at_risk]'))).toBe('流失风险 4');
    expect(text(q(el, '[data-campaign=c2]'))).toContain('数据不足');
    expect(text(q(el, '[data-stat=aov]'))).toContain('客单价');
    expect(text(q(el, '[part~=activity][data-type=tier]'))).toContain('从中价值变为高价值');
    el.minutes = MINUTES;
    q(el, '[part~=chart-mode][data-mode=sales]')!.click();
    await el.updateComplete;
    expect(text(q(el, '[part~=chart-mode][data-mode=sales]'))).toBe('销售');
    expect(qa(el, '[data-section=trend] .legend li').map(text)).toEqual(['在线观众 100', '每分钟订单 3', '每分钟成交额 ¥130']);
    expect(q(el, '[part~=chart]')!.getAttribute('aria-label')).toBe('每分钟在线观众、订单和成交额');
  });
});

describe('mergeActivity', () => {
  it('puts new items on top, newest first, and does not repeat a backlog sent again after a reconnect', () => {
    const c = (id: number): ActivityItem => ({ id, at: 1000 + id, viewerId: 'v', type: 'comment', text: `#${id}` });
    const first = mergeActivity([], [c(1), c(2)]);
    expect(first.map((i) => i.id)).toEqual([2, 1]);
    expect(mergeActivity(first, [c(1), c(2), c(3)]).map((i) => i.id)).toEqual([3, 2, 1]);
    // a restarted server numbers from 1 again: same id, another time, is a new item
    expect(mergeActivity(first, [{ ...c(1), at: 99_999 }]).map((i) => i.at)).toEqual([99_999, 1002, 1001]);
    expect(mergeActivity([], Array.from({ length: 80 }, (_, i) => c(i + 1)))).toHaveLength(50);
  });
});

describe('trend series helpers', () => {
  it('merges new points, revises a point with the same time, and keeps order', () => {
    const p = (t: number, high = 0): TrendPoint => ({ t, connected: high, high, mid: 0, potential: 0 });
    expect(mergePoints([p(1), p(2)], [p(2, 5), p(3, 1)])).toEqual([p(1), p(2, 5), p(3, 1)]);
    expect(mergePoints([p(1), p(3)], [p(2, 7)])).toEqual([p(1), p(2, 7), p(3)]);
    expect(mergePoints([p(1), p(2), p(3)], [p(4)], 3)).toEqual([p(2), p(3), p(4)]);
  });

  it("turns points into uPlot's columns (seconds, then each tier)", () => {
    expect(toColumns(TREND)).toEqual([[1_740_000_000, 1_740_000_005], [2, 2], [4, 5], [84, 93]]);
    expect(toColumns(TREND, 'lifecycle')).toEqual([[1_740_000_000, 1_740_000_005], [70, 80], [15, 15], [4, 4], [1, 1]]);
    // points without lifecycle counts (an older server) draw zeros rather than failing
    expect(toColumns([{ t: 1000, connected: 1, high: 0, mid: 0, potential: 1 }], 'lifecycle')).toEqual([[1], [0], [0], [0], [0]]);
  });

  it("turns minutes into uPlot's columns (seconds, watching, orders, GMV) and merges revised minutes", () => {
    expect(minuteColumns(MINUTES)).toEqual([[1_740_000_000, 1_740_000_060], [90, 100], [1, 3], [12_000, 13_000]]);
    const revised = { ...MINUTES[1]!, orders: 4, gmv: 14_000 };
    const next = { t: 1_740_000_120_000, watching: 99, orders: 0, gmv: 0 };
    expect(mergePoints(MINUTES, [revised, next])).toEqual([MINUTES[0], revised, next]);
  });
});
