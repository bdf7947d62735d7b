// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostPushAck, HostPushRequest, StreamSummary } from '../../server/realtime/events.js';
import { LiveTierHostPanel } from './element.js';
import { buildPushRequest } from './push.js';

vi.hoisted(() => {
  (globalThis as { litIssuedWarnings?: Set<string> }).litIssuedWarnings = new Set(['dev-mode']);
});

const SUMMARY: StreamSummary = {
  streamId: 'spring',
  title: 'Spring tea & silk',
  channel: 'shop',
  tiers: { high: 12, mid: 345, potential: 6789 },
  connected: 7146,
  audience: 9020,
  orders: 87,
  gmv: 1_234_550,
  offers: { issued: 40, delivered: 38, redeemed: 9 },
  lifecycle: { new: 7000, active: 100, at_risk: 40, lapsed: 6 },
  updatedAt: 1_740_000_000_000,
};

async function mount(attrs: Record<string, string> = {}): Promise<LiveTierHostPanel> {
  const el = document.createElement('livetier-host-panel');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  document.body.append(el);
  await el.updateComplete;
  return el;
}

const q = (el: LiveTierHostPanel, sel: string) => el.shadowRoot!.querySelector<HTMLElement>(sel);
const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const firstNumber = (node: Element | null) => text(node).match(/\d+/)?.[0];

afterEach(() => {
  document.body.innerHTML = '';
  document.documentElement.lang = '';
});

describe('<livetier-host-panel>', () => {
  it('shows dashes and stays idle without a server', async () => {
    const el = await mount();
    expect(el).toBeInstanceOf(LiveTierHostPanel);
    expect(el.status).toBe('idle');
    expect(text(q(el, '[data-tier=high]'))).toContain('–');
  });

  it('renders the counts of a summary by tier, and the stream figures', async () => {
    const el = await mount({ currency: 'CNY' });
    el.summary = SUMMARY;
    await el.updateComplete;
    const tiers = [...el.shadowRoot!.querySelectorAll('[part~=tier]')];
    expect(tiers.map((t) => t.getAttribute('data-tier'))).toEqual(['high', 'mid', 'potential']);
    expect(firstNumber(q(el, '[data-tier=high]'))).toBe('12');
    expect(firstNumber(q(el, '[data-tier=mid]'))).toBe('345');
    expect(firstNumber(q(el, '[data-tier=potential]'))).toBe('6789');
    expect(text(q(el, '[data-tier=high]'))).toContain('High value');
    expect(firstNumber(q(el, '[data-stat=connected]'))).toBe('7146');
    expect(firstNumber(q(el, '[data-stat=audience]'))).toBe('9020');
    expect(firstNumber(q(el, '[data-stat=orders]'))).toBe('87');
    expect(text(q(el, '[data-stat=gmv]'))).toContain('¥12,345.50');
    expect(text(q(el, '[data-stat=offers]'))).toContain('40 / 38 / 9');
    expect(text(q(el, 'h2'))).toBe('Spring tea & silk');
  });

  it('follows each new summary', async () => {
    const el = await mount();
    el.summary = SUMMARY;
    await el.updateComplete;
    el.summary = { ...SUMMARY, tiers: { high: 13, mid: 345, potential: 6788 } };
    await el.updateComplete;
    expect(firstNumber(q(el, '[data-tier=high]'))).toBe('13');
    expect(firstNumber(q(el, '[data-tier=potential]'))).toBe('6788');
  });

  it('shows GMV as a plain amount when no currency is set', async () => {
    const el = await mount();
    el.summary = { ...SUMMARY, gmv: 250_000 };
    await el.updateComplete;
    expect(text(q(el, '[data-stat=gmv] dd'))).toBe('2,500');
  });

  it('has Chinese labels with lang="zh-CN"', async () => {
    const el = await mount({ lang: 'zh-CN' });
    el.summary = SUMMARY;
    await el.updateComplete;
    expect(text(q(el, '[data-tier=high]'))).toContain('高价值');
    expect(text(q(el, '[data-tier=potential]'))).toContain('潜力');
    expect(text(q(el, '[data-stat=orders]'))).toContain('订单');
    expect(text(q(el, '[part~=push]'))).toBe('推送');
    expect(text(q(el, '[part~=status]'))).toBe('未连接');
  });

  it("names each campaign in the panel's language when the campaign has that name, else by its own", async () => {
    const campaigns = [
      { id: 'default:vip', name: 'VIP perk', i18n: { 'zh-CN': { name: 'VIP 专属福利' } }, status: 'active', budgetLeft: null },
      { id: 'c1', name: 'Tea cups', status: 'active', budgetLeft: null },
    ];
    const zh = await mount({ lang: 'zh-CN' });
    const en = await mount({ lang: 'en' });
    for (const el of [zh, en]) el.campaigns = campaigns;
    await Promise.all([zh.updateComplete, en.updateComplete]);
    const name = (el: LiveTierHostPanel, id: string) => text(q(el, `[part~=campaign][data-campaign="${id}"] th`));
    expect(name(zh, 'default:vip')).toBe('VIP 专属福利');
    expect(name(zh, 'c1')).toBe('Tea cups');
    expect(name(en, 'default:vip')).toBe('VIP perk');
  });

  it('pushes the form as a push request and shows the answer', async () => {
    const el = await mount({ currency: 'CNY' });
    const push = vi.fn(async (_req: HostPushRequest): Promise<HostPushAck> => ({ sent: 3, held: 1, skipped: 1 }));
    el.push = push;
    const answered: unknown[] = [];
    document.addEventListener('livetier-push', (e) => answered.push(e.detail));
    const form = q(el, 'form') as HTMLFormElement;
    const field = (name: string) => form.querySelector(`[name=${name}]`) as HTMLInputElement | HTMLSelectElement;
    field('tier').value = 'mid';
    field('title').value = '  Mid-tier deal ';
    field('kind').value = 'amount';
    field('kind').dispatchEvent(new Event('change'));
    field('value').value = '30';
    field('minutes').value = '15';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    // "hold back for measurement" comes preselected at 10%
    expect(field('holdout').value).toBe('10');
    await vi.waitFor(() => expect(text(q(el, '[part~=result]'))).toBe('Sent to 3 viewers, 1 held back, 1 skipped'));
    expect(push).toHaveBeenCalledWith({ tier: 'mid', offer: { title: 'Mid-tier deal', discount: { kind: 'amount', value: 3000 }, ttlSeconds: 900 }, holdoutPercent: 10 });
    expect(answered).toEqual([{ request: push.mock.calls[0]![0], ack: { sent: 3, held: 1, skipped: 1 } }]);
    // 0 allowed: no control group
    field('holdout').value = '0';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(push).toHaveBeenCalledTimes(2));
    expect(push.mock.calls[1]![0]).toEqual({ tier: 'mid', offer: { title: 'Mid-tier deal', discount: { kind: 'amount', value: 3000 }, ttlSeconds: 900 } });

    push.mockResolvedValueOnce({ error: { code: 'bad_request', message: 'offer.title must not be empty' } });
    await vi.waitFor(() => expect(text(q(el, '[part~=result]'))).toBe('Sent to 3 viewers, 1 held back, 1 skipped'));
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(text(q(el, '[part~=result]'))).toBe('Push failed: offer.title must not be empty'));
  });

  it('answers "not connected" when pushing without a connection', async () => {
    const el = await mount();
    await expect(el.push({ tier: 'high', offer: { title: 't', discount: { kind: 'percent', value: 10 }, ttlSeconds: 60 } })).resolves.toEqual({
      error: { code: 'unavailable', message: 'not connected' },
    });
  });
});

describe('buildPushRequest', () => {
  it('keeps percent as a whole percent and converts amounts to minor units of the currency', () => {
    expect(buildPushRequest({ tier: 'high', title: 'A', kind: 'percent', value: 15, minutes: 10 })).toEqual({
      tier: 'high',
      offer: { title: 'A', discount: { kind: 'percent', value: 15 }, ttlSeconds: 600 },
    });
    expect(buildPushRequest({ tier: 'mid', title: 'B', kind: 'amount', value: 30, minutes: 1 }, 'CNY').offer.discount).toEqual({ kind: 'amount', value: 3000 });
    expect(buildPushRequest({ tier: 'mid', title: 'B', kind: 'amount', value: 19.99, minutes: 1 }, 'USD').offer.discount.value).toBe(1999);
    expect(buildPushRequest({ tier: 'mid', title: 'B', kind: 'amount', value: 500, minutes: 1 }, 'JPY').offer.discount.value).toBe(500);
  });

  it("keeps the offer's life within the server's limits", () => {
    expect(buildPushRequest({ tier: 'potential', title: 'C', kind: 'percent', value: 5, minutes: 0.01 }).offer.ttlSeconds).toBe(10);
    expect(buildPushRequest({ tier: 'potential', title: 'C', kind: 'percent', value: 5, minutes: 1e9 }).offer.ttlSeconds).toBe(30 * 86_400);
  });
});
