/**
 * Database rows (snake_case, JSON kept as text) to the store's row types, the same way the
 * SQLite store reads them, so both stores hand callers identical objects; and the other way, rows
 * to the column arrays multi-row statements pass to UNNEST.
 */
import type { CampaignRow, OfferRow, PurchaseRow, StreamRow, ViewerRow, ViewerStreamRow } from '../types.js';
import { toExplain } from '../../tiering/explain.js';

type Row = Record<string, any>;

const json = (v: string | null | undefined) => (v ? JSON.parse(v) : null);

export const streamFrom = (r: Row): StreamRow => ({
  id: r.id, channel: r.channel, title: r.title, allowedOrigins: JSON.parse(r.allowed_origins), createdAt: r.created_at,
  hostKeyHash: r.host_key_hash, ingestKeyHash: r.ingest_key_hash, endedAt: r.ended_at ?? null,
});

export const purchaseFrom = (r: Row): PurchaseRow => ({
  channel: r.channel, orderId: r.order_id, streamId: r.stream_id, viewerId: r.viewer_id, amount: r.amount,
  refunded: r.refunded, currency: r.currency, items: json(r.items), couponCode: r.coupon_code, at: r.at, createdAt: r.created_at,
});

export const offerFrom = (r: Row): OfferRow => ({
  id: r.id, code: r.code, channel: r.channel, streamId: r.stream_id, viewerId: r.viewer_id, campaign: r.campaign,
  title: r.title, description: r.description, discountKind: r.discount_kind, discountValue: r.discount_value,
  minSpend: r.min_spend, currency: r.currency, createdAt: r.created_at, expiresAt: r.expires_at, deliveredAt: r.delivered_at,
  seenAt: r.seen_at, clickedAt: r.clicked_at, redeemedAt: r.redeemed_at, redeemedOrder: r.redeemed_order,
  maxDiscount: r.max_discount ?? null, skus: json(r.skus), i18n: json(r.i18n),
});

export const viewerFrom = (r: Row): ViewerRow => ({
  channel: r.channel, id: r.id, verified: !!r.verified, tier: r.tier, explain: toExplain(JSON.parse(r.reasons)),
  watchMs: r.watch_ms, comments: r.comments, likes: r.likes, productViews: r.product_views,
  addToCarts: r.add_to_carts, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
  lifecycle: r.lifecycle ?? 'new', engWeighted: r.eng_weighted ?? 0,
});

export const viewerStreamFrom = (r: Row): ViewerStreamRow => ({
  streamId: r.stream_id, viewerId: r.viewer_id, watchMs: r.watch_ms, comments: r.comments, likes: r.likes,
  productViews: r.product_views, addToCarts: r.add_to_carts, checkouts: r.checkouts, browserPurchases: r.browser_purchases,
  firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
});

export const campaignFrom = (r: Row): CampaignRow => ({
  streamId: r.stream_id, id: r.id, channel: r.channel, doc: JSON.parse(r.doc), status: r.status, adhoc: !!r.adhoc,
  issued: r.issued, committed: r.committed,
  skipped: { capped: r.skipped_capped, budget: r.skipped_budget, quota: r.skipped_quota, alreadyHas: r.skipped_already },
  createdAt: r.created_at, updatedAt: r.updated_at,
});

/** rows to the column arrays UNNEST takes */
export function columns(rows: readonly (readonly unknown[])[], width: number): unknown[][] {
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  for (const r of rows) for (let k = 0; k < width; k++) cols[k]!.push(r[k] ?? null);
  return cols;
}
