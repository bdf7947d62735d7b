// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OfferPayload } from '../../server/realtime/events.js';
import type { LiveTierClient } from '../../sdk/index.js';
import { LiveTierWidget } from './element.js';

// Lit's dev build (picked by vitest) announces itself on load; keep test output quiet
vi.hoisted(() => {
  (globalThis as { litIssuedWarnings?: Set<string> }).litIssuedWarnings = new Set(['dev-mode']);
});

const NOW = new Date('2025-03-01T12:00:00Z').getTime();

function offer(over: Partial<OfferPayload> = {}): OfferPayload {
  return {
    id: 'of_1',
    code: 'LT-7QX2-K9',
    title: 'Flash deal',
    description: 'Only during this live',
    discount: { kind: 'percent', value: 15 },
    minSpend: 10000,
    currency: 'CNY',
    expiresAt: NOW + 5 * 60_000,
    serverNow: NOW,
    campaign: 'push:1',
    ...over,
  };
}

async function mount(attrs: Record<string, string> = {}): Promise<LiveTierWidget> {
  const el = document.createElement('livetier-widget');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  document.body.append(el);
  await el.updateComplete;
  return el;
}

const shadow = (el: LiveTierWidget) => el.shadowRoot!;
const cards = (el: LiveTierWidget) => [...shadow(el).querySelectorAll<HTMLElement>('[part~=card]')];
const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

/** a client that records what the element tracks */
function fakeClient() {
  const tracked: { type: string; data: unknown }[] = [];
  const client = {
    viewerId: 'v_test',
    track: vi.fn((type: string, data?: unknown) => (tracked.push({ type, data }), `id${tracked.length}`)),
    on: vi.fn(() => () => {}),
    identify: vi.fn(),
    consent: vi.fn(),
    flush: vi.fn(async () => {}),
    close: vi.fn(),
  };
  return { client: client as unknown as LiveTierClient, tracked, raw: client };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(NOW);
  document.documentElement.lang = '';
});
afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('<livetier-widget>', () => {
  it('is defined and has no client without server and stream', async () => {
    const el = await mount();
    expect(el).toBeInstanceOf(LiveTierWidget);
    expect(el.client).toBeNull();
    expect(cards(el)).toEqual([]);
    expect(shadow(el).querySelector('[aria-live=polite]')).not.toBeNull();
  });

  it('renders an offer as a card: discount, title, description, min spend, code, copy, timer', async () => {
    const el = await mount();
    el.addOffer(offer());
    await el.updateComplete;
    const [card] = cards(el);
    expect(card).toBeDefined();
    expect(card!.dataset.offerId).toBe('of_1');
    expect(card!.closest('[aria-live=polite]')).not.toBeNull();
    expect(text(card!.querySelector('[part~=title]'))).toBe('Flash deal');
    expect(text(card!.querySelector('[part~=discount]'))).toBe('15% off');
    expect(text(card!.querySelector('[part~=description]'))).toBe('Only during this live');
    expect(text(card)).toContain('Min. spend ¥100');
    expect(text(card!.querySelector('[part~=code]'))).toBe('LT-7QX2-K9');
    expect(text(card!.querySelector('[part~=copy]'))).toBe('Copy');
    expect(text(card!.querySelector('[part~=timer]'))).toBe('Ends in 05:00');
  });

  it('formats amount discounts in the offer currency (minor units)', async () => {
    const el = await mount();
    el.addOffer(offer({ id: 'a', discount: { kind: 'amount', value: 3000 }, minSpend: undefined }));
    el.addOffer(offer({ id: 'b', discount: { kind: 'amount', value: 1250 }, currency: 'USD' }));
    el.addOffer(offer({ id: 'c', discount: { kind: 'amount', value: 500 }, currency: 'JPY' }));
    await el.updateComplete;
    const discount = (id: string) => text(shadow(el).querySelector(`[data-offer-id="${id}"] [part~=discount]`));
    expect(discount('a')).toBe('¥30 off');
    expect(discount('b')).toBe('$12.50 off');
    expect(discount('c')).toBe('¥500 off');
    expect(text(shadow(el).querySelector('[data-offer-id="a"]'))).not.toContain('Min. spend');
  });

  it('stacks several offers, newest first, and updates a repeated one in place', async () => {
    const el = await mount();
    const events: OfferPayload[] = [];
    document.addEventListener('livetier-offer', (e) => events.push(e.detail));
    el.addOffer(offer({ id: 'first', title: 'First' }));
    el.addOffer(offer({ id: 'second', title: 'Second' }));
    el.addOffer(offer({ id: 'first', title: 'First, again' }));
    await el.updateComplete;
    expect(cards(el).map((c) => c.dataset.offerId)).toEqual(['second', 'first']);
    expect(text(cards(el)[1]!.querySelector('[part~=title]'))).toBe('First, again');
    // the event bubbles out of the element and is composed; once per offer
    expect(events.map((o) => o.id)).toEqual(['first', 'second']);
  });

  it('counts down once a second and removes the offer when it expires', async () => {
    const el = await mount();
    el.addOffer(offer({ expiresAt: NOW + 90_000 }));
    await el.updateComplete;
    const timer = () => text(shadow(el).querySelector('[part~=timer]'));
    expect(timer()).toBe('Ends in 01:30');
    await vi.advanceTimersByTimeAsync(1000);
    expect(timer()).toBe('Ends in 01:29');
    await vi.advanceTimersByTimeAsync(59_000);
    expect(timer()).toBe('Ends in 00:30');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(cards(el)).toEqual([]);
    expect(el.offers).toEqual([]);
  });

  it("corrects the countdown for the browser clock's skew", async () => {
    const el = await mount();
    // the server's clock is 10 minutes ahead of this browser: 2 minutes are left, not 12
    const serverNow = NOW + 10 * 60_000;
    el.addOffer(offer({ serverNow, expiresAt: serverNow + 120_000 }));
    await el.updateComplete;
    expect(text(shadow(el).querySelector('[part~=timer]'))).toBe('Ends in 02:00');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(cards(el)).toEqual([]);
  });

  it('ignores an offer that already expired', async () => {
    const el = await mount();
    el.addOffer(offer({ expiresAt: NOW - 1 }));
    await el.updateComplete;
    expect(cards(el)).toEqual([]);
  });

  it('shows hours when more than an hour is left', async () => {
    const el = await mount();
    el.addOffer(offer({ expiresAt: NOW + 2 * 3_600_000 + 5_000 }));
    await el.updateComplete;
    expect(text(shadow(el).querySelector('[part~=timer]'))).toBe('Ends in 2:00:05');
  });

  it("shows a percent offer's cap and the products it is limited to, by their pinned names", async () => {
    const el = await mount();
    el.products = [{ sku: 'TEA-01', name: 'Oolong tea', price: 12800 }];
    el.addOffer(offer({ id: 'cap', maxDiscount: 5000, skus: ['TEA-01', 'CUP-02'] }));
    await el.updateComplete;
    const card = text(shadow(el).querySelector('[data-offer-id="cap"]'));
    expect(card).toContain('Up to ¥50 off');
    expect(card).toContain('On Oolong tea, CUP-02'); // an SKU that is not pinned shows as itself
    el.lang = 'zh-CN';
    await el.updateComplete;
    const zh = text(shadow(el).querySelector('[data-offer-id="cap"]'));
    expect(zh).toContain('最高减¥50');
    expect(zh).toContain('限Oolong tea、CUP-02');
    // without them, neither line
    el.addOffer(offer({ id: 'plain' }));
    await el.updateComplete;
    expect(text(shadow(el).querySelector('[data-offer-id="plain"]'))).not.toMatch(/最高|限/);
  });

  it('speaks Chinese with lang="zh-CN"', async () => {
    const el = await mount({ lang: 'zh-CN' });
    el.addOffer(offer());
    el.addOffer(offer({ id: 'amt', discount: { kind: 'amount', value: 3000 } }));
    await el.updateComplete;
    const card = shadow(el).querySelector('[data-offer-id="of_1"]');
    expect(text(card!.querySelector('[part~=discount]'))).toBe('8.5折');
    expect(text(card!.querySelector('[part~=copy]'))).toBe('复制');
    expect(text(card!.querySelector('[part~=timer]'))).toBe('剩余 05:00');
    expect(text(card)).toContain('满¥100可用');
    expect(text(shadow(el).querySelector('[data-offer-id="amt"] [part~=discount]'))).toBe('立减¥30');
  });

  it("follows the page's <html lang> when it has no lang of its own", async () => {
    document.documentElement.lang = 'zh-CN';
    const el = await mount();
    el.addOffer(offer());
    await el.updateComplete;
    expect(text(shadow(el).querySelector('[part~=copy]'))).toBe('复制');
    el.lang = 'en';
    await el.updateComplete;
    expect(text(shadow(el).querySelector('[part~=copy]'))).toBe('Copy');
  });

  it("shows an offer's text in the widget's language when the offer carries it, and its own text otherwise", async () => {
    const translated = offer({ i18n: { 'zh-CN': { title: '限时特惠', description: '仅限本场直播' } } });
    const zh = await mount({ lang: 'zh-CN' });
    const en = await mount({ lang: 'en' });
    for (const el of [zh, en]) el.addOffer(translated);
    await Promise.all([zh.updateComplete, en.updateComplete]);
    expect(text(shadow(zh).querySelector('[part~=title]'))).toBe('限时特惠');
    expect(text(shadow(zh).querySelector('[part~=description]'))).toBe('仅限本场直播');
    expect(text(shadow(en).querySelector('[part~=title]'))).toBe('Flash deal');
    expect(text(shadow(en).querySelector('[part~=description]'))).toBe('Only during this live');

    // a translation of the title alone: the description falls back; an offer with none: the default text
    zh.addOffer(offer({ id: 'half', i18n: { 'zh-CN': { title: '半价' } } }));
    zh.addOffer(offer({ id: 'push' }));
    await zh.updateComplete;
    const card = (id: string) => shadow(zh).querySelector(`[data-offer-id="${id}"]`)!;
    expect(text(card('half').querySelector('[part~=title]'))).toBe('半价');
    expect(text(card('half').querySelector('[part~=description]'))).toBe('Only during this live');
    expect(text(card('push').querySelector('[part~=title]'))).toBe('Flash deal');

    // the language can change while the offer is on screen
    zh.lang = 'en';
    await zh.updateComplete;
    expect(text(card('of_1').querySelector('[part~=title]'))).toBe('Flash deal');
  });

  it('tracks offer_seen once per rendered card, and offer_click when the code is copied', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText } });
    const el = await mount();
    const { client, tracked } = fakeClient();
    el.client = client;
    expect(el.client).toBe(client);
    el.addOffer(offer());
    await el.updateComplete;
    el.addOffer(offer({ title: 'updated' }));
    await el.updateComplete;
    expect(tracked).toEqual([{ type: 'offer_seen', data: { offerId: 'of_1' } }]);

    shadow(el).querySelector<HTMLButtonElement>('[part~=copy]')!.click();
    await vi.advanceTimersByTimeAsync(0);
    await el.updateComplete;
    expect(writeText).toHaveBeenCalledWith('LT-7QX2-K9');
    expect(tracked.at(-1)).toEqual({ type: 'offer_click', data: { offerId: 'of_1' } });
    expect(text(shadow(el).querySelector('[part~=copy]'))).toBe('Copied');
    await vi.advanceTimersByTimeAsync(2000);
    expect(text(shadow(el).querySelector('[part~=copy]'))).toBe('Copy');
  });

  it('subscribes to the offers of a client handed in, and never closes it', async () => {
    const el = await mount();
    const { client, raw } = fakeClient();
    let deliver: (o: OfferPayload) => void = () => {};
    raw.on.mockImplementation(((event: string, fn: (o: OfferPayload) => void) => {
      if (event === 'offer') deliver = fn;
      return () => {};
    }) as never);
    el.client = client;
    deliver(offer({ id: 'from-sdk' }));
    await el.updateComplete;
    expect(cards(el).map((c) => c.dataset.offerId)).toEqual(['from-sdk']);
    el.remove();
    expect(raw.close).not.toHaveBeenCalled();
  });

  it('never renders offer text as HTML', async () => {
    const el = await mount();
    el.addOffer(offer({ title: '<img src=x onerror=alert(1)>' }));
    await el.updateComplete;
    expect(shadow(el).querySelector('img')).toBeNull();
    expect(text(shadow(el).querySelector('[part~=title]'))).toBe('<img src=x onerror=alert(1)>');
  });
});

describe('<livetier-widget> products, shop-now and poll', () => {
  it('renders <livetier-product> children as cards, tracks product_view once, add_to_cart on click', async () => {
    const el = document.createElement('livetier-widget');
    el.innerHTML = '<livetier-product sku="TEA-01" name="Oolong" price="12900"></livetier-product><livetier-product sku="CUP" name="Cup" price="4950" currency="USD"></livetier-product>';
    const { client, tracked } = fakeClient();
    el.client = client;
    document.body.append(el);
    await el.updateComplete;
    const products = [...shadow(el).querySelectorAll<HTMLElement>('[part~=product]')];
    expect(products.map((p) => p.dataset.sku)).toEqual(['TEA-01', 'CUP']);
    expect(text(products[0]!.querySelector('[part~=price]'))).toBe('¥129');
    expect(text(products[1]!.querySelector('[part~=price]'))).toBe('$49.50');
    expect(tracked.filter((t) => t.type === 'product_view')).toEqual([
      { type: 'product_view', data: { sku: 'TEA-01', price: 12900 } },
      { type: 'product_view', data: { sku: 'CUP', price: 4950 } },
    ]);
    const added: unknown[] = [];
    document.addEventListener('livetier-add-to-cart', (e) => added.push(e.detail));
    const button = products[0]!.querySelector<HTMLButtonElement>('[part~=add]')!;
    expect(button.tagName).toBe('BUTTON');
    expect(button.getAttribute('aria-label')).toBe('Add Oolong to cart');
    button.click();
    await el.updateComplete;
    expect(added).toEqual([{ product: { sku: 'TEA-01', name: 'Oolong', price: 12900, image: undefined, currency: undefined }, quantity: 1 }]);
    expect(tracked.at(-1)).toEqual({ type: 'add_to_cart', data: { sku: 'TEA-01', price: 12900, quantity: 1 } });
    expect(text(shadow(el).querySelector('[data-sku="TEA-01"] [part~=add]'))).toBe('Added');

    // a product added later shows up, and is viewed once
    el.insertAdjacentHTML('beforeend', '<livetier-product sku="NEW" name="New one" price="100"></livetier-product>');
    await vi.advanceTimersByTimeAsync(0);
    await el.updateComplete;
    expect([...shadow(el).querySelectorAll<HTMLElement>('[part~=product]')].map((p) => p.dataset.sku)).toEqual(['TEA-01', 'CUP', 'NEW']);
    expect(tracked.filter((t) => t.type === 'product_view')).toHaveLength(3);
  });

  it('takes products from the `products` property too, and never renders their names as HTML', async () => {
    const el = await mount({ lang: 'zh-CN' });
    el.products = [{ sku: 'X', name: '<b>茶</b>', price: 100 }];
    await el.updateComplete;
    expect(shadow(el).querySelector('[part~=product] b')).toBeNull();
    expect(text(shadow(el).querySelector('[part~=add]'))).toBe('加入购物车');
  });

  it('the shop-now button emits livetier-offer-click and tracks offer_click', async () => {
    const el = await mount();
    const { client, tracked } = fakeClient();
    el.client = client;
    el.addOffer(offer());
    await el.updateComplete;
    const clicks: unknown[] = [];
    document.addEventListener('livetier-offer-click', (e) => clicks.push(e.detail.offer.id));
    shadow(el).querySelector<HTMLButtonElement>('[part~=use]')!.click();
    expect(clicks).toEqual(['of_1']);
    expect(tracked.at(-1)).toEqual({ type: 'offer_click', data: { offerId: 'of_1' } });
  });

  it('shows a poll, records one answer as poll_answer, and closes it at closesAt', async () => {
    const el = await mount();
    const { client, tracked } = fakeClient();
    el.client = client;
    el.openPoll({ id: 'p1', question: 'How do you like this stream?', scale: 5, closesAt: NOW + 30_000 });
    await el.updateComplete;
    const poll = shadow(el).querySelector('[part~=poll]')!;
    expect(text(poll.querySelector('[part~=question]'))).toBe('How do you like this stream?');
    const ratings = [...poll.querySelectorAll<HTMLButtonElement>('[part~=rating]')];
    expect(ratings.map((b) => b.getAttribute('aria-label'))).toEqual(['1 of 5', '2 of 5', '3 of 5', '4 of 5', '5 of 5']);
    ratings[4]!.click();
    await el.updateComplete;
    expect(tracked.at(-1)).toEqual({ type: 'poll_answer', data: { pollId: 'p1', value: 5 } });
    expect(text(shadow(el).querySelector('[part~=poll]'))).toContain('Thanks');
    expect(shadow(el).querySelectorAll('[part~=rating]')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(31_000);
    expect(shadow(el).querySelector('[part~=poll]')).toBeNull();
  });

  it('speaks Chinese in the poll too', async () => {
    const el = await mount({ lang: 'zh-CN' });
    el.openPoll({ id: 'p2', question: '喜欢这场直播吗？', scale: 5, closesAt: NOW + 30_000 });
    await el.updateComplete;
    expect(shadow(el).querySelector('[part~=rating]')!.getAttribute('aria-label')).toBe('1 分（满分 5 分）');
  });

  it('default colours pass WCAG AA contrast', () => {
    const lum = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const ratio = (a: string, b: string) => {
      const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
      return (x! + 0.05) / (y! + 0.05);
    };
    const css = String(LiveTierWidget.styles);
    const token = (name: string) => css.match(new RegExp(`var\\(--livetier-${name}, (#[0-9a-f]{6})\\)`))![1]!;
    const [accent, bg, fg, onAccent] = [token('accent'), token('bg'), token('fg'), token('accent-fg')];
    expect(ratio(accent, bg)).toBeGreaterThanOrEqual(4.5);
    expect(ratio(onAccent, accent)).toBeGreaterThanOrEqual(4.5);
    expect(ratio(fg, bg)).toBeGreaterThanOrEqual(4.5);
  });
});

describe('<livetier-widget consent>', () => {
  it('makes its client with consent pending, and passes later changes to that same client', async () => {
    localStorage.clear();
    const el = await mount({ server: 'http://127.0.0.1:9', stream: 's1', consent: 'pending' });
    const client = el.client!;
    expect(client).not.toBeNull();
    client.track('like');
    expect(localStorage.length).toBe(0);
    el.setAttribute('consent', 'granted');
    await el.updateComplete;
    expect(el.client).toBe(client);
    expect(localStorage.getItem('livetier:vid')).toBe(client.viewerId);
    el.setAttribute('consent', 'denied');
    await el.updateComplete;
    expect(el.client).toBe(client);
    expect(localStorage.getItem('livetier:vid')).toBeNull();
    el.remove();
  });
});

