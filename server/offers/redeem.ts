/**
 * Whether a coupon code may be redeemed by an order now. Pure: both stores read the offer inside
 * their transaction, ask this, then take the code with a conditional UPDATE (single use holds in
 * the database, whatever ran before).
 */
import type { OfferRow, RedeemStatus } from '../store/types.js';

export type RedeemCheck =
  | { ok: true }
  /** this order redeemed the code before: the repeat succeeds without changing anything */
  | { ok: 'repeat' }
  | { ok: false; status: Exclude<RedeemStatus, 'redeemed'>; message: string };

export function checkRedeem(offer: OfferRow | null, channel: string, viewerId: string, orderId: string, now: number): RedeemCheck {
  if (!offer || offer.channel !== channel) return { ok: false, status: 'not_found', message: 'unknown coupon code' };
  if (offer.viewerId !== viewerId) return { ok: false, status: 'other_viewer', message: 'this code belongs to another viewer' };
  if (offer.redeemedAt) {
    return offer.redeemedOrder === orderId
      ? { ok: 'repeat' }
      : { ok: false, status: 'already_redeemed', message: `code already redeemed by order ${offer.redeemedOrder}` };
  }
  if (now >= offer.expiresAt) return { ok: false, status: 'expired', message: 'this code has expired' };
  return { ok: true };
}

/** the message when the conditional UPDATE found the code taken by a concurrent redemption */
export const RACE_LOST = 'code already redeemed';
