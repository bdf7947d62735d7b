import { LitElement, html, nothing, type PropertyDeclarations } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { InitOptions, LiveTierClient, LiveTierError, OfferPayload, PollPayload } from '../../sdk/index.js';
import { formatCountdown, formatMoney, resolveLang, textIn, type Lang } from '../locale.js';
import { ClientController } from './client-controller.js';
import { CountdownController } from './countdown.js';
import { styles } from './element.styles.js';
import '../livetier-product/element.js';

const TEXT = {
  en: {
    percentOff: (p: number) => `${new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(p / 100)} off`,
    amountOff: (m: string) => `${m} off`,
    minSpend: (m: string) => `Min. spend ${m}`,
    upTo: (m: string) => `Up to ${m} off`,
    only: (names: string[]) => `On ${names.join(', ')}`,
    endsIn: (t: string) => `Ends in ${t}`,
    copy: 'Copy',
    copied: 'Copied',
    copyLabel: (code: string) => `Copy code ${code}`,
    use: 'Shop now',
    offers: 'Offers for you',
    products: 'Pinned products',
    add: 'Add to cart',
    added: 'Added',
    addLabel: (name: string) => `Add ${name} to cart`,
    rate: (n: number) => `${n} of 5`,
    thanks: 'Thanks for your answer!',
    close: 'Close',
  },
  'zh-CN': {
    // Chinese shoppers read a discount as the share still paid: 15% off is 8.5折
    percentOff: (p: number) => (p >= 100 ? '免费' : `${Math.round(1000 - p * 10) / 100}折`),
    amountOff: (m: string) => `立减${m}`,
    minSpend: (m: string) => `满${m}可用`,
    upTo: (m: string) => `最高减${m}`,
    only: (names: string[]) => `限${names.join('、')}`,
    endsIn: (t: string) => `剩余 ${t}`,
    copy: '复制',
    copied: '已复制',
    copyLabel: (code: string) => `复制优惠码 ${code}`,
    use: '去使用',
    offers: '专属优惠',
    products: '主播推荐',
    add: '加入购物车',
    added: '已加入',
    addLabel: (name: string) => `将${name}加入购物车`,
    rate: (n: number) => `${n} 分（满分 5 分）`,
    thanks: '感谢您的反馈！',
    close: '关闭',
  },
} satisfies Record<Lang, unknown>;

/** how long "Copied" stays on the button */
const COPIED_MS = 2000;

/** A pinned product (a `<livetier-product>` child, or an item of the `products` property). */
export interface Product {
  sku: string;
  name: string;
  /** integer minor units */
  price: number;
  image?: string;
  /** ISO 4217; default: the widget's `currency` */
  currency?: string;
}

export interface OfferClickDetail {
  offer: OfferPayload;
}

export interface AddToCartDetail {
  product: Product;
  quantity: number;
}

interface ShownOffer {
  offer: OfferPayload;
  /** expiry on this browser's clock (the server's `expiresAt` corrected for clock skew) */
  endsAt: number;
}

/**
 * @summary The viewer's live offers, as cards over or beside the stream.
 *
 * Connects to LiveTier when it has `server` and `stream`, or uses a client handed to its
 * `client` property. Each offer shows its discount, title, description (in the widget's `lang`
 * when the offer carries that translation), minimum spend, code with
 * a Copy button, a Shop-now button and a countdown; several stack, expired ones leave.
 * `offer_seen` is tracked when a card is first rendered, `offer_click` when its code is copied or
 * its Shop-now button pressed. Pinned products (`<livetier-product>` children or the `products`
 * property) show as cards with an Add-to-cart button (`product_view` once shown, `add_to_cart`
 * on click). A poll the host opens (or `openPoll()`) asks for a 1-5 rating (`poll_answer`).
 *
 * @attr server - origin of the LiveTier server, e.g. `https://live.example`
 * @attr stream - stream id
 * @attr token - optional signed viewer token (a logged-in viewer)
 * @attr video - CSS selector of the page's `<video>`; watch time counts only while it plays
 * @attr lang - `en` or `zh-CN`; default: the page's `<html lang>`, else English
 * @attr currency - currency of pinned products without their own (ISO 4217); default `CNY`
 * @attr consent - `pending`: the element's client sends and stores nothing until the attribute
 *   becomes `granted` (or the page calls `element.client.consent(true)`); `denied` forgets the viewer
 *
 * @fires livetier-offer - an offer arrived (bubbles, composed); `detail` is the offer
 * @fires livetier-error - the server refused the connection (bubbles, composed); `detail` is `{ code, message }`,
 *   e.g. `origin_not_allowed`, `unauthorized` (a bad token), `not_found` (unknown stream)
 * @fires livetier-offer-click - the viewer pressed an offer's Shop-now button; `detail` is `{ offer }`
 * @fires livetier-add-to-cart - the viewer pressed a product's Add-to-cart button; `detail` is
 *   `{ product, quantity }`: put it in the page's own cart
 * @fires livetier-poll-answer - the viewer answered a poll; `detail` is `{ pollId, value }`
 *
 * @csspart card - one offer
 * @csspart discount - the discount ("15% off")
 * @csspart title - the offer's title
 * @csspart description - the offer's description
 * @csspart code - the coupon code
 * @csspart copy - the Copy button
 * @csspart timer - the time left
 * @csspart use - an offer's Shop-now button
 * @csspart products - the list of pinned products
 * @csspart product - one pinned product
 * @csspart product-image - its image
 * @csspart product-name - its name
 * @csspart price - its price
 * @csspart add - its Add-to-cart button
 * @csspart poll - the poll card
 * @csspart question - the poll's question
 * @csspart rating - one of the five rating buttons
 *
 * @cssprop --livetier-accent - accent colour (discount, border, button)
 * @cssprop --livetier-bg - card background
 * @cssprop --livetier-fg - text colour
 * @cssprop --livetier-radius - card corner radius
 * @cssprop --livetier-font - font family
 * @cssprop --livetier-accent-fg - text on accent buttons (default white)
 * @cssprop --livetier-focus - focus ring colour
 */
export class LiveTierWidget extends LitElement {
  static override styles = styles;

  static override properties: PropertyDeclarations = {
    server: { type: String },
    stream: { type: String },
    token: { type: String },
    video: { type: String },
    lang: { type: String, reflect: true },
    currency: { type: String },
    consent: { type: String },
    products: { attribute: false },
    shown: { state: true },
    copied: { state: true },
    poll: { state: true },
    answered: { state: true },
  };

  /** origin of the LiveTier server */
  declare server: string | undefined;
  /** stream id */
  declare stream: string | undefined;
  /** signed viewer token; none: an anonymous viewer */
  declare token: string | undefined;
  /** CSS selector of the page's `<video>` */
  declare video: string | undefined;
  /** `en` or `zh-CN` for the built-in text */
  declare lang: string;
  /** currency of products without their own */
  declare currency: string;
  /** `pending`, `granted` (default) or `denied` */
  declare consent: string | undefined;
  /** pinned products; when unset, the `<livetier-product>` children */
  declare products: Product[] | undefined;
  declare private shown: ShownOffer[];
  declare private poll: (PollPayload & { endsAt: number }) | null;
  /** the value given to the open poll */
  declare private answered: number | null;
  /** id of the offer whose code was just copied */
  declare private copied: string | null;

  private readonly connection = new ClientController(
    this,
    () => this.initOptions(),
    (offer) => this.addOffer(offer),
    (error) => this.fire('livetier-error', error),
    (poll) => this.openPoll(poll),
  );
  private readonly countdown = new CountdownController(
    this,
    () => this.shown.length > 0 || !!this.poll,
    (now) => this.prune(now),
  );
  /** skus whose `product_view` was tracked */
  private readonly viewed = new Set<string>();
  private readonly children$ = new MutationObserver(() => this.requestUpdate());
  /** offers whose `offer_seen` was tracked (or that were seen without a client) */
  private readonly seen = new Set<string>();
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.shown = [];
    this.copied = null;
    this.poll = null;
    this.answered = null;
    this.currency = 'CNY';
  }

  /**
   * The SDK client, for the page's own tracking:
   * `document.querySelector('livetier-widget').client?.track('comment', { text })`.
   * Null until the element is connected with `server` and `stream`. Set it to share a client the
   * page made with `LiveTier.init()`; the element then never closes it.
   */
  get client(): LiveTierClient | null {
    return this.connection.client;
  }
  set client(client: LiveTierClient | null) {
    this.connection.use(client);
  }

  /** The offers on screen, newest first. */
  get offers(): OfferPayload[] {
    return this.shown.map((s) => s.offer);
  }

  /**
   * Shows an offer (what the SDK's `offer` listener calls; pages and tests may call it too).
   * An offer already shown is updated in place; one already expired is ignored.
   */
  addOffer(offer: OfferPayload) {
    const now = Date.now();
    const skew = Number.isFinite(offer.serverNow) ? offer.serverNow - now : 0;
    const endsAt = offer.expiresAt - skew;
    if (!(endsAt > now)) return;
    const at = this.shown.findIndex((s) => s.offer.id === offer.id);
    if (at >= 0) {
      this.shown = this.shown.map((s, i) => (i === at ? { offer, endsAt } : s));
      return;
    }
    this.shown = [{ offer, endsAt }, ...this.shown];
    this.fire('livetier-offer', offer);
  }

  /** Takes an offer off the screen. */
  removeOffer(id: string) {
    this.shown = this.shown.filter((s) => s.offer.id !== id);
  }

  /**
   * Shows a one-question rating poll (what the SDK's `poll` listener calls). A new poll replaces
   * the previous one; it leaves at `closesAt` (corrected for clock skew like offers).
   */
  openPoll(poll: PollPayload & { serverNow?: number }) {
    const now = Date.now();
    const endsAt = poll.closesAt - (Number.isFinite(poll.serverNow) ? poll.serverNow! - now : 0);
    if (!(endsAt > now)) return;
    if (this.poll?.id !== poll.id) this.answered = null;
    this.poll = { ...poll, endsAt };
  }

  /** The pinned products shown: the `products` property, else the `<livetier-product>` children. */
  get pinned(): Product[] {
    if (this.products) return this.products;
    return [...this.querySelectorAll('livetier-product')].map(({ sku, name, price, image, currency }) => ({ sku, name, price, image, currency }));
  }

  override connectedCallback() {
    super.connectedCallback();
    this.children$.observe(this, { childList: true, subtree: true, attributes: true });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.children$.disconnect();
    clearTimeout(this.copiedTimer);
  }

  override render() {
    const lang = resolveLang(this.lang);
    const t = TEXT[lang];
    const now = Date.now();
    const products = this.pinned.filter((p) => p.sku && p.name);
    return html`${this.poll ? this.renderPoll(this.poll, lang, now) : nothing}
      <section class="stack" aria-live="polite" aria-relevant="additions" aria-label=${t.offers}>
        ${repeat(
          this.shown,
          (s) => s.offer.id,
          (s) => this.renderCard(s, lang, now),
        )}
      </section>
      ${products.length
        ? html`<ul part="products" class="products" aria-label=${t.products}>
            ${repeat(
              products,
              (p) => p.sku,
              (p) => this.renderProduct(p, lang),
            )}
          </ul>`
        : nothing}`;
  }

  protected override updated(changed: Map<string, unknown>) {
    const client = this.client;
    if (!client) return;
    // `consent` moved on from `pending` (or to `denied`): tell the client (a repeat changes nothing)
    if (changed.has('consent') && this.consent !== 'pending') client.consent(this.consent !== 'denied');
    for (const { offer } of this.shown) {
      if (this.seen.has(offer.id)) continue;
      this.seen.add(offer.id);
      client.track('offer_seen', { offerId: offer.id });
    }
    for (const p of this.pinned) {
      if (!p.sku || this.viewed.has(p.sku)) continue;
      this.viewed.add(p.sku);
      client.track('product_view', priced(p));
    }
  }

  private renderCard({ offer, endsAt }: ShownOffer, lang: Lang, now: number) {
    const t = TEXT[lang];
    const copied = this.copied === offer.id;
    // the campaign's text in the viewer's language when it has it, else its own
    const title = textIn(offer.title, offer.i18n, 'title', lang);
    const description = textIn(offer.description, offer.i18n, 'description', lang);
    return html`<article part="card" class="card" data-offer-id=${offer.id}>
      <div class="top">
        <span part="discount" class="discount">${this.discountText(offer, lang)}</span>
        <span part="timer" class="timer" role="timer" aria-live="off">${t.endsIn(formatCountdown(endsAt - now))}</span>
      </div>
      <h3 part="title" class="title">${title}</h3>
      ${description ? html`<p part="description" class="description">${description}</p>` : nothing}
      ${offer.minSpend ? html`<p class="min">${t.minSpend(formatMoney(offer.minSpend, offer.currency, lang))}</p>` : nothing}
      ${offer.maxDiscount ? html`<p class="min">${t.upTo(formatMoney(offer.maxDiscount, offer.currency, lang))}</p>` : nothing}
      ${offer.skus?.length ? html`<p class="min">${t.only(offer.skus.map((sku) => this.pinned.find((p) => p.sku === sku)?.name || sku))}</p>` : nothing}
      <div class="redeem">
        <code part="code" class="code">${offer.code}</code>
        <button part="copy" class="copy" type="button" aria-label=${copied ? t.copied : t.copyLabel(offer.code)} @click=${() => this.copy(offer)}>
          ${copied ? t.copied : t.copy}
        </button>
      </div>
      <button part="use" class="use" type="button" @click=${() => this.use(offer)}>${t.use}</button>
    </article>`;
  }

  private renderProduct(p: Product, lang: Lang) {
    const t = TEXT[lang];
    const added = this.copied === `sku:${p.sku}`;
    return html`<li part="product" class="product" data-sku=${p.sku}>
      ${p.image ? html`<img part="product-image" src=${p.image} alt="" loading="lazy" />` : nothing}
      <span part="product-name" class="name">${p.name}</span>
      ${Number.isFinite(p.price) ? html`<span part="price" class="price">${formatMoney(p.price, p.currency || this.currency, lang)}</span>` : nothing}
      <button part="add" class="add" type="button" aria-label=${added ? t.added : t.addLabel(p.name)} @click=${() => this.addToCart(p)}>
        ${added ? t.added : t.add}
      </button>
    </li>`;
  }

  private renderPoll(poll: PollPayload & { endsAt: number }, lang: Lang, now: number) {
    const t = TEXT[lang];
    const answered = this.answered;
    return html`<section part="poll" class="card poll" aria-labelledby="q" data-poll-id=${poll.id}>
      <div class="top">
        <h3 part="question" class="title" id="q">${poll.question}</h3>
        <span part="timer" class="timer" role="timer" aria-live="off">${formatCountdown(poll.endsAt - now)}</span>
      </div>
      ${answered === null
        ? html`<div class="ratings" role="group" aria-labelledby="q">
            ${[1, 2, 3, 4, 5].map(
              (n) => html`<button part="rating" class="rating" type="button" aria-label=${t.rate(n)} @click=${() => this.answer(poll, n)}>${n}</button>`,
            )}
          </div>`
        : html`<p class="thanks" role="status">${t.thanks}</p>`}
    </section>`;
  }

  private discountText({ discount, currency }: OfferPayload, lang: Lang): string {
    const t = TEXT[lang];
    return discount.kind === 'amount' ? t.amountOff(formatMoney(discount.value, currency, lang)) : t.percentOff(discount.value);
  }

  /** once a second: drop what expired, re-render the countdowns */
  private prune(now: number) {
    const live = this.shown.filter((s) => s.endsAt > now);
    if (live.length !== this.shown.length) this.shown = live;
    if (this.poll && this.poll.endsAt <= now) this.poll = null;
    this.requestUpdate();
  }

  private use(offer: OfferPayload) {
    this.client?.track('offer_click', { offerId: offer.id });
    this.fire<OfferClickDetail>('livetier-offer-click', { offer });
  }

  private addToCart(product: Product) {
    this.client?.track('add_to_cart', { ...priced(product), quantity: 1 });
    this.fire<AddToCartDetail>('livetier-add-to-cart', { product, quantity: 1 });
    this.flash(`sku:${product.sku}`);
  }

  private answer(poll: PollPayload, value: number) {
    this.answered = value;
    this.client?.track('poll_answer', { pollId: poll.id, value });
    this.fire('livetier-poll-answer', { pollId: poll.id, value });
  }

  private fire<T>(type: string, detail: T) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** "Copied" / "Added" for a moment on the button with this key */
  private flash(key: string) {
    this.copied = key;
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => (this.copied = null), COPIED_MS);
  }

  private async copy(offer: OfferPayload) {
    this.client?.track('offer_click', { offerId: offer.id });
    let ok = false;
    try {
      await navigator.clipboard.writeText(offer.code);
      ok = true;
    } catch {
      ok = this.copyWithSelection(offer.code);
    }
    if (!ok) {
      // nothing could copy: select the code so the viewer can copy it themselves
      const code = this.renderRoot.querySelector(`[data-offer-id="${CSS.escape(offer.id)}"] [part~=code]`);
      if (code) getSelection()?.selectAllChildren(code);
      return;
    }
    this.flash(offer.id);
  }

  /** the pre-Clipboard-API way, for http pages and older browsers */
  private copyWithSelection(text: string): boolean {
    const area = document.createElement('textarea');
    area.value = text;
    area.readOnly = true;
    area.style.cssText = 'position:fixed;top:0;left:0;opacity:0';
    this.renderRoot.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }

  private initOptions(): InitOptions | null {
    if (!this.server || !this.stream) return null;
    return {
      server: this.server,
      stream: this.stream,
      ...(this.token ? { token: this.token } : {}),
      ...(this.video ? { video: this.video } : {}),
      ...(this.consent === 'pending' || this.consent === 'denied' ? { consent: 'pending' as const } : {}),
    };
  }
}

/** `product_view` / `add_to_cart` data: the price only when it is a valid amount */
const priced = ({ sku, price }: Product) => (Number.isInteger(price) && price >= 0 ? { sku, price } : { sku });

if (!customElements.get('livetier-widget')) customElements.define('livetier-widget', LiveTierWidget);

declare global {
  interface HTMLElementTagNameMap {
    'livetier-widget': LiveTierWidget;
  }
  interface GlobalEventHandlersEventMap {
    'livetier-offer': CustomEvent<OfferPayload>;
    'livetier-error': CustomEvent<LiveTierError>;
    'livetier-offer-click': CustomEvent<OfferClickDetail>;
    'livetier-add-to-cart': CustomEvent<AddToCartDetail>;
    'livetier-poll-answer': CustomEvent<{ pollId: string; value: number }>;
  }
}
