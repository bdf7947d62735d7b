/**
 * The campaign machinery the engine calls: it keeps each stream's campaigns (creating the four
 * defaults on first use), evaluates triggers with the pure rules, and issues offers with one
 * synchronous SQLite transaction per check-and-issue, so quotas, budgets, per-viewer limits and
 * the frequency cap hold however many triggers and host sends arrive at once. Sending the offer
 * is the caller's job (`deps.issued`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DB } from '../store/sqlite/db.js';
import type { OfferRow, StreamRow } from '../store/sqlite/repo.js';
import { createCampaignStore, type CampaignRow, type CampaignStatus } from '../store/sqlite/campaigns.js';
import type { Discount, Tier } from '../realtime/events.js';
import {
  applyPatch, DEFAULT_ATTRIBUTION_HOURS, DEFAULT_CAMPAIGNS, DEFAULT_PER_VIEWER, type CampaignDoc, type CampaignPatch,
} from './campaign.js';
import {
  armOf, cartDue, decide, DEFAULT_CAP, inAudience, purchaseMatches, tierEntered, watchCrossed,
  type Decision, type FrequencyCap, type SkipReason,
} from './rules.js';
import { rate, uplift, type Uplift } from './uplift.js';
import { generateCode } from './codes.js';

export interface OfferServiceDeps {
  db: DB;
  clock: () => number;
  /** what the rules need to know of a viewer now */
  viewer: (channel: string, viewerId: string) => { tier: Tier; lifecycle?: string | null; currency: string };
  /** viewers connected to the stream now */
  connected: (streamId: string) => Iterable<string>;
  /** an offer was issued (committed): push it and count it */
  issued: (offer: OfferRow) => void;
  cap?: FrequencyCap;
}

export interface SendResult {
  sent: number;
  held: number;
  skipped: Record<SkipReason, number>;
}

export interface CampaignStats {
  eligible: number;
  issued: number;
  delivered: number;
  seen: number;
  clicked: number;
  redeemed: number;
  control: number;
  treatedConversion: number | null;
  controlConversion: number | null;
  uplift: Uplift;
}

export interface CampaignView extends CampaignDoc {
  id: string;
  status: CampaignStatus;
  adhoc: boolean;
  limits: { perViewer: number; maxIssued?: number; budget?: number };
  holdoutPercent: number;
  attributionHours: number;
  issued: number;
  /** discount value committed so far (minor units) */
  committed: number;
  /** budget − committed, null without a budget */
  budgetLeft: number | null;
  skipped: Record<SkipReason, number>;
  createdAt: number;
  updatedAt: number;
  stats?: CampaignStats;
}

interface Cart {
  streamId: string;
  at: number;
  /** cart_abandoned campaigns already evaluated for this cart */
  fired: Set<string>;
}

/** pending carts are forgotten after this long (no cart campaign waits a day) */
const CART_MEMORY_MS = 86_400_000;

export class OfferService {
  private readonly store;
  private readonly cap: FrequencyCap;
  /** per stream: its campaigns that fire by themselves (not manual), loaded once */
  private readonly triggered = new Map<string, Map<string, CampaignRow>>();
  /** pending carts by channel and viewer (in memory; restoreCarts rebuilds them from SQLite after a restart) */
  private readonly carts = new Map<string, Cart>();

  constructor(private readonly deps: OfferServiceDeps) {
    this.store = createCampaignStore(deps.db);
    this.cap = deps.cap ?? DEFAULT_CAP;
  }

  // ---------------------------------------------------------------- campaigns

  /** The stream's self-firing campaigns; the four defaults are created on the stream's first use. */
  private auto(stream: StreamRow): Map<string, CampaignRow> {
    let m = this.triggered.get(stream.id);
    if (m) return m;
    const now = this.deps.clock();
    this.deps.db.transaction(() => {
      for (const d of DEFAULT_CAMPAIGNS) this.store.insert({ streamId: stream.id, id: d.id, channel: stream.channel, doc: d.doc, now });
    })();
    m = new Map(this.store.listTriggered(stream.id).map((c) => [c.id, c]));
    this.triggered.set(stream.id, m);
    return m;
  }

  list(stream: StreamRow, withStats = true): CampaignView[] {
    this.auto(stream);
    // the defaults first, in their order; then the merchant's campaigns; ad-hoc pushes last (the store's order)
    const rank = (id: string) => {
      const i = DEFAULT_CAMPAIGNS.findIndex((d) => d.id === id);
      return i < 0 ? DEFAULT_CAMPAIGNS.length : i;
    };
    const rows = this.store.list(stream.id).map((c, i) => ({ c, i }));
    rows.sort((a, b) => Number(a.c.adhoc) - Number(b.c.adhoc) || rank(a.c.id) - rank(b.c.id) || a.i - b.i);
    return rows.map(({ c }) => this.view(c, withStats));
  }

  get(stream: StreamRow, id: string, withStats = true): CampaignView | null {
    this.auto(stream);
    const c = this.store.get(stream.id, id);
    return c ? this.view(c, withStats) : null;
  }

  /** Creates a campaign from a checked document; returns its view. */
  create(stream: StreamRow, doc: CampaignDoc, opts: { id?: string; adhoc?: boolean } = {}): CampaignView {
    this.auto(stream);
    const id = opts.id ?? `c_${randomBytes(8).toString('base64url')}`;
    const now = this.deps.clock();
    this.store.insert({ streamId: stream.id, id, channel: stream.channel, doc, adhoc: opts.adhoc, now });
    const row = this.store.get(stream.id, id)!;
    this.remember(row);
    return this.view(row, false);
  }

  /** Pause, resume or edit; null for an unknown campaign. Throws CampaignError for a bad result. */
  update(stream: StreamRow, id: string, patch: CampaignPatch): CampaignView | null {
    this.auto(stream);
    const c = this.store.get(stream.id, id);
    if (!c) return null;
    const { status, ...parts } = patch;
    const doc = Object.keys(parts).length ? applyPatch(c.doc, patch) : c.doc;
    this.store.update(stream.id, id, doc, status ?? c.status, this.deps.clock());
    const row = this.store.get(stream.id, id)!;
    this.remember(row);
    return this.view(row, true);
  }

  private remember(c: CampaignRow) {
    const m = this.triggered.get(c.streamId);
    if (!m) return;
    if (c.doc.trigger.type === 'manual') m.delete(c.id);
    else m.set(c.id, c);
  }

  private view(c: CampaignRow, withStats: boolean): CampaignView {
    const budget = c.doc.limits?.budget;
    return {
      id: c.id,
      ...c.doc,
      status: c.status,
      adhoc: c.adhoc,
      limits: { ...c.doc.limits, perViewer: c.doc.limits?.perViewer ?? DEFAULT_PER_VIEWER },
      holdoutPercent: c.doc.holdoutPercent ?? 0,
      attributionHours: c.doc.attributionHours ?? DEFAULT_ATTRIBUTION_HOURS,
      issued: c.issued,
      committed: c.committed,
      budgetLeft: budget === undefined ? null : Math.max(0, budget - c.committed),
      skipped: c.skipped,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      ...(withStats ? { stats: this.stats(c) } : {}),
    };
  }

  private stats(c: CampaignRow): CampaignStats {
    const f = this.store.funnel(c.streamId, c.id);
    const windowMs = (c.doc.attributionHours ?? DEFAULT_ATTRIBUTION_HOURS) * 3_600_000;
    const arms = this.store.arms(c.streamId, c.id, c.channel, windowMs);
    const t = arms.find((a) => a.arm === 'treatment') ?? { n: 0, conversions: 0 };
    const k = arms.find((a) => a.arm === 'control') ?? { n: 0, conversions: 0 };
    return {
      eligible: t.n + k.n,
      ...f,
      control: k.n,
      treatedConversion: rate(t),
      controlConversion: rate(k),
      uplift: uplift(t, k),
    };
  }

  // ---------------------------------------------------------------- issuing

  /**
   * The check-and-issue of one offer, in one synchronous transaction (a send's, for a batch): read the campaign's
   * counters and the viewer's history, decide, then take stock with a conditional UPDATE and
   * insert the offer (or record the control assignment, or the skip).
   */
  private attempt(stream: StreamRow, c: CampaignRow, viewerId: string, now: number, out?: OfferRow[]): Decision {
    let issued: OfferRow | null = null;
    const checkAndIssue = (): Decision => {
      const counters = this.store.counters(stream.id, c.id);
      const history = this.store.history(stream.id, c.id, viewerId);
      const arm = armOf(stream.id, c.id, viewerId, c.doc.holdoutPercent ?? 0);
      const d = decide(c.doc, counters, history, arm, now, this.cap);
      if (d.kind === 'skip') {
        this.store.skip(stream.id, c.id, d.reason);
        return d;
      }
      if (d.kind === 'hold') {
        this.store.assign(stream.id, c.id, viewerId, stream.channel, 'control', now);
        return d;
      }
      if (!this.store.take(stream.id, c.id, d.value)) {
        // only reachable if the document and the columns disagree; the columns are the guarantee
        this.store.skip(stream.id, c.id, 'quota');
        return { kind: 'skip', reason: 'quota' };
      }
      issued = this.insertOffer(stream, c, viewerId, d.value, now);
      this.store.assign(stream.id, c.id, viewerId, stream.channel, 'treatment', now);
      return d;
    };
    // Inside a batch (a send) the batch's transaction already holds the whole audience, and an error
    // rolls all of it back: a savepoint per viewer would only cost time. Alone: its own transaction.
    const decision = out && this.deps.db.inTransaction ? checkAndIssue() : this.deps.db.transaction(checkAndIssue)();
    if (issued) {
      // inside a batch (a send), the offers are pushed after the batch's transaction commits
      if (out) out.push(issued);
      else this.deps.issued(issued);
    }
    return decision;
  }

  private insertOffer(stream: StreamRow, c: CampaignRow, viewerId: string, value: number, now: number): OfferRow {
    const o = c.doc.offer;
    const row = {
      id: randomUUID(),
      code: '',
      channel: stream.channel,
      streamId: stream.id,
      viewerId,
      campaign: c.id,
      title: o.title,
      description: o.description ?? null,
      discountKind: o.discount.kind,
      discountValue: o.discount.value,
      minSpend: o.minSpend ?? null,
      currency: this.deps.viewer(stream.channel, viewerId).currency,
      createdAt: now,
      expiresAt: now + o.ttlSeconds * 1000,
      value,
      maxDiscount: o.maxDiscount ?? null,
      skus: o.skus ?? null,
    };
    for (let attempt = 0; ; attempt++) {
      row.code = generateCode();
      try {
        this.store.insertOffer(row);
        break;
      } catch (err: any) {
        // a code collision (2^-49 per pair) is retried; anything else is a real error
        if (attempt < 5 && err?.code === 'SQLITE_CONSTRAINT_UNIQUE' && String(err.message).includes('offers.code')) continue;
        throw err;
      }
    }
    const { value: _v, ...offer } = row;
    return { ...offer, deliveredAt: null, seenAt: null, clickedAt: null, redeemedAt: null, redeemedOrder: null };
  }

  /** Evaluates the audience, then attempts; null when the viewer is not in the audience. */
  private fire(stream: StreamRow, c: CampaignRow, viewerId: string, now: number, out?: OfferRow[]): Decision | null {
    if (c.status !== 'active') return null;
    if (!inAudience(c.doc.audience, this.deps.viewer(stream.channel, viewerId))) return null;
    return this.attempt(stream, c, viewerId, now, out);
  }

  /**
   * A manual send: the campaign's audience among the viewers connected now. Null for an unknown
   * campaign; `'not_manual'` / `'paused'` when it cannot be sent.
   */
  send(stream: StreamRow, id: string): SendResult | 'not_manual' | 'paused' | null {
    this.auto(stream);
    const c = this.store.get(stream.id, id);
    if (!c) return null;
    if (c.doc.trigger.type !== 'manual') return 'not_manual';
    if (c.status !== 'active') return 'paused';
    return this.sendTo(stream, c);
  }

  private sendTo(stream: StreamRow, c: CampaignRow): SendResult {
    const now = this.deps.clock();
    const res: SendResult = { sent: 0, held: 0, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } };
    const issued: OfferRow[] = [];
    // one outer transaction for the whole audience (each viewer's check-and-issue is a savepoint in it)
    this.deps.db.transaction(() => {
      for (const viewerId of [...this.deps.connected(stream.id)]) {
        const d = this.fire(stream, c, viewerId, now, issued);
        if (!d) continue;
        if (d.kind === 'issue') res.sent++;
        else if (d.kind === 'hold') res.held++;
        else res.skipped[d.reason]++;
      }
    })();
    for (const o of issued) this.deps.issued(o);
    return res;
  }

  /** The host's one-click push: an ad-hoc manual campaign for one tier, sent now. */
  push(stream: StreamRow, tier: Tier, offer: { title: string; description?: string; discount: Discount; ttlSeconds: number; minSpend?: number }) {
    this.auto(stream);
    const doc: CampaignDoc = { name: `Push to ${tier}`, trigger: { type: 'manual' }, audience: { tiers: [tier] }, offer: { ...offer } };
    const id = `push:${randomUUID()}`;
    this.store.insert({ streamId: stream.id, id, channel: stream.channel, doc, adhoc: true, now: this.deps.clock() });
    const r = this.sendTo(stream, this.store.get(stream.id, id)!);
    const s = r.skipped;
    return { campaign: id, ...r, skippedTotal: r.held + s.capped + s.budget + s.quota + s.alreadyHas };
  }

  // ---------------------------------------------------------------- triggers

  /** A viewer's tier changed (`tier_entered` fires on a move up). */
  tierChanged(stream: StreamRow, viewerId: string, from: Tier, to: Tier, now: number) {
    for (const c of this.auto(stream).values()) {
      if (tierEntered(c.doc.trigger, from, to)) this.fire(stream, c, viewerId, now);
    }
  }

  /** This stream's credited watch time went from `beforeMs` to `afterMs`. */
  watched(stream: StreamRow, viewerId: string, beforeMs: number, afterMs: number, now: number) {
    let bought: boolean | undefined;
    for (const c of this.auto(stream).values()) {
      if (!watchCrossed(c.doc.trigger, beforeMs, afterMs)) continue;
      bought ??= this.store.boughtHere(stream.channel, stream.id, viewerId); // "without buying": no verified purchase in this stream
      if (!bought) this.fire(stream, c, viewerId, now);
    }
  }

  /** An add_to_cart was accepted: the cart clock (re)starts. */
  cartAdded(stream: StreamRow, viewerId: string, now: number) {
    const k = `${stream.channel}\u0000${viewerId}`;
    const cart = this.carts.get(k);
    if (cart && cart.streamId === stream.id) cart.at = now;
    else this.carts.set(k, { streamId: stream.id, at: now, fired: new Set() });
  }

  /**
   * After a restart: the carts still open (an add_to_cart in the last day, no purchase since, in a
   * stream with an active cart_abandoned campaign) get their clocks back, so a cart left while the
   * server was down still gets its offer (late rather than never); campaigns that already issued
   * an offer or a holdout assignment since the cart do not fire again. Returns how many.
   */
  restoreCarts(now: number): number {
    let n = 0;
    for (const c of this.store.openCarts(now - CART_MEMORY_MS)) {
      const k = `${c.channel}\u0000${c.viewerId}`;
      const mine = this.carts.get(k);
      if (mine && mine.at >= c.at) continue;
      this.carts.set(k, { streamId: c.streamId, at: c.at, fired: new Set(c.answered) });
      n++;
    }
    return n;
  }

  /** The viewer bought (a verified purchase, or their own client's purchase event): no cart is abandoned. */
  bought(channel: string, viewerId: string) {
    this.carts.delete(`${channel}\u0000${viewerId}`);
  }

  /** A verified purchase: `purchase` campaigns whose SKUs match fire, and the viewer's cart is closed. */
  purchased(stream: StreamRow, viewerId: string, skus: string[], now: number) {
    this.bought(stream.channel, viewerId);
    for (const c of this.auto(stream).values()) {
      if (purchaseMatches(c.doc.trigger, skus)) this.fire(stream, c, viewerId, now);
    }
  }

  /** Time passed: carts left long enough fire their `cart_abandoned` campaigns. */
  sweep(now: number, streamOf: (id: string) => StreamRow | null) {
    for (const [k, cart] of this.carts) {
      if (now - cart.at > CART_MEMORY_MS) {
        this.carts.delete(k);
        continue;
      }
      const stream = streamOf(cart.streamId);
      if (!stream) {
        this.carts.delete(k);
        continue;
      }
      const viewerId = k.slice(k.indexOf('\u0000') + 1);
      let waiting = false;
      for (const c of this.auto(stream).values()) {
        if (c.doc.trigger.type !== 'cart_abandoned' || cart.fired.has(c.id)) continue;
        if (!cartDue(c.doc.trigger, cart.at, now)) {
          waiting = true;
          continue;
        }
        cart.fired.add(c.id);
        this.fire(stream, c, viewerId, now);
      }
      if (!waiting) this.carts.delete(k);
    }
  }
}
