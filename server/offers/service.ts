/**
 * The campaign machinery the engine calls: it keeps each stream's campaigns (creating the four
 * defaults on first use), evaluates triggers with the pure rules, and issues offers through the
 * store's atomic check-and-issue (`issueOffers`), so quotas, budgets, per-viewer limits and the
 * frequency cap hold in the database however many triggers, host sends and servers act at once.
 * Sending the offer is the caller's job (`deps.issued`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CampaignRow, CampaignStatus, OfferRow, Store, StreamRow } from '../store/types.js';
import type { Discount, Tier } from '../realtime/events.js';
import {
  applyPatch, DEFAULT_ATTRIBUTION_HOURS, DEFAULT_CAMPAIGNS, DEFAULT_PER_VIEWER, withShippedTranslations, type CampaignDoc, type CampaignPatch,
} from './campaign.js';
import {
  armOf, cartDue, crossSellRule, decide, DEFAULT_CAP, inAudience, purchaseMatches, tierEntered, watchCrossed,
  type BoughtTogether, type FrequencyCap, type SkipReason,
} from './rules.js';
import { explainText, reason, type Explain } from '../tiering/explain.js';
import { rate, uplift, type Uplift } from './uplift.js';
import type { IssueResult, JobRow } from '../store/types.js';
import { effectKey, type TrackTriggers } from '../jobs/due.js';

export interface OfferServiceDeps {
  store: Store;
  clock: () => number;
  /** what the rules need to know of a viewer now */
  viewer: (channel: string, viewerId: string) => Promise<{ tier: Tier; lifecycle?: string | null; currency: string }>;
  /** the viewer's tier as the model assesses it now (a job run after a restart reads it fresh); fires nothing */
  tierNow: (channel: string, viewerId: string, now: number) => Promise<Tier>;
  /** viewers connected to the stream now */
  connected: (streamId: string) => Iterable<string>;
  /** an offer was issued (committed): push it and count it (`here`: to this process's sockets of the viewer only) */
  issued: (offer: OfferRow, here: boolean) => void;
  /** a stream by id (a job names its stream) */
  stream: (id: string) => Promise<StreamRow | null>;
  /** cluster mode: the other processes send the campaign to their own connected viewers; their counts */
  fanout?: (streamId: string, campaignId: string) => Promise<SendResult[]>;
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

/** One host push as its log lists it (GET /v1/streams/:id/pushes). */
export interface PushView {
  id: string;
  at: number;
  tier: Tier;
  offer: CampaignDoc['offer'];
  holdoutPercent: number;
  sent: number;
  /** viewers of the tier held back for measurement */
  held: number;
  skipped: Record<SkipReason, number>;
  delivered: number;
  seen: number;
  clicked: number;
  redeemed: number;
  treatedConversion: number | null;
  controlConversion: number | null;
  uplift: Uplift;
}

/** viewers per issuing transaction in a push (see fire) */
const FANOUT_CHUNK = 250;

export class OfferService {
  private readonly store: Store;
  private readonly cap: FrequencyCap;
  /** per stream: its campaigns that fire by themselves (not manual), loaded once */
  private readonly triggered = new Map<string, Promise<Map<string, CampaignRow>>>();

  /**
   * the channel's frequently-bought-together rules, for `cross_sell` campaigns (app.ts sets it to
   * the channel model's, services/models.ts; none until then)
   */
  crossSellRules: (channel: string) => Promise<readonly BoughtTogether[]> = async () => [];

  constructor(private readonly deps: OfferServiceDeps) {
    this.store = deps.store;
    this.cap = deps.cap ?? DEFAULT_CAP;
  }

  // ---------------------------------------------------------------- campaigns

  /** The stream's self-firing campaigns; the four defaults are created on the stream's first use. */
  private auto(stream: StreamRow): Promise<Map<string, CampaignRow>> {
    let m = this.triggered.get(stream.id);
    if (!m) {
      m = (async () => {
        await this.store.ensureCampaigns(stream.id, stream.channel, DEFAULT_CAMPAIGNS, this.deps.clock());
        return new Map((await this.store.listTriggered(stream.id)).map((c) => [c.id, c]));
      })();
      this.triggered.set(stream.id, m);
      m.catch(() => this.triggered.delete(stream.id)); // a store that failed: load again next time
    }
    return m;
  }

  /** the stream's campaigns; `adhoc: false` leaves the host's pushes out (they are GET …/pushes) */
  async list(stream: StreamRow, withStats = true, filter: { adhoc?: boolean } = {}): Promise<CampaignView[]> {
    await this.auto(stream);
    const rows = (await this.store.listCampaigns(stream.id)).filter((c) => filter.adhoc === undefined || c.adhoc === filter.adhoc).map((c, i) => ({ c, i }));
    rows.sort((a, b) => Number(a.c.adhoc) - Number(b.c.adhoc) || rank(a.c.id) - rank(b.c.id) || a.i - b.i);
    return Promise.all(rows.map(({ c }) => this.view(c, withStats)));
  }

  /**
   * The host's pushes, newest first: a page of `limit` after `after` (the previous page's last
   * push), each with its funnel and, when it held viewers back, its uplift.
   */
  async pushes(stream: StreamRow, limit: number, after: { at: number; id: string } | null): Promise<{ items: PushView[]; next: { at: number; id: string } | null }> {
    await this.auto(stream);
    const all = (await this.store.listCampaigns(stream.id))
      .filter((c) => c.adhoc)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const from = after ? all.findIndex((c) => c.createdAt < after.at || (c.createdAt === after.at && c.id > after.id)) : 0;
    const page = from < 0 ? [] : all.slice(from, from + limit);
    const items = await Promise.all(
      page.map(async (c): Promise<PushView> => {
        const st = await this.stats(c);
        return {
          id: c.id, at: c.createdAt, tier: (c.doc.audience?.tiers?.[0] ?? 'potential') as Tier, offer: c.doc.offer, holdoutPercent: c.doc.holdoutPercent ?? 0,
          sent: c.issued, held: st.control, skipped: c.skipped, delivered: st.delivered, seen: st.seen, clicked: st.clicked, redeemed: st.redeemed,
          treatedConversion: st.treatedConversion, controlConversion: st.controlConversion, uplift: st.uplift,
        };
      }),
    );
    const last = page[page.length - 1];
    return { items, next: last && from + limit < all.length ? { at: last.createdAt, id: last.id } : null };
  }

  async get(stream: StreamRow, id: string, withStats = true): Promise<CampaignView | null> {
    await this.auto(stream);
    const c = await this.store.getCampaign(stream.id, id);
    return c ? this.view(c, withStats) : null;
  }

  /** Creates a campaign from a checked document; returns its view. */
  async create(stream: StreamRow, doc: CampaignDoc, opts: { id?: string; adhoc?: boolean } = {}): Promise<CampaignView> {
    await this.auto(stream);
    const id = opts.id ?? `c_${randomBytes(8).toString('base64url')}`;
    await this.store.insertCampaign({ streamId: stream.id, id, channel: stream.channel, doc, adhoc: opts.adhoc, now: this.deps.clock() });
    const row = (await this.store.getCampaign(stream.id, id))!;
    await this.remember(row);
    return this.view(row, false);
  }

  /** Pause, resume or edit; null for an unknown campaign. Throws CampaignError for a bad result. */
  async update(stream: StreamRow, id: string, patch: CampaignPatch): Promise<CampaignView | null> {
    await this.auto(stream);
    const c = await this.store.getCampaign(stream.id, id);
    if (!c) return null;
    const { status, ...parts } = patch;
    const doc = Object.keys(parts).length ? applyPatch(c.doc, patch) : c.doc;
    await this.store.updateCampaign(stream.id, id, doc, status ?? c.status, this.deps.clock());
    const row = (await this.store.getCampaign(stream.id, id))!;
    await this.remember(row);
    return this.view(row, true);
  }

  private async remember(c: CampaignRow) {
    const m = await this.triggered.get(c.streamId);
    if (!m) return;
    if (c.doc.trigger.type === 'manual') m.delete(c.id);
    else m.set(c.id, c);
  }

  private async view(c: CampaignRow, withStats: boolean): Promise<CampaignView> {
    return campaignView(c, withStats ? await this.stats(c) : undefined);
  }

  private async stats(c: CampaignRow): Promise<CampaignStats> {
    const windowMs = (c.doc.attributionHours ?? DEFAULT_ATTRIBUTION_HOURS) * 3_600_000;
    const [f, arms] = await Promise.all([this.store.campaignFunnel(c.streamId, c.id), this.store.campaignArms(c.streamId, c.id, c.channel, windowMs)]);
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
   * The check-and-issue of one campaign for some viewers: what the rules need of each viewer is
   * read first; the store then decides for each viewer (with the pure rules, against the campaign
   * and the viewer's history as they are inside its transaction) and issues atomically. The
   * offers are pushed after the commit.
   */
  private async fire(stream: StreamRow, c: CampaignRow, viewerIds: string[], now: number, once?: string, here = false, variant?: OfferVariant): Promise<IssueResult[]> {
    if (c.status !== 'active' || viewerIds.length === 0) return [];
    if (viewerIds.length > FANOUT_CHUNK && once === undefined) {
      // a push to thousands: a transaction per chunk, each chunk's offers sent as soon as it commits,
      // so the first viewers have theirs while the last are still being issued (the stock is
      // checked in each transaction, so the caps hold the same)
      const out: IssueResult[] = [];
      for (let i = 0; i < viewerIds.length; i += FANOUT_CHUNK) out.push(...(await this.fire(stream, c, viewerIds.slice(i, i + FANOUT_CHUNK), now, once, here, variant)));
      return out;
    }
    const facts = new Map<string, { tier: Tier; lifecycle?: string | null; currency: string }>();
    for (const id of viewerIds) facts.set(id, await this.deps.viewer(stream.channel, id));
    const audience = viewerIds.filter((id) => inAudience(c.doc.audience, facts.get(id)!));
    if (!audience.length) return [];
    const cap = this.cap;
    const results = await this.store.issueOffers({
      streamId: stream.id,
      channel: stream.channel,
      campaignId: c.id,
      now,
      viewers: audience.map((viewerId) => ({ viewerId, currency: facts.get(viewerId)!.currency })),
      ...(once !== undefined ? { once } : {}),
      decide: (campaign, history, viewerId) => {
        // the campaign as stored now: paused, or edited to another audience, on another server
        if (campaign.status !== 'active' || !inAudience(campaign.doc.audience, facts.get(viewerId)!)) return null;
        const arm = armOf(stream.id, campaign.id, viewerId, campaign.doc.holdoutPercent ?? 0);
        return decide(campaign.doc, { issued: campaign.issued, committed: campaign.committed }, history, arm, now, cap);
      },
      offer: (campaign, viewerId, currency, value) => offerFor(stream, campaign, viewerId, currency, value, now, variant),
    });
    for (const r of results) if (r.offer) this.deps.issued(r.offer, here);
    return results;
  }

  /**
   * A manual send: the campaign's audience among the viewers connected now. Null for an unknown
   * campaign; `'not_manual'` / `'paused'` when it cannot be sent.
   */
  async send(stream: StreamRow, id: string): Promise<SendResult | 'not_manual' | 'paused' | null> {
    await this.auto(stream);
    const c = await this.store.getCampaign(stream.id, id);
    if (!c) return null;
    if (c.doc.trigger.type !== 'manual') return 'not_manual';
    if (c.status !== 'active') return 'paused';
    return this.sendTo(stream, c);
  }

  /**
   * A send reaches the viewers connected now: this process's own, and (cluster mode) every other
   * process's, each issuing to its own viewers against the campaign's stock in the database, so the
   * fan-out work is split across the processes that hold the viewers and the caps stay exact.
   */
  private async sendTo(stream: StreamRow, c: CampaignRow): Promise<SendResult> {
    const [mine, others] = await Promise.all([this.sendLocal(stream, c), this.deps.fanout?.(stream.id, c.id) ?? []]);
    for (const o of others) {
      mine.sent += o.sent;
      mine.held += o.held;
      for (const k of Object.keys(mine.skipped) as SkipReason[]) mine.skipped[k] += o.skipped[k] ?? 0;
    }
    return mine;
  }

  /** Another process's send (cluster mode): the campaign to this process's connected viewers. */
  async sendHere(stream: StreamRow, campaignId: string): Promise<SendResult> {
    const c = await this.store.getCampaign(stream.id, campaignId);
    if (!c) return { sent: 0, held: 0, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } };
    return this.sendLocal(stream, c);
  }

  private async sendLocal(stream: StreamRow, c: CampaignRow): Promise<SendResult> {
    const res: SendResult = { sent: 0, held: 0, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 } };
    // every process sends its own connected viewers their offers (here = true)
    for (const r of await this.fire(stream, c, [...this.deps.connected(stream.id)], this.deps.clock(), undefined, true)) {
      const d = r.decision;
      if (!d) continue;
      if (d.kind === 'issue') res.sent++;
      else if (d.kind === 'hold') res.held++;
      else res.skipped[d.reason]++;
    }
    return res;
  }

  /** The host's one-click push: an ad-hoc manual campaign for one tier, sent now. */
  async push(stream: StreamRow, tier: Tier, offer: { title: string; description?: string; discount: Discount; ttlSeconds: number; minSpend?: number }, holdoutPercent = 0) {
    await this.auto(stream);
    const doc: CampaignDoc = { name: `Push to ${tier}`, trigger: { type: 'manual' }, audience: { tiers: [tier] }, offer: { ...offer }, holdoutPercent };
    const id = `push:${randomUUID()}`;
    await this.store.insertCampaign({ streamId: stream.id, id, channel: stream.channel, doc, adhoc: true, now: this.deps.clock() });
    const r = await this.sendTo(stream, (await this.store.getCampaign(stream.id, id))!);
    const s = r.skipped;
    return { campaign: id, ...r, skippedTotal: s.capped + s.budget + s.quota + s.alreadyHas };
  }

  // ---------------------------------------------------------------- triggers

  /** A viewer's tier changed (`tier_entered` fires on a move up). */
  async tierChanged(stream: StreamRow, viewerId: string, from: Tier, to: Tier, now: number, once?: string) {
    for (const c of (await this.auto(stream)).values()) {
      if (tierEntered(c.doc.trigger, from, to)) await this.fire(stream, c, [viewerId], now, once);
    }
  }

  /**
   * What a track batch of this stream arms in the database (jobs/due.ts): the delay of its
   * earliest active cart_abandoned campaign, and its active watch milestones.
   */
  async triggers(stream: StreamRow): Promise<TrackTriggers | undefined> {
    let cartDelayMs: number | undefined;
    const milestonesMs: number[] = [];
    for (const c of (await this.auto(stream)).values()) {
      const t = c.doc.trigger;
      if (c.status !== 'active') continue;
      if (t.type === 'cart_abandoned' && t.afterSeconds !== undefined) cartDelayMs = Math.min(cartDelayMs ?? Infinity, t.afterSeconds * 1000);
      else if (t.type === 'watch_milestone' && t.watchSeconds !== undefined) milestonesMs.push(t.watchSeconds * 1000);
    }
    if (cartDelayMs === undefined && !milestonesMs.length) return undefined;
    return { ...(cartDelayMs !== undefined ? { cartDelayMs } : {}), ...(milestonesMs.length ? { milestonesMs } : {}) };
  }

  /**
   * Runs one claimed job (services/jobs.ts): the campaigns its cause triggers fire, each under the
   * job's effect key, so a job run twice issues once. Returns when to run it again (a cart whose
   * later campaigns still wait), or null when it is done.
   */
  async runJob(job: JobRow, now: number): Promise<number | null> {
    const stream = await this.deps.stream(job.streamId);
    if (!stream) return null;
    const once = effectKey(job);
    const viewerId = job.viewerId;
    if (job.kind === 'cart') {
      let next: number | null = null;
      for (const c of (await this.auto(stream)).values()) {
        const t = c.doc.trigger;
        if (t.type !== 'cart_abandoned' || t.afterSeconds === undefined || c.status !== 'active') continue;
        if (cartDue(t, job.armedAt, now)) await this.fire(stream, c, [viewerId], now, once);
        else next = Math.min(next ?? Infinity, job.armedAt + t.afterSeconds * 1000);
      }
      return next;
    }
    if (job.kind === 'watch') {
      const { beforeMs, afterMs } = job.payload as { beforeMs: number; afterMs: number };
      let bought: boolean | undefined;
      for (const c of (await this.auto(stream)).values()) {
        if (!watchCrossed(c.doc.trigger, beforeMs, afterMs)) continue;
        bought ??= await this.store.boughtHere(stream.channel, stream.id, viewerId); // "without buying": no verified purchase in this stream
        if (!bought) await this.fire(stream, c, [viewerId], now, once);
      }
      return null;
    }
    // a verified purchase: tier_entered on the move it caused, then the purchase campaigns its SKUs match
    const { fromTier, skus } = job.payload as { fromTier: Tier; skus: string[] };
    await this.tierChanged(stream, viewerId, fromTier, await this.deps.tierNow(stream.channel, viewerId, now), now, once);
    let rules: readonly BoughtTogether[] | undefined;
    for (const c of (await this.auto(stream)).values()) {
      if (purchaseMatches(c.doc.trigger, skus)) await this.fire(stream, c, [viewerId], now, once);
      else if (c.doc.trigger.type === 'cross_sell' && c.status === 'active' && skus.length) {
        // "buyers of what you just bought also buy …": the rule's consequent, offered
        rules ??= await this.crossSellRules(stream.channel);
        const rule = crossSellRule(c.doc.trigger, rules, skus);
        if (rule) {
          const why = reason('crossSell.rule', { if: rule.if, then: rule.then, confidence: rule.confidence });
          await this.fire(stream, c, [viewerId], now, once, false, { skus: rule.then, explain: why });
        }
      }
    }
    return null;
  }
}

/** the defaults first, in their order; then the merchant's campaigns; ad-hoc pushes last (the store's order) */
function rank(id: string): number {
  const i = DEFAULT_CAMPAIGNS.findIndex((d) => d.id === id);
  return i < 0 ? DEFAULT_CAMPAIGNS.length : i;
}

/** what the API shows of a campaign */
export function campaignView(c: CampaignRow, stats?: CampaignStats): CampaignView {
  const budget = c.doc.limits?.budget;
  return {
    id: c.id,
    ...withShippedTranslations(c.id, c.doc),
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
    ...(stats ? { stats } : {}),
  };
}

/**
 * What one trigger makes of a campaign's offer: a cross-sell offer is for the rule's consequent
 * (its `skus`), and its description says why, in every language the widget speaks.
 */
export interface OfferVariant {
  skus: string[];
  explain: Explain;
}

/** the offer's text with the reason first in each language (the merchant's description, if any, after it) */
function withReason(o: CampaignDoc['offer'], why: Explain): Pick<CampaignDoc['offer'], 'description' | 'i18n'> {
  const say = (lang: 'en' | 'zh-CN', description: string | undefined) => [explainText(why, lang), description].filter(Boolean).join(' · ');
  return {
    description: say('en', o.description),
    i18n: {
      ...o.i18n,
      en: { ...o.i18n?.en, description: say('en', o.i18n?.en?.description ?? o.description) },
      'zh-CN': { ...o.i18n?.['zh-CN'], description: say('zh-CN', o.i18n?.['zh-CN']?.description) },
    },
  };
}

/** the offer a campaign issues to one viewer (the store sets its code); it keeps the campaign's translations of its text */
function offerFor(stream: StreamRow, c: CampaignRow, viewerId: string, currency: string, value: number, now: number, variant?: OfferVariant) {
  const shipped = withShippedTranslations(c.id, c.doc).offer;
  const o = variant ? { ...shipped, ...withReason(shipped, variant.explain), skus: variant.skus } : shipped;
  return {
    id: randomUUID(),
    channel: stream.channel,
    streamId: stream.id,
    viewerId,
    campaign: c.id,
    title: o.title,
    description: o.description ?? null,
    discountKind: o.discount.kind,
    discountValue: o.discount.value,
    minSpend: o.minSpend ?? null,
    currency,
    createdAt: now,
    expiresAt: now + o.ttlSeconds * 1000,
    value,
    maxDiscount: o.maxDiscount ?? null,
    skus: o.skus ?? null,
    i18n: o.i18n && Object.keys(o.i18n).length ? o.i18n : null,
  };
}
