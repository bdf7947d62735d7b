/**
 * The tiering statements: channel tier rules, what a viewer's profile loads besides its viewer
 * row (recent checkouts and offers, the channel's buyers), the value columns the viewer list
 * sorts on, refunds, the viewer list with its filters and keyset cursor, and a viewer's export
 * and erasure.
 */
import type { DB } from './db.js';
import { viewerFrom } from './repo.js';
import type { ListQuery, ViewerExport, ViewerListRow, ViewerSort } from '../types.js';

export type { ListQuery, ViewerExport, ViewerListRow, ViewerSort };

/** the value a sort orders by (descending), then the id (ascending) */
const SORT_COLUMN: Record<ViewerSort, string> = {
  recent: 'vs.last_seen_at',
  value: 'v.spend',
  engagement: 'v.eng_weighted',
  // the 12-month value as of the channel's last model fit; viewers without one last
  predicted: 'COALESCE(v.clv_365d, -1)',
};

export type ViewerStore = ReturnType<typeof createViewerStore>;

export function createViewerStore(db: DB) {
  const s = {
    getRules: db.prepare('SELECT doc FROM channel_rules WHERE channel = ?'),
    setRules: db.prepare(`INSERT INTO channel_rules (channel, doc, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (channel) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`),
    channelExists: db.prepare('SELECT 1 FROM channels WHERE id = ?'),
    channelViewerIds: db.prepare('SELECT id FROM viewers WHERE channel = ?'),
    buyers: db.prepare(`SELECT viewer_id, COUNT(*) AS orders, SUM(amount - refunded) AS spend, MAX(at) AS last_at
      FROM purchases WHERE channel = ? AND amount > refunded AND at >= ? AND at <= ? GROUP BY viewer_id`),
    // CROSS JOIN fixes the order: the channel's streams, then the (stream_id, viewer_id, id) key, never a scan of events
    checkouts: db.prepare(`SELECT e.received_at AS at FROM streams s CROSS JOIN events e INDEXED BY events_key
      WHERE e.viewer_id = ? AND s.channel = ? AND e.stream_id = s.id AND e.type = 'checkout' ORDER BY +e.received_at DESC LIMIT ?`),
    recentOffers: db.prepare(`SELECT id, expires_at, clicked_at, redeemed_at FROM offers WHERE channel = ? AND viewer_id = ?
      ORDER BY expires_at DESC, id LIMIT ?`),
    purchaseGross: db.prepare('SELECT viewer_id, stream_id, amount, refunded FROM purchases WHERE channel = ? AND order_id = ?'),
    setRefunded: db.prepare('UPDATE purchases SET refunded = ? WHERE channel = ? AND order_id = ?'),
    refreshValue: db.prepare(`UPDATE viewers SET
      orders = (SELECT COUNT(*) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = @channel AND p.viewer_id = @id AND p.amount > p.refunded),
      spend = (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = @channel AND p.viewer_id = @id),
      last_purchase_at = (SELECT MAX(p.at) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = @channel AND p.viewer_id = @id AND p.amount > p.refunded)
      WHERE channel = @channel AND id = @id`),
    streamIds: db.prepare('SELECT id FROM streams WHERE channel = ?'),
    exportViewer: db.prepare('SELECT * FROM viewers WHERE channel = ? AND id = ?'),
    // with the tier recorded at the stream's end (and at the end of the viewer's stream before), if it ended
    exportStreams: db.prepare(`SELECT vs.*, st.tier AS tier_at_end, st.previous_tier AS previous_tier_at_end
      FROM streams s CROSS JOIN viewer_streams vs LEFT JOIN stream_tiers st ON st.stream_id = vs.stream_id AND st.viewer_id = vs.viewer_id
      WHERE vs.viewer_id = ? AND s.channel = ? AND vs.stream_id = s.id`),
    exportEvents: db.prepare(`SELECT e.stream_id, e.id, e.type, e.client_ts, e.received_at, e.credit_ms, e.data
      FROM streams s CROSS JOIN events e INDEXED BY events_key WHERE e.viewer_id = ? AND s.channel = ? AND e.stream_id = s.id ORDER BY +e.received_at`),
    exportPurchases: db.prepare('SELECT * FROM purchases INDEXED BY purchases_viewer WHERE channel = ? AND viewer_id = ? ORDER BY at'),
    exportOffers: db.prepare('SELECT * FROM offers WHERE channel = ? AND viewer_id = ? ORDER BY created_at'),
    exportAliases: db.prepare('SELECT anon_id, viewer_id, events, at FROM viewer_aliases WHERE channel = ? AND (viewer_id = ? OR anon_id = ?)'),
    eraseViewer: db.prepare('DELETE FROM viewers WHERE channel = ? AND id = ?'),
    eraseViewerStream: db.prepare('DELETE FROM viewer_streams WHERE stream_id = ? AND viewer_id = ?'),
    eraseEvents: db.prepare('DELETE FROM events WHERE stream_id = ? AND viewer_id = ?'),
    // the index names the rows to change even though the UPDATE changes its column (SQLite would otherwise read the channel's orders)
    anonymizePurchases: db.prepare('UPDATE purchases INDEXED BY purchases_viewer SET viewer_id = ?, items = NULL WHERE channel = ? AND viewer_id = ?'),
    anonymizeOffers: db.prepare('UPDATE offers SET viewer_id = ? WHERE channel = ? AND viewer_id = ?'),
    eraseAliases: db.prepare('DELETE FROM viewer_aliases WHERE channel = ? AND (viewer_id = ? OR anon_id = ?)'),
    eraseAssignments: db.prepare('DELETE FROM campaign_assignments WHERE channel = ? AND viewer_id = ?'),
  };

  const list = new Map<string, ReturnType<DB['prepare']>>();
  function listStatement(sort: ViewerSort, after: boolean) {
    const k = `${sort}:${after}`;
    let st = list.get(k);
    if (!st) {
      const col = SORT_COLUMN[sort];
      st = db.prepare(`SELECT v.*, ${col} AS sort_key, vs.watch_ms AS s_watch_ms, vs.comments AS s_comments, vs.likes AS s_likes,
        vs.product_views AS s_product_views, vs.add_to_carts AS s_add_to_carts, vs.checkouts AS s_checkouts
        FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
        WHERE vs.stream_id = @streamId AND (@tier IS NULL OR v.tier = @tier) AND (@lifecycle IS NULL OR v.lifecycle = @lifecycle)
        ${after ? `AND (${col} < @afterKey OR (${col} = @afterKey AND v.id > @afterId))` : ''}
        ORDER BY ${col} DESC, v.id ASC LIMIT @limit`);
      list.set(k, st);
    }
    return st;
  }

  return {
    getRules(channel: string): unknown | null {
      const r = s.getRules.get(channel) as { doc: string } | undefined;
      return r ? JSON.parse(r.doc) : null;
    },
    setRules(channel: string, doc: unknown, now: number) {
      s.setRules.run(channel, JSON.stringify(doc), now);
    },
    channelExists(channel: string): boolean {
      return !!s.channelExists.get(channel);
    },
    channelViewerIds(channel: string): string[] {
      return (s.channelViewerIds.all(channel) as { id: string }[]).map((r) => r.id);
    },
    /** every buyer of the channel with RFM values in [since, now]: loaded once per channel per process */
    buyers(channel: string, since: number, now: number): { viewerId: string; orders: number; spend: number; lastAt: number }[] {
      return (s.buyers.all(channel, since, now) as { viewer_id: string; orders: number; spend: number; last_at: number }[]).map((r) => ({
        viewerId: r.viewer_id, orders: r.orders, spend: r.spend, lastAt: r.last_at,
      }));
    },
    recentCheckouts(channel: string, viewerId: string, n: number): number[] {
      return (s.checkouts.all(viewerId, channel, n) as { at: number }[]).map((r) => r.at);
    },
    recentOffers(channel: string, viewerId: string, n: number) {
      return (s.recentOffers.all(channel, viewerId, n) as any[]).map((r) => ({
        id: r.id as string, expiresAt: r.expires_at as number, engaged: r.clicked_at != null || r.redeemed_at != null,
      }));
    },
    purchaseForRefund(channel: string, orderId: string) {
      const r = s.purchaseGross.get(channel, orderId) as { viewer_id: string; stream_id: string; amount: number; refunded: number } | undefined;
      return r ? { viewerId: r.viewer_id, streamId: r.stream_id, amount: r.amount, refunded: r.refunded } : null;
    },
    setRefunded(channel: string, orderId: string, refunded: number) {
      s.setRefunded.run(refunded, channel, orderId);
    },
    /** recomputes the viewer's orders, spend and last purchase from their purchases (after a purchase or refund) */
    refreshValue(channel: string, viewerId: string) {
      s.refreshValue.run({ channel, id: viewerId });
    },
    /** one page of the stream's viewers, sorted by `q.sort` (descending) then id; `q.after` continues a previous page */
    list(q: ListQuery): ViewerListRow[] {
      const rows = listStatement(q.sort, !!q.after).all({
        channel: q.channel, streamId: q.streamId, tier: q.tier, lifecycle: q.lifecycle, limit: q.limit,
        ...(q.after ? { afterKey: q.after.key, afterId: q.after.id } : {}),
      }) as any[];
      return rows.map((r) => ({
        ...viewerFrom(r),
        sortKey: r.sort_key,
        orders: r.orders,
        spend: r.spend,
        lastPurchaseAt: r.last_purchase_at ?? null,
        thisStream: {
          watchMs: r.s_watch_ms, comments: r.s_comments, likes: r.s_likes,
          productViews: r.s_product_views, addToCarts: r.s_add_to_carts, checkouts: r.s_checkouts,
        },
      }));
    },
    /** everything stored about a viewer in a channel, or null when unknown */
    export(channel: string, viewerId: string): ViewerExport | null {
      const viewer = s.exportViewer.get(channel, viewerId) as Record<string, unknown> | undefined;
      if (!viewer) return null;
      const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
      return {
        viewer: { ...viewer, reasons: parse(viewer.reasons) },
        streams: s.exportStreams.all(viewerId, channel) as Record<string, unknown>[],
        events: (s.exportEvents.all(viewerId, channel) as any[]).map((e) => ({ ...e, data: e.data ? JSON.parse(e.data) : null })),
        purchases: (s.exportPurchases.all(channel, viewerId) as any[]).map((p) => ({ ...p, items: p.items ? JSON.parse(p.items) : null })),
        offers: (s.exportOffers.all(channel, viewerId) as any[]).map((o) => ({ ...o, skus: o.skus ? JSON.parse(o.skus) : null })),
        aliases: s.exportAliases.all(channel, viewerId, viewerId) as Record<string, unknown>[],
      };
    },
    /**
     * Erases a viewer: their row, per-stream rows, events and aliases are deleted; purchases and
     * offers (the merchant's accounting) are kept under `erasedId` with items removed, so stream
     * totals stay right but nothing links them to the person. Returns false when unknown.
     */
    erase(channel: string, viewerId: string, erasedId: string): boolean {
      return db.transaction(() => {
        const known = s.eraseViewer.run(channel, viewerId).changes > 0;
        // per stream of the channel: each delete is a range of the (stream_id, viewer_id, …) keys
        for (const { id } of s.streamIds.all(channel) as { id: string }[]) {
          s.eraseViewerStream.run(id, viewerId);
          s.eraseEvents.run(id, viewerId);
        }
        s.anonymizePurchases.run(erasedId, channel, viewerId);
        s.anonymizeOffers.run(erasedId, channel, viewerId);
        s.eraseAliases.run(channel, viewerId, viewerId);
        s.eraseAssignments.run(channel, viewerId);
        return known;
      })();
    },
  };
}
