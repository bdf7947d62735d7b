/**
 * Point reads of viewers, purchases and offers: what a viewer's profile loads, the RFM inputs of a
 * channel, the offers waiting for a viewer. Same statements as the SQLite store (repo.ts,
 * viewers.ts, campaigns.ts), with the same order where the result is a list.
 */
import type { Store } from '../types.js';
import type { Db } from './pool.js';
import { offerFrom, purchaseFrom, viewerFrom, viewerStreamFrom } from './rows.js';

type Queries = Pick<Store,
  | 'getViewer' | 'getViewerStream' | 'viewerPurchases' | 'recentCheckouts' | 'recentOffers' | 'buyers' | 'channelViewerIds'
  | 'getPurchase' | 'boughtHere' | 'pendingOffers' | 'offerByCode'>;

export function queries(db: Db): Queries {
  const rows = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows;

  return {
    async getViewer(channel, id) {
      const [r] = await rows('SELECT * FROM viewers WHERE channel = $1 AND id = $2', [channel, id]);
      return r ? viewerFrom(r) : null;
    },
    async getViewerStream(streamId, viewerId) {
      const [r] = await rows('SELECT * FROM viewer_streams WHERE stream_id = $1 AND viewer_id = $2', [streamId, viewerId]);
      return r ? viewerStreamFrom(r) : null;
    },
    async viewerPurchases(channel, viewerId) {
      const list = await rows(
        'SELECT order_id, amount - refunded AS net, at, currency FROM purchases WHERE channel = $1 AND viewer_id = $2 ORDER BY at, order_id',
        [channel, viewerId],
      );
      return list.map((r) => ({ orderId: r.order_id, amount: r.net, at: r.at, currency: r.currency }));
    },
    async recentCheckouts(channel, viewerId, n) {
      // the channel's streams, then each one's (stream_id, viewer_id, id) key in every partition
      const list = await rows(
        `SELECT received_at AS at FROM events
         WHERE viewer_id = $2 AND stream_id IN (SELECT id FROM streams WHERE channel = $1) AND type = 'checkout'
         ORDER BY received_at DESC LIMIT $3`,
        [channel, viewerId, n],
      );
      return list.map((r) => r.at);
    },
    async recentOffers(channel, viewerId, n) {
      const list = await rows(
        'SELECT id, expires_at, clicked_at, redeemed_at FROM offers WHERE channel = $1 AND viewer_id = $2 ORDER BY expires_at DESC, id LIMIT $3',
        [channel, viewerId, n],
      );
      return list.map((r) => ({ id: r.id, expiresAt: r.expires_at, engaged: r.clicked_at != null || r.redeemed_at != null }));
    },
    async buyers(channel, since, now) {
      const list = await rows(
        `SELECT viewer_id, COUNT(*) AS orders, SUM(amount - refunded) AS spend, MAX(at) AS last_at
         FROM purchases WHERE channel = $1 AND amount > refunded AND at >= $2 AND at <= $3
         GROUP BY viewer_id ORDER BY viewer_id`,
        [channel, since, now],
      );
      return list.map((r) => ({ viewerId: r.viewer_id, orders: r.orders, spend: r.spend, lastAt: r.last_at }));
    },
    async channelViewerIds(channel) {
      return (await rows('SELECT id FROM viewers WHERE channel = $1 ORDER BY id', [channel])).map((r) => r.id);
    },

    async getPurchase(channel, orderId) {
      const [r] = await rows('SELECT * FROM purchases WHERE channel = $1 AND order_id = $2', [channel, orderId]);
      return r ? purchaseFrom(r) : null;
    },
    async boughtHere(channel, streamId, viewerId) {
      const list = await rows(
        'SELECT 1 FROM purchases WHERE channel = $1 AND viewer_id = $2 AND stream_id = $3 AND amount > refunded LIMIT 1',
        [channel, viewerId, streamId],
      );
      return list.length > 0;
    },

    async pendingOffers(channel, viewerId, now) {
      const list = await rows(
        `SELECT * FROM offers WHERE channel = $1 AND viewer_id = $2 AND delivered_at IS NULL AND redeemed_at IS NULL AND expires_at > $3
         ORDER BY created_at, id`,
        [channel, viewerId, now],
      );
      return list.map(offerFrom);
    },
    async offerByCode(code) {
      const [r] = await rows('SELECT * FROM offers WHERE code = $1', [code]);
      return r ? offerFrom(r) : null;
    },
  };
}
