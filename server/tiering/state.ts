/**
 * What the model knows about one viewer in one channel, and the pure updates the ingest path
 * applies to it. Every update is idempotent for a repeated input (purchases by order id, refunds
 * by total refunded) and commutative, so replaying the same inputs in any order, with duplicates
 * removed by their ids upstream, gives the same state.
 */
import type { Engagement, VerifiedPurchase } from './model.js';
import { engagementPoints, engagementWeight } from './engagement.js';

/** how many recent checkouts and offers a profile keeps (enough for the lifecycle rules) */
export const RECENT_KEPT = 5;

/** A viewer's state; its lifetime counters in this channel (`Engagement`) are its own fields (one object fewer a viewer). */
export interface ViewerState extends Engagement {
  /** verified purchases, `amount` net of refunds */
  purchases: VerifiedPurchase[];
  /** Σ points · weight(at): see engagement.ts */
  engWeighted: number;
  firstSeenAt: number;
  lastSeenAt: number;
  checkouts: number[];
  offers: { id: string; expiresAt: number; engaged: boolean }[];
  currency?: string;
}

/**
 * The lists of a state that has none yet: one shared, frozen empty list (most viewers never buy,
 * check out or get an offer, and an empty array is 32 bytes each). The updates below give a state
 * its own list on its first entry; anything else that tried to write into a shared one would throw.
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

export function emptyState(at: number): ViewerState {
  // every field in the literal (currency too), so a state is one object of one shape
  return {
    purchases: NONE, watchMs: 0, comments: 0, likes: 0, productViews: 0, addToCarts: 0, engWeighted: 0,
    firstSeenAt: at, lastSeenAt: at, checkouts: NONE, offers: NONE, currency: undefined,
  };
}

/** the state's lifetime counters as an Engagement of their own */
export function engagementOf(s: Engagement): Engagement {
  return { watchMs: s.watchMs, comments: s.comments, likes: s.likes, productViews: s.productViews, addToCarts: s.addToCarts };
}

export interface Activity {
  watchMs: number;
  comments: number;
  likes: number;
  likeEvents: number;
  productViews: number;
  addToCarts: number;
}

export const noActivity = (): Activity => ({ watchMs: 0, comments: 0, likes: 0, likeEvents: 0, productViews: 0, addToCarts: 0 });

/** the weighted engagement a batch of activity received at `at` adds */
export function activityWeight(a: Activity, at: number): number {
  const pts = engagementPoints(a);
  return pts > 0 ? pts * engagementWeight(at) : 0;
}

/** A visit or a batch of activity, on the server's clock. */
export function addActivity(s: ViewerState, a: Activity, at: number): void {
  s.watchMs += a.watchMs;
  s.comments += a.comments;
  s.likes += a.likes;
  s.productViews += a.productViews;
  s.addToCarts += a.addToCarts;
  s.engWeighted += activityWeight(a, at);
  seen(s, at);
}

export function seen(s: ViewerState, at: number): void {
  if (at > s.lastSeenAt) s.lastSeenAt = at;
  if (at < s.firstSeenAt) s.firstSeenAt = at;
}

export function addCheckout(s: ViewerState, at: number): void {
  const list = s.checkouts === NONE ? (s.checkouts = []) : s.checkouts;
  list.push(at);
  list.sort((a, b) => b - a);
  list.length = Math.min(list.length, RECENT_KEPT);
}

/** A verified purchase; a repeated order id changes nothing. `firstSeenAt` moves back to its `at` if earlier. */
export function addPurchase(s: ViewerState, p: VerifiedPurchase): boolean {
  if (s.purchases.some((q) => q.orderId === p.orderId)) return false;
  if (s.purchases === NONE) s.purchases = [];
  s.purchases.push({ orderId: p.orderId, amount: p.amount, at: p.at });
  if (p.at < s.firstSeenAt) s.firstSeenAt = p.at;
  return true;
}

/** A refund: the order's net becomes gross − refundedTotal (idempotent). */
export function refundPurchase(s: ViewerState, orderId: string, gross: number, refundedTotal: number): boolean {
  const p = s.purchases.find((q) => q.orderId === orderId);
  if (!p) return false;
  p.amount = Math.max(0, gross - refundedTotal);
  return true;
}

/** An offer issued to the viewer (kept: the newest few). */
export function addOffer(s: ViewerState, o: { id: string; expiresAt: number; engaged?: boolean }): void {
  if (s.offers.some((x) => x.id === o.id)) return;
  if (s.offers === NONE) s.offers = [];
  s.offers.push({ id: o.id, expiresAt: o.expiresAt, engaged: !!o.engaged });
  // newest first; ties by id, so the offers kept do not depend on the order they arrived in
  s.offers.sort((a, b) => b.expiresAt - a.expiresAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  s.offers.length = Math.min(s.offers.length, RECENT_KEPT);
}

/** The viewer clicked or redeemed an offer. */
export function offerEngaged(s: ViewerState, offerId: string): void {
  const o = s.offers.find((x) => x.id === offerId);
  if (o) o.engaged = true;
}
