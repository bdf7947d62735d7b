/**
 * The offer rules: when a trigger fires, who is in an audience, which arm of the holdout a viewer
 * is in, and whether one more offer may be issued (per-viewer limit, the cross-campaign frequency
 * cap, the quota, the budget). Pure functions over plain data; the caller passes the clock.
 */
import { createHash } from 'node:crypto';
import type { Tier } from '../realtime/events.js';
import { committedValue, DEFAULT_PER_VIEWER, TIER_RANK, type CampaignDoc, type TriggerType } from './campaign.js';

// ---------------------------------------------------------------- triggers

/** `tier_entered`: the viewer moved *up* into the campaign's tier (a move down never fires). */
export function tierEntered(trigger: CampaignDoc['trigger'], from: Tier, to: Tier): boolean {
  return trigger.type === 'tier_entered' && trigger.tier === to && TIER_RANK[to] > TIER_RANK[from];
}

/** `watch_milestone`: this stream's credited watch time just crossed `watchSeconds`. */
export function watchCrossed(trigger: CampaignDoc['trigger'], beforeMs: number, afterMs: number): boolean {
  if (trigger.type !== 'watch_milestone' || trigger.watchSeconds === undefined) return false;
  const at = trigger.watchSeconds * 1000;
  return beforeMs < at && afterMs >= at;
}

/** `purchase`: a verified purchase, narrowed to orders holding one of `trigger.skus` when given. */
export function purchaseMatches(trigger: CampaignDoc['trigger'], skus: readonly string[]): boolean {
  if (trigger.type !== 'purchase') return false;
  return !trigger.skus || trigger.skus.some((s) => skus.includes(s));
}

/** a frequently-bought-together rule, as the channel's model mined it (predict/channel-model.ts CrossSellRule) */
export interface BoughtTogether {
  if: string[];
  then: string[];
  support: number;
  confidence: number;
  lift: number;
  orders: number;
}

export const CROSS_SELL_DEFAULT_MIN_CONFIDENCE = 0.3;
export const CROSS_SELL_DEFAULT_MIN_LIFT = 1;

/**
 * `cross_sell`: the rule a verified order answers, or null. A rule applies when the order holds
 * all of its antecedent and none of its consequent (nobody is offered what they just bought), and
 * it is as confident and lifts as much as the trigger asks. The most confident wins; then the
 * higher lift, the more orders, and the SKUs' order, so every server picks the same.
 */
export function crossSellRule(trigger: CampaignDoc['trigger'], rules: readonly BoughtTogether[], skus: readonly string[]): BoughtTogether | null {
  if (trigger.type !== 'cross_sell' || !skus.length) return null;
  const minConfidence = trigger.minConfidence ?? CROSS_SELL_DEFAULT_MIN_CONFIDENCE;
  const minLift = trigger.minLift ?? CROSS_SELL_DEFAULT_MIN_LIFT;
  const held = new Set(skus);
  let best: BoughtTogether | null = null;
  for (const r of rules) {
    if (r.confidence < minConfidence || r.lift < minLift) continue;
    if (!r.if.every((s) => held.has(s)) || r.then.some((s) => held.has(s))) continue;
    if (!best || better(r, best)) best = r;
  }
  return best;
}

function better(a: BoughtTogether, b: BoughtTogether): boolean {
  if (a.confidence !== b.confidence) return a.confidence > b.confidence;
  if (a.lift !== b.lift) return a.lift > b.lift;
  if (a.orders !== b.orders) return a.orders > b.orders;
  return `${a.if.join(',')}>${a.then.join(',')}` < `${b.if.join(',')}>${b.then.join(',')}`;
}

/** `cart_abandoned`: `afterSeconds` have passed since the last add-to-cart with no purchase since. */
export function cartDue(trigger: CampaignDoc['trigger'], cartAt: number, now: number): boolean {
  return trigger.type === 'cart_abandoned' && trigger.afterSeconds !== undefined && now - cartAt >= trigger.afterSeconds * 1000;
}

// ---------------------------------------------------------------- audience

export interface ViewerFacts {
  tier: Tier;
  /** lifecycle stage from the tiering model; unknown viewers match no lifecycle audience */
  lifecycle?: string | null;
}

/** Tiers and lifecycle both narrow (AND); an absent list matches everyone. */
export function inAudience(audience: CampaignDoc['audience'], v: ViewerFacts): boolean {
  if (audience?.tiers && !audience.tiers.includes(v.tier)) return false;
  if (audience?.lifecycle && !(v.lifecycle && (audience.lifecycle as readonly string[]).includes(v.lifecycle))) return false;
  return true;
}

// ---------------------------------------------------------------- holdout

/**
 * Deterministic arm: the first 32 bits of SHA-256(stream, campaign, viewer) as a fraction of 2^32,
 * times 100, below `holdoutPercent` → control. The same viewer always lands in the same arm.
 */
export function holdoutBucket(streamId: string, campaignId: string, viewerId: string): number {
  const h = createHash('sha256').update(`${streamId}\u0000${campaignId}\u0000${viewerId}`).digest();
  return (h.readUInt32BE(0) / 2 ** 32) * 100;
}

export function armOf(streamId: string, campaignId: string, viewerId: string, holdoutPercent: number): 'treatment' | 'control' {
  return holdoutPercent > 0 && holdoutBucket(streamId, campaignId, viewerId) < holdoutPercent ? 'control' : 'treatment';
}

// ---------------------------------------------------------------- limits and the frequency cap

/** The cross-campaign cap per viewer and stream, so the stream never becomes spam. */
export interface FrequencyCap {
  /** at most one offer per this many seconds… */
  minIntervalSeconds: number;
  /** …and at most this many offers per viewer in one stream */
  maxPerStream: number;
}

export const DEFAULT_CAP: FrequencyCap = { minIntervalSeconds: 120, maxPerStream: 5 };

/**
 * Offers that answer the viewer's own verified purchase (moving up a tier, a next-order offer)
 * skip the minimum interval: they are rewards, not interruptions. They still count toward
 * `maxPerStream`, and toward the interval of the offers after them.
 */
export const INTERVAL_EXEMPT: readonly TriggerType[] = ['tier_entered', 'purchase', 'cross_sell'];

/** What the store knows about one viewer's offers, read inside the issuing transaction. */
export interface ViewerHistory {
  /** offers this campaign already issued to the viewer */
  inCampaign: number;
  /** offers of any campaign issued to the viewer in this stream */
  inStream: number;
  /** when the last of those was issued (ms), null if none */
  lastAt: number | null;
}

export interface CampaignCounters {
  issued: number;
  /** discount value committed so far (minor units) */
  committed: number;
}

export type SkipReason = 'alreadyHas' | 'capped' | 'quota' | 'budget';

export type Decision =
  | { kind: 'issue'; value: number }
  | { kind: 'hold' }
  | { kind: 'skip'; reason: SkipReason };

/**
 * One viewer, one campaign, now: issue, hold (control arm) or skip, and why. Viewer-level checks
 * come first, then the campaign's stock, then the holdout: the control arm is made of viewers who
 * would have received the offer, so the arms stay comparable, and held viewers cost nothing.
 */
export function decide(
  doc: CampaignDoc,
  counters: CampaignCounters,
  history: ViewerHistory,
  arm: 'treatment' | 'control',
  now: number,
  cap: FrequencyCap = DEFAULT_CAP,
): Decision {
  const limits = doc.limits ?? {};
  if (history.inCampaign >= (limits.perViewer ?? DEFAULT_PER_VIEWER)) return { kind: 'skip', reason: 'alreadyHas' };
  if (history.inStream >= cap.maxPerStream) return { kind: 'skip', reason: 'capped' };
  if (
    !INTERVAL_EXEMPT.includes(doc.trigger.type) &&
    history.lastAt !== null &&
    now - history.lastAt < cap.minIntervalSeconds * 1000
  ) {
    return { kind: 'skip', reason: 'capped' };
  }
  if (limits.maxIssued !== undefined && counters.issued >= limits.maxIssued) return { kind: 'skip', reason: 'quota' };
  const value = committedValue(doc.offer);
  if (limits.budget !== undefined && counters.committed + value > limits.budget) return { kind: 'skip', reason: 'budget' };
  if (arm === 'control') return { kind: 'hold' };
  return { kind: 'issue', value };
}
