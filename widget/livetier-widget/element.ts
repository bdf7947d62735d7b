import { LitElement, html, nothing, type PropertyDeclarations } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { InitOptions, LiveTierClient, LiveTierError, OfferPayload } from '../../sdk/index.js';
import { formatCountdown, formatMoney, resolveLang, type Lang } from '../locale.js';
import { ClientController } from './client-controller.js';
import { CountdownController } from './countdown.js';
import { styles } from './element.styles.js';

const TEXT = {
  en: {
    percentOff: (p: number) => `${new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(p / 100)} off`,
    amountOff: (m: string) => `${m} off`,
    minSpend: (m: string) => `Min. spend ${m}`,
    endsIn: (t: string) => `Ends in ${t}`,
    copy: 'Copy',
    copied: 'Copied',
    copyLabel: (code: string) => `Copy code ${code}`,
  },
  'zh-CN': {
    // Chinese shoppers read a discount as the share still paid: 15% off is 8.5折
    percentOff: (p: number) => (p >= 100 ? '免费' : `${Math.round(1000 - p * 10) / 100}折`),
    amountOff: (m: string) => `立减${m}`,
    minSpend: (m: string) => `满${m}可用`,
    endsIn: (t: string) => `剩余 ${t}`,
    copy: '复制',
    copied: '已复制',
    copyLabel: (code: string) => `复制优惠码 ${code}`,
  },
} satisfies Record<Lang, unknown>;

/** how long "Copied" stays on the button */
const COPIED_MS = 2000;

interface ShownOffer {
  offer: OfferPayload;
  /** expiry on this browser's clock (the server's `expiresAt` corrected for clock skew) */
  endsAt: number;
}

/**
 * @summary The viewer's live offers, as cards over or beside the stream.
 *
 * Connects to LiveTier when it has `server` and `stream`, or uses a client handed to its
 * `client` property. Each offer shows its discount, title, description, minimum spend, code with
 * a Copy button and a countdown; expired offers disappear. `offer_seen` is tracked when a card is
 * first rendered, `offer_click` when its code is copied.
 *
 * @attr server - origin of the LiveTier server, e.g. `https://live.example`
 * @attr stream - stream id
 * @attr token - optional signed viewer token (a logged-in viewer)
 * @attr video - CSS selector of the page's `<video>`; watch time counts only while it plays
 * @attr lang - `en` or `zh-CN`; default: the page's `<html lang>`, else English
 *
 * @fires livetier-offer - an offer arrived (bubbles, composed); `detail` is the offer
 * @fires livetier-error - the server refused the connection (bubbles, composed); `detail` is `{ code, message }`,
 *   e.g. `origin_not_allowed`, `unauthorized` (a bad token), `not_found` (unknown stream)
 *
 * @csspart card - one offer
 * @csspart discount - the discount ("15% off")
 * @csspart title - the offer's title
 * @csspart description - the offer's description
 * @csspart code - the coupon code
 * @csspart copy - the Copy button
 * @csspart timer - the time left
 *
 * @cssprop --livetier-accent - accent colour (discount, border, button)
 * @cssprop --livetier-bg - card background
 * @cssprop --livetier-fg - text colour
 * @cssprop --livetier-radius - card corner radius
 * @cssprop --livetier-font - font family
 */
export class LiveTierWidget extends LitElement {
  static override styles = styles;

  static override properties: PropertyDeclarations = {
    server: { type: String },
    stream: { type: String },
    token: { type: String },
    video: { type: String },
    lang: { type: String, reflect: true },
    shown: { state: true },
    copied: { state: true },
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
  declare private shown: ShownOffer[];
  /** id of the offer whose code was just copied */
  declare private copied: string | null;

  private readonly connection = new ClientController(
    this,
    () => this.initOptions(),
    (offer) => this.addOffer(offer),
    (error) => this.dispatchEvent(new CustomEvent('livetier-error', { detail: error, bubbles: true, composed: true })),
  );
  private readonly countdown = new CountdownController(
    this,
    () => this.shown.length > 0,
    (now) => this.prune(now),
  );
  /** offers whose `offer_seen` was tracked (or that were seen without a client) */
  private readonly seen = new Set<string>();
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.shown = [];
    this.copied = null;
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
    this.dispatchEvent(new CustomEvent('livetier-offer', { detail: offer, bubbles: true, composed: true }));
  }

  /** Takes an offer off the screen. */
  removeOffer(id: string) {
    this.shown = this.shown.filter((s) => s.offer.id !== id);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.copiedTimer);
  }

  override render() {
    const lang = resolveLang(this.lang);
    const now = Date.now();
    return html`<div class="stack" aria-live="polite" aria-relevant="additions">
      ${repeat(
        this.shown,
        (s) => s.offer.id,
        (s) => this.renderCard(s, lang, now),
      )}
    </div>`;
  }

  protected override updated() {
    const client = this.client;
    for (const { offer } of this.shown) {
      if (this.seen.has(offer.id)) continue;
      this.seen.add(offer.id);
      client?.track('offer_seen', { offerId: offer.id });
    }
  }

  private renderCard({ offer, endsAt }: ShownOffer, lang: Lang, now: number) {
    const t = TEXT[lang];
    const copied = this.copied === offer.id;
    return html`<article part="card" class="card" data-offer-id=${offer.id}>
      <div class="top">
        <span part="discount" class="discount">${this.discountText(offer, lang)}</span>
        <span part="timer" class="timer" role="timer" aria-live="off">${t.endsIn(formatCountdown(endsAt - now))}</span>
      </div>
      <h3 part="title" class="title">${offer.title}</h3>
      ${offer.description ? html`<p part="description" class="description">${offer.description}</p>` : nothing}
      ${offer.minSpend ? html`<p class="min">${t.minSpend(formatMoney(offer.minSpend, offer.currency, lang))}</p>` : nothing}
      <div class="redeem">
        <code part="code" class="code">${offer.code}</code>
        <button part="copy" class="copy" type="button" aria-label=${copied ? t.copied : t.copyLabel(offer.code)} @click=${() => this.copy(offer)}>
          ${copied ? t.copied : t.copy}
        </button>
      </div>
    </article>`;
  }

  private discountText({ discount, currency }: OfferPayload, lang: Lang): string {
    const t = TEXT[lang];
    return discount.kind === 'amount' ? t.amountOff(formatMoney(discount.value, currency, lang)) : t.percentOff(discount.value);
  }

  /** once a second: drop what expired, re-render the countdowns */
  private prune(now: number) {
    const live = this.shown.filter((s) => s.endsAt > now);
    if (live.length !== this.shown.length) this.shown = live;
    else this.requestUpdate();
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
    this.copied = offer.id;
    clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => (this.copied = null), COPIED_MS);
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
    };
  }
}

if (!customElements.get('livetier-widget')) customElements.define('livetier-widget', LiveTierWidget);

declare global {
  interface HTMLElementTagNameMap {
    'livetier-widget': LiveTierWidget;
  }
  interface GlobalEventHandlersEventMap {
    'livetier-offer': CustomEvent<OfferPayload>;
    'livetier-error': CustomEvent<LiveTierError>;
  }
}
