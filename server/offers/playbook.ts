/**
 * The default playbook: which offer a viewer gets when. Pure code: the caller passes the
 * transition and the clock; the result says what to issue, or nothing.
 */
import type { Discount, Tier } from '../realtime/events.js';

export interface OfferTemplate {
  /** stable campaign key; a viewer gets each default campaign at most once per stream */
  campaign: string;
  title: string;
  description: string;
  discount: Discount;
  minSpend?: number;
  ttlSeconds: number;
}

export const FIRST_ORDER_WATCH_MS = 5 * 60_000;

export const DEFAULT_PLAYBOOK = {
  high: {
    campaign: 'default:vip',
    title: 'VIP thank-you: 15% off',
    description: 'For our most loyal shoppers. Valid on everything in this stream.',
    discount: { kind: 'percent', value: 15 },
    ttlSeconds: 24 * 3600,
  },
  mid: {
    campaign: 'default:deal',
    title: 'Limited-time deal: ¥30 off',
    description: 'On orders of ¥199 or more. Hurry, it ends soon.',
    discount: { kind: 'amount', value: 3000 },
    minSpend: 19_900,
    ttlSeconds: 15 * 60,
  },
  firstOrder: {
    campaign: 'default:first-order',
    title: 'Your first order: ¥20 off',
    description: 'Thanks for watching! Try us with ¥20 off your first order.',
    discount: { kind: 'amount', value: 2000 },
    minSpend: 9_900,
    ttlSeconds: 30 * 60,
  },
} satisfies Record<string, OfferTemplate>;

/** Offer for a viewer whose tier changed from `from` to `to`; null when the playbook has none. */
export function offerForTierChange(from: Tier | null, to: Tier): OfferTemplate | null {
  if (from === to) return null;
  if (to === 'high') return DEFAULT_PLAYBOOK.high;
  if (to === 'mid' && from !== 'high') return DEFAULT_PLAYBOOK.mid;
  return null;
}

/** Offer for a potential viewer whose watch time in this stream just crossed the milestone. */
export function offerForWatch(tier: Tier, watchMsBefore: number, watchMsAfter: number): OfferTemplate | null {
  if (tier !== 'potential') return null;
  if (watchMsBefore < FIRST_ORDER_WATCH_MS && watchMsAfter >= FIRST_ORDER_WATCH_MS) return DEFAULT_PLAYBOOK.firstOrder;
  return null;
}
