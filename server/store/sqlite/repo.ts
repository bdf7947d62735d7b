/**
 * The core statements of the SQLite store: channels, streams, viewers and their per-stream
 * counters, events, purchases and offers. Prepared once per database; callers get plain objects
 * (the row types of `../types.ts`) back. `index.ts` composes this with the other statement
 * modules into the `Store`.
 */
import type { DB } from './db.js';
import type { Tier } from '../../realtime/events.js';
import type { Deltas, OfferRow, PurchaseRow, StreamRow, ViewerRow, ViewerStreamRow } from '../types.js';
import { toExplain, type Explain } from '../../tiering/explain.js';

export type { Deltas, OfferRow, PurchaseRow, StreamRow, ViewerRow, ViewerStreamRow };
export { zeroDeltas } from '../types.js';


export const streamFrom = (r: any): StreamRow => ({
  id: r.id, channel: r.channel, title: r.title, allowedOrigins: JSON.parse(r.allowed_origins), createdAt: r.created_at,
  hostKeyHash: r.host_key_hash, ingestKeyHash: r.ingest_key_hash, endedAt: r.ended_at ?? null,
});

const purchaseFrom = (r: any): PurchaseRow => ({
  channel: r.channel, orderId: r.order_id, streamId: r.stream_id, viewerId: r.viewer_id, amount: r.amount,
  refunded: r.refunded, currency: r.currency, items: r.items ? JSON.parse(r.items) : null,
  couponCode: r.coupon_code, at: r.at, createdAt: r.created_at,
});

const offerFrom = (r: any): OfferRow => ({
  id: r.id, code: r.code, channel: r.channel, streamId: r.stream_id, viewerId: r.viewer_id, campaign: r.campaign,
  title: r.title, description: r.description, discountKind: r.discount_kind, discountValue: r.discount_value,
  minSpend: r.min_spend, currency: r.currency, createdAt: r.created_at, expiresAt: r.expires_at, deliveredAt: r.delivered_at,
  seenAt: r.seen_at, clickedAt: r.clicked_at, redeemedAt: r.redeemed_at, redeemedOrder: r.redeemed_order,
  maxDiscount: r.max_discount ?? null, skus: r.skus ? JSON.parse(r.skus) : null, i18n: r.i18n ? JSON.parse(r.i18n) : null,
});

export const viewerFrom = (r: any): ViewerRow => ({
  channel: r.channel, id: r.id, verified: !!r.verified, tier: r.tier, explain: toExplain(JSON.parse(r.reasons)),
  watchMs: r.watch_ms, comments: r.comments, likes: r.likes, productViews: r.product_views,
  addToCarts: r.add_to_carts, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
  lifecycle: r.lifecycle ?? 'new', engWeighted: r.eng_weighted ?? 0,
});

const viewerStreamFrom = (r: any): ViewerStreamRow => ({
  streamId: r.stream_id, viewerId: r.viewer_id, watchMs: r.watch_ms, comments: r.comments, likes: r.likes,
  productViews: r.product_views, addToCarts: r.add_to_carts, checkouts: r.checkouts, browserPurchases: r.browser_purchases,
  firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
});

export type Repo = ReturnType<typeof createRepo>;

export function createRepo(db: DB) {
  const s = {
    getChannel: db.prepare('SELECT id, token_secret FROM channels WHERE id = ?'),
    insertChannel: db.prepare('INSERT OR IGNORE INTO channels (id, token_secret, created_at) VALUES (?, ?, ?)'),
    getSecrets: db.prepare('SELECT token_secret, previous_token_secret, previous_valid_until FROM channels WHERE id = ?'),
    // one statement, so the secret moved to previous is the one it replaces even with two rotations at once
    rotateSecret: db.prepare(`UPDATE channels SET previous_token_secret = CASE WHEN @until IS NULL THEN NULL ELSE token_secret END,
      previous_valid_until = @until, token_secret = @secret WHERE id = @channel`),
    insertStream: db.prepare(`INSERT INTO streams (id, channel, title, allowed_origins, host_key_hash, ingest_key_hash, created_at)
      VALUES (@id, @channel, @title, @allowedOrigins, @hostKeyHash, @ingestKeyHash, @createdAt)`),
    getStream: db.prepare('SELECT * FROM streams WHERE id = ?'),
    streamByIngest: db.prepare('SELECT * FROM streams WHERE ingest_key_hash = ?'),
    streamByHost: db.prepare('SELECT * FROM streams WHERE host_key_hash = ?'),
    getViewer: db.prepare('SELECT * FROM viewers WHERE channel = ? AND id = ?'),
    touchViewer: db.prepare(`INSERT INTO viewers (channel, id, verified, first_seen_at, last_seen_at)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (channel, id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at),
        verified = MAX(verified, excluded.verified)`),
    viewerDeltas: db.prepare(`UPDATE viewers SET watch_ms = watch_ms + @watchMs, comments = comments + @comments,
      likes = likes + @likes, product_views = product_views + @productViews, add_to_carts = add_to_carts + @addToCarts,
      eng_weighted = eng_weighted + @engWeighted,
      last_seen_at = MAX(last_seen_at, @now) WHERE channel = @channel AND id = @viewerId`),
    setTier: db.prepare('UPDATE viewers SET tier = ?, reasons = ?, lifecycle = COALESCE(?, lifecycle) WHERE channel = ? AND id = ?'),
    ensureViewer: db.prepare(`INSERT INTO viewers (channel, id, verified, first_seen_at, last_seen_at) VALUES (?, ?, 1, ?, ?)
      ON CONFLICT (channel, id) DO UPDATE SET verified = 1, first_seen_at = MIN(first_seen_at, excluded.first_seen_at)`),
    touchViewerStream: db.prepare(`INSERT INTO viewer_streams (stream_id, viewer_id, first_seen_at, last_seen_at)
      VALUES (?, ?, ?, ?) ON CONFLICT (stream_id, viewer_id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at)`),
    viewerStreamDeltas: db.prepare(`UPDATE viewer_streams SET watch_ms = watch_ms + @watchMs, comments = comments + @comments,
      likes = likes + @likes, product_views = product_views + @productViews, add_to_carts = add_to_carts + @addToCarts,
      checkouts = checkouts + @checkouts, browser_purchases = browser_purchases + @browserPurchases,
      last_seen_at = MAX(last_seen_at, @now) WHERE stream_id = @streamId AND viewer_id = @viewerId`),
    getViewerStream: db.prepare('SELECT * FROM viewer_streams WHERE stream_id = ? AND viewer_id = ?'),
    insertEvent: db.prepare(`INSERT OR IGNORE INTO events (stream_id, id, viewer_id, type, client_ts, received_at, credit_ms, data)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    countEvents: db.prepare('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?'),
    getPurchase: db.prepare('SELECT * FROM purchases WHERE channel = ? AND order_id = ?'),
    insertPurchase: db.prepare(`INSERT INTO purchases (channel, order_id, stream_id, viewer_id, amount, currency, items, coupon_code, at, created_at)
      VALUES (@channel, @orderId, @streamId, @viewerId, @amount, @currency, @items, @couponCode, @at, @createdAt)`),
    // oldest first: the tier model reads the last one as the viewer's currency
    viewerPurchases: db.prepare(`SELECT order_id, amount - refunded AS net, at, currency FROM purchases INDEXED BY purchases_viewer
      WHERE channel = ? AND viewer_id = ? ORDER BY at, order_id`),
    streamSales: db.prepare('SELECT COUNT(*) AS orders, COALESCE(SUM(amount - refunded), 0) AS gmv FROM purchases WHERE stream_id = ?'),
    audience: db.prepare('SELECT COUNT(*) AS n FROM viewer_streams WHERE stream_id = ?'),
    insertOffer: db.prepare(`INSERT INTO offers (id, code, channel, stream_id, viewer_id, campaign, title, description,
      discount_kind, discount_value, min_spend, currency, created_at, expires_at)
      VALUES (@id, @code, @channel, @streamId, @viewerId, @campaign, @title, @description, @discountKind, @discountValue,
      @minSpend, @currency, @createdAt, @expiresAt)`),
    offerOnce: db.prepare('SELECT 1 FROM offers WHERE stream_id = ? AND viewer_id = ? AND campaign = ?'),
    pendingOffers: db.prepare(`SELECT * FROM offers WHERE channel = ? AND viewer_id = ? AND delivered_at IS NULL
      AND redeemed_at IS NULL AND expires_at > ? ORDER BY created_at`),
    markDelivered: db.prepare('UPDATE offers SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL'),
    markSeen: db.prepare(`UPDATE offers SET seen_at = ?, delivered_at = COALESCE(delivered_at, ?)
      WHERE id = ? AND channel = ? AND viewer_id = ? AND seen_at IS NULL`),
    markClicked: db.prepare(`UPDATE offers SET clicked_at = ?, seen_at = COALESCE(seen_at, ?), delivered_at = COALESCE(delivered_at, ?)
      WHERE id = ? AND channel = ? AND viewer_id = ? AND clicked_at IS NULL`),
    offerByCode: db.prepare('SELECT * FROM offers WHERE code = ?'),
    offerById: db.prepare('SELECT * FROM offers WHERE id = ?'),
    redeem: db.prepare('UPDATE offers SET redeemed_at = ?, redeemed_order = ? WHERE id = ? AND redeemed_at IS NULL'),
    offerCounts: db.prepare(`SELECT COUNT(*) AS issued, COUNT(delivered_at) AS delivered, COUNT(redeemed_at) AS redeemed
      FROM offers WHERE stream_id = ?`),
  };

  return {
    db,
    getChannelSecret(channel: string): string | null {
      const r = s.getChannel.get(channel) as { token_secret: string } | undefined;
      return r?.token_secret ?? null;
    },
    getChannelSecrets(channel: string, now: number): { current: string; previous: string | null } | null {
      const r = s.getSecrets.get(channel) as
        | { token_secret: string; previous_token_secret: string | null; previous_valid_until: number | null }
        | undefined;
      if (!r) return null;
      const live = r.previous_token_secret !== null && r.previous_valid_until !== null && r.previous_valid_until > now;
      return { current: r.token_secret, previous: live ? r.previous_token_secret : null };
    },
    /** false for an unknown channel */
    rotateChannelSecret(channel: string, secret: string, until: number | null): boolean {
      return s.rotateSecret.run({ channel, secret, until }).changes === 1;
    },
    ensureChannel(channel: string, secret: string, now: number): string {
      s.insertChannel.run(channel, secret, now);
      return (s.getChannel.get(channel) as { token_secret: string }).token_secret;
    },
    insertStream(p: { id: string; channel: string; title: string; allowedOrigins: string[]; hostKeyHash: string; ingestKeyHash: string; createdAt: number }) {
      s.insertStream.run({ ...p, allowedOrigins: JSON.stringify(p.allowedOrigins) });
    },
    getStream(id: string): StreamRow | null {
      const r = s.getStream.get(id);
      return r ? streamFrom(r) : null;
    },
    streamByIngestHash(hash: string): StreamRow | null {
      const r = s.streamByIngest.get(hash);
      return r ? streamFrom(r) : null;
    },
    streamByHostHash(hash: string): StreamRow | null {
      const r = s.streamByHost.get(hash);
      return r ? streamFrom(r) : null;
    },
    getViewer(channel: string, id: string): ViewerRow | null {
      const r = s.getViewer.get(channel, id);
      return r ? viewerFrom(r) : null;
    },
    /** Records that a viewer was seen in a stream; true when it is the viewer's first time in this stream. */
    touchViewer(channel: string, streamId: string, viewerId: string, verified: boolean, now: number): boolean {
      s.touchViewer.run(channel, viewerId, verified ? 1 : 0, now, now);
      const before = s.getViewerStream.get(streamId, viewerId);
      s.touchViewerStream.run(streamId, viewerId, now, now);
      return !before;
    },
    /** A viewer known from the merchant's backend (a purchase): verified, first seen no later than `firstSeenAt`. */
    ensureViewer(channel: string, viewerId: string, firstSeenAt: number, now: number) {
      s.ensureViewer.run(channel, viewerId, Math.min(firstSeenAt, now), now);
    },
    addDeltas(channel: string, streamId: string, viewerId: string, d: Deltas, now: number) {
      s.viewerDeltas.run({ ...d, now, channel, viewerId });
      s.viewerStreamDeltas.run({ ...d, now, streamId, viewerId });
    },
    setTier(channel: string, viewerId: string, tier: Tier, explain: Explain[], lifecycle?: string) {
      s.setTier.run(tier, JSON.stringify(explain), lifecycle ?? null, channel, viewerId);
    },
    getViewerStream(streamId: string, viewerId: string): ViewerStreamRow | null {
      const r = s.getViewerStream.get(streamId, viewerId);
      return r ? viewerStreamFrom(r) : null;
    },
    insertEvent(streamId: string, id: string, viewerId: string, type: string, clientTs: number, now: number, creditMs: number | null, data: string | null): boolean {
      return s.insertEvent.run(streamId, id, viewerId, type, clientTs, now, creditMs, data).changes === 1;
    },
    countEvents(streamId: string): number {
      return (s.countEvents.get(streamId) as { n: number }).n;
    },
    getPurchase(channel: string, orderId: string): PurchaseRow | null {
      const r = s.getPurchase.get(channel, orderId);
      return r ? purchaseFrom(r) : null;
    },
    insertPurchase(p: Omit<PurchaseRow, 'refunded'>) {
      s.insertPurchase.run({ ...p, items: p.items ? JSON.stringify(p.items) : null });
    },
    viewerPurchases(channel: string, viewerId: string) {
      return (s.viewerPurchases.all(channel, viewerId) as { order_id: string; net: number; at: number; currency: string }[]).map(
        (r) => ({ orderId: r.order_id, amount: r.net, at: r.at, currency: r.currency }),
      );
    },
    streamSales(streamId: string): { orders: number; gmv: number } {
      return s.streamSales.get(streamId) as { orders: number; gmv: number };
    },
    audience(streamId: string): number {
      return (s.audience.get(streamId) as { n: number }).n;
    },
    insertOffer(o: Omit<OfferRow, 'deliveredAt' | 'seenAt' | 'clickedAt' | 'redeemedAt' | 'redeemedOrder'>) {
      s.insertOffer.run(o);
    },
    hasOffer(streamId: string, viewerId: string, campaign: string): boolean {
      return !!s.offerOnce.get(streamId, viewerId, campaign);
    },
    pendingOffers(channel: string, viewerId: string, now: number): OfferRow[] {
      return s.pendingOffers.all(channel, viewerId, now).map(offerFrom);
    },
    markDelivered(id: string, now: number): boolean {
      return s.markDelivered.run(now, id).changes === 1;
    },
    markSeen(id: string, channel: string, viewerId: string, now: number): boolean {
      return s.markSeen.run(now, now, id, channel, viewerId).changes === 1;
    },
    markClicked(id: string, channel: string, viewerId: string, now: number): boolean {
      return s.markClicked.run(now, now, now, id, channel, viewerId).changes === 1;
    },
    offerByCode(code: string): OfferRow | null {
      const r = s.offerByCode.get(code);
      return r ? offerFrom(r) : null;
    },
    offerById(id: string): OfferRow | null {
      const r = s.offerById.get(id);
      return r ? offerFrom(r) : null;
    },
    redeem(offerId: string, orderId: string, now: number): boolean {
      return s.redeem.run(now, orderId, offerId).changes === 1;
    },
    offerCounts(streamId: string): { issued: number; delivered: number; redeemed: number } {
      return s.offerCounts.get(streamId) as { issued: number; delivered: number; redeemed: number };
    },
  };
}
