/**
 * Viewer-wide operations of the PostgreSQL store: the viewer list and the CSV (both paged by
 * keyset, in the SQLite store's order), tiers, the GDPR export and erasure, and alias (an
 * anonymous viewer's history merged into a verified viewer, once per anonymous id).
 */
import type { Tier } from '../../realtime/events.js';
import type { AliasResult, CsvViewerRow, ListQuery, ViewerExport, ViewerListRow, ViewerSort } from '../types.js';
import type { Db, Sql } from './pool.js';
import { columns, viewerFrom } from './rows.js';
import { storedDeltas } from '../../ingest/tally.js';
import { eraseViewerDeliveries } from './webhooks.js';
import type { Explain } from '../../tiering/explain.js';

/** what each sort orders by (descending, then the id ascending), and the type its cursor key compares as */
const SORT: Record<ViewerSort, { col: string; type: string }> = {
  recent: { col: 'vs.last_seen_at', type: 'numeric' },
  value: { col: 'v.spend', type: 'numeric' },
  engagement: { col: 'v.eng_weighted', type: 'float8' },
  // the 12-month value as of the channel's last model fit; viewers without one last
  predicted: { col: 'COALESCE(v.clv_365d, -1)', type: 'numeric' },
};

/** a page of the stream's viewers (viewers.ts listStatement) */
export async function listViewers(db: Db, q: ListQuery): Promise<ViewerListRow[]> {
  const { col, type } = SORT[q.sort];
  const params: unknown[] = [q.channel, q.streamId, q.tier, q.lifecycle, q.limit];
  let after = '';
  if (q.after) {
    params.push(q.after.key, q.after.id);
    after = `AND (${col} < $6::${type} OR (${col} = $6::${type} AND v.id > $7))`;
  }
  const { rows } = await db.query(
    `SELECT v.*, ${col} AS sort_key, vs.watch_ms AS s_watch_ms, vs.comments AS s_comments, vs.likes AS s_likes,
       vs.product_views AS s_product_views, vs.add_to_carts AS s_add_to_carts, vs.checkouts AS s_checkouts
     FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
     WHERE vs.stream_id = $2 AND ($3::text IS NULL OR v.tier = $3) AND ($4::text IS NULL OR v.lifecycle = $4) ${after}
     ORDER BY ${col} DESC, v.id ASC LIMIT $5`,
    params,
  );
  return rows.map((r) => ({
    ...viewerFrom(r),
    sortKey: r.sort_key,
    orders: r.orders,
    spend: r.spend,
    lastPurchaseAt: r.last_purchase_at,
    thisStream: {
      watchMs: r.s_watch_ms, comments: r.s_comments, likes: r.s_likes,
      productViews: r.s_product_views, addToCarts: r.s_add_to_carts, checkouts: r.s_checkouts,
    },
  }));
}

/** rows per page of the CSV: a page is one short query, so a long export never holds a snapshot open */
export const CSV_PAGE = 1000;

/** The CSV's rows (dashboard.ts csvRows), in first-seen order, a keyset page at a time. */
export async function* csvRows(db: Db, channel: string, streamId: string, page = CSV_PAGE): AsyncGenerator<CsvViewerRow> {
  let after: { at: number; id: string } | null = null;
  for (;;) {
    const { rows }: { rows: Record<string, any>[] } = await db.query(
      `SELECT v.id, v.tier, v.lifecycle, v.verified, v.watch_ms, v.comments, v.likes, v.product_views, v.add_to_carts, v.p_alive, v.clv_365d,
         v.first_seen_at, v.last_seen_at, vs.first_seen_at AS s_first_seen_at,
         vs.watch_ms AS s_watch_ms, vs.comments AS s_comments, vs.product_views AS s_product_views,
         vs.add_to_carts AS s_add_to_carts, vs.checkouts AS s_checkouts,
         p.purchases, p.spend, p.last_purchase_at, p.s_purchases, p.s_spend
       FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
       CROSS JOIN LATERAL (
         SELECT COUNT(*) FILTER (WHERE amount > refunded) AS purchases, COALESCE(SUM(amount - refunded), 0) AS spend,
           MAX(at) AS last_purchase_at, COUNT(*) FILTER (WHERE stream_id = vs.stream_id) AS s_purchases,
           COALESCE(SUM(amount - refunded) FILTER (WHERE stream_id = vs.stream_id), 0) AS s_spend
         FROM purchases WHERE channel = v.channel AND viewer_id = v.id) p
       WHERE vs.stream_id = $2 ${after ? 'AND (vs.first_seen_at, v.id) > ($4, $5)' : ''}
       ORDER BY vs.first_seen_at, v.id LIMIT $3`,
      after ? [channel, streamId, page, after.at, after.id] : [channel, streamId, page],
    );
    for (const r of rows) {
      yield {
        id: r.id, tier: r.tier, lifecycle: r.lifecycle ?? null, verified: !!r.verified, watchMs: r.watch_ms, comments: r.comments, likes: r.likes,
        productViews: r.product_views, addToCarts: r.add_to_carts, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
        purchases: r.purchases, spend: r.spend, lastPurchaseAt: r.last_purchase_at,
        streamWatchMs: r.s_watch_ms, streamComments: r.s_comments, streamProductViews: r.s_product_views,
        streamAddToCarts: r.s_add_to_carts, streamCheckouts: r.s_checkouts, streamPurchases: r.s_purchases, streamSpend: r.s_spend,
        pAlive: r.p_alive ?? null, clv365d: r.clv_365d == null ? null : Number(r.clv_365d),
      };
    }
    if (rows.length < page) return;
    const last: Record<string, any> = rows[rows.length - 1]!;
    after = { at: last.s_first_seen_at, id: last.id };
  }
}

/** Stores tiers, reasons and lifecycles in one statement; a viewer listed twice ends as if its rows applied in order. */
export async function setTiers(db: Db, rows: { channel: string; viewerId: string; tier: Tier; explain: Explain[]; lifecycle?: string }[]) {
  const last = new Map<string, { channel: string; viewerId: string; tier: Tier; explain: Explain[]; lifecycle: string | null }>();
  for (const r of rows) {
    const k = `${r.channel}\u0000${r.viewerId}`;
    const lifecycle = r.lifecycle ?? last.get(k)?.lifecycle ?? null; // COALESCE(lifecycle, the previous one)
    last.set(k, { channel: r.channel, viewerId: r.viewerId, tier: r.tier, explain: r.explain, lifecycle });
  }
  if (!last.size) return;
  // one statement: one transaction
  await db.query(
    `UPDATE viewers v SET tier = u.tier, reasons = u.reasons, lifecycle = COALESCE(u.lifecycle, v.lifecycle)
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(channel, id, tier, reasons, lifecycle)
     WHERE v.channel = u.channel AND v.id = u.id`,
    columns([...last.values()].map((r) => [r.channel, r.viewerId, r.tier, JSON.stringify(r.explain), r.lifecycle]), 5),
  );
}

const IN_CHANNEL = 'stream_id IN (SELECT id FROM streams WHERE channel = $1)';

/** Everything stored about a viewer in a channel (viewers.ts export), or null when unknown. */
export async function exportViewer(db: Db, channel: string, viewerId: string): Promise<ViewerExport | null> {
  // one snapshot for all six reads: one consistent picture of the viewer
  return db.tx(async (c) => {
    const viewer = (await c.query('SELECT * FROM viewers WHERE channel = $1 AND id = $2', [channel, viewerId])).rows[0];
    if (!viewer) return null;
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
    const [streams, events, purchases, offers, aliases] = await sequential(c, [
      // the columns SQLite has (last_credit_at is the servers' bookkeeping, not the viewer's data)
      // with the tier recorded at the stream's end (and at the end of the viewer's stream before), if it ended
      [`SELECT vs.stream_id, vs.viewer_id, vs.watch_ms, vs.comments, vs.likes, vs.product_views, vs.add_to_carts, vs.checkouts, vs.browser_purchases,
          vs.first_seen_at, vs.last_seen_at, st.tier AS tier_at_end, st.previous_tier AS previous_tier_at_end
        FROM viewer_streams vs LEFT JOIN stream_tiers st ON st.stream_id = vs.stream_id AND st.viewer_id = vs.viewer_id
        WHERE vs.viewer_id = $2 AND vs.${IN_CHANNEL} ORDER BY vs.first_seen_at, vs.stream_id`, [channel, viewerId]],
      [`SELECT stream_id, id, type, client_ts, received_at, credit_ms, data FROM events
        WHERE viewer_id = $2 AND ${IN_CHANNEL} ORDER BY received_at, seq`, [channel, viewerId]],
      ['SELECT * FROM purchases WHERE channel = $1 AND viewer_id = $2 ORDER BY at, order_id', [channel, viewerId]],
      ['SELECT * FROM offers WHERE channel = $1 AND viewer_id = $2 ORDER BY created_at, id', [channel, viewerId]],
      ['SELECT anon_id, viewer_id, events, at FROM viewer_aliases WHERE channel = $1 AND (viewer_id = $2 OR anon_id = $2) ORDER BY at, anon_id', [channel, viewerId]],
    ]);
    return {
      viewer: { ...viewer, reasons: parse(viewer.reasons) },
      streams,
      events: events.map((e) => ({ ...e, data: e.data ? JSON.parse(e.data) : null })),
      purchases: purchases.map((p) => ({ ...p, items: p.items ? JSON.parse(p.items) : null })),
      offers,
      aliases,
    };
  }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}

/** a transaction's client runs one statement at a time: these in order */
async function sequential(c: Sql, statements: [string, unknown[]][]): Promise<Record<string, any>[][]> {
  const out: Record<string, any>[][] = [];
  for (const [sql, params] of statements) out.push((await c.query(sql, params)).rows);
  return out;
}

/**
 * Erases a viewer (viewers.ts erase): their row, per-stream rows (and tiers recorded at streams'
 * ends), events, aliases and holdout assignments are deleted; purchases and offers stay under `erasedId` (purchases without items).
 */
export function eraseViewer(db: Db, channel: string, viewerId: string, erasedId: string): Promise<boolean> {
  return db.tx(async (c) => {
    const known = ((await c.query('DELETE FROM viewers WHERE channel = $1 AND id = $2', [channel, viewerId])).rowCount ?? 0) > 0;
    await c.query(`DELETE FROM viewer_streams WHERE viewer_id = $2 AND ${IN_CHANNEL}`, [channel, viewerId]);
    await c.query(`DELETE FROM events WHERE viewer_id = $2 AND ${IN_CHANNEL}`, [channel, viewerId]);
    await c.query('UPDATE purchases SET viewer_id = $3, items = NULL WHERE channel = $1 AND viewer_id = $2', [channel, viewerId, erasedId]);
    await c.query('UPDATE offers SET viewer_id = $3 WHERE channel = $1 AND viewer_id = $2', [channel, viewerId, erasedId]);
    await c.query('DELETE FROM viewer_aliases WHERE channel = $1 AND (viewer_id = $2 OR anon_id = $2)', [channel, viewerId]);
    await c.query('DELETE FROM campaign_assignments WHERE channel = $1 AND viewer_id = $2', [channel, viewerId]);
    await c.query('DELETE FROM stream_tiers WHERE channel = $1 AND viewer_id = $2', [channel, viewerId]);
    await c.query('DELETE FROM jobs WHERE channel = $1 AND viewer_id = $2', [channel, viewerId]);
    await c.query(`DELETE FROM host_activity WHERE viewer_id = $2 AND ${IN_CHANNEL}`, [channel, viewerId]);
    await eraseViewerDeliveries(c, channel, viewerId);
    return known;
  });
}

/** counters both rows keep, summed when both viewers have one (alias.ts) */
const COUNTERS = ['watch_ms', 'comments', 'likes', 'product_views', 'add_to_carts'];
/** the viewer row also carries the weighted engagement the tier model reads */
const VIEWER_SUMS = [...COUNTERS, 'eng_weighted'];
const STREAM_SUMS = [...COUNTERS, 'checkouts', 'browser_purchases'];
const sums = (table: string, cols: string[]) => cols.map((col) => `${col} = ${table}.${col} + excluded.${col}`).join(', ');

/**
 * Merges anonymous viewer `from` into verified viewer `into` (alias.ts mergeViewers), once per
 * `from`, in one transaction. The link row is claimed first: a concurrent alias of the same
 * anonymous id (another server) waits on it, then finds the link and moves nothing.
 *
 * SQLite's `UPDATE OR IGNORE` has no PostgreSQL twin; the same result is had with NOT EXISTS: an
 * event the verified viewer already has (the browser resent it as them) stays behind and is
 * deleted with the rest of the anonymous events; a holdout assignment to a campaign the verified
 * viewer is already assigned to stays with the anonymous id, as in SQLite.
 */
export function alias(db: Db, channel: string, from: string, into: string, now: number): Promise<AliasResult> {
  return db.tx(async (c): Promise<AliasResult> => {
    const claimed = await c.query(
      `INSERT INTO viewer_aliases (channel, anon_id, viewer_id, events, at) VALUES ($1, $2, $3, 0, $4)
       ON CONFLICT (channel, anon_id) DO NOTHING RETURNING anon_id`,
      [channel, from, into, now],
    );
    if (!claimed.rows.length) {
      const { rows } = await c.query<{ viewer_id: string }>('SELECT viewer_id FROM viewer_aliases WHERE channel = $1 AND anon_id = $2', [channel, from]);
      return { merged: false, viewerId: rows[0]!.viewer_id, events: 0 };
    }
    const p = [channel, from, into];
    await takeBackDuplicates(c, channel, from, into);
    await c.query(
      `INSERT INTO viewers (channel, id, verified, ${VIEWER_SUMS.join(', ')}, first_seen_at, last_seen_at)
       SELECT channel, $3, 1, ${VIEWER_SUMS.join(', ')}, first_seen_at, last_seen_at FROM viewers WHERE channel = $1 AND id = $2
       ON CONFLICT (channel, id) DO UPDATE SET ${sums('viewers', VIEWER_SUMS)}, verified = 1,
         first_seen_at = LEAST(viewers.first_seen_at, excluded.first_seen_at), last_seen_at = GREATEST(viewers.last_seen_at, excluded.last_seen_at)`,
      p,
    );
    await c.query('DELETE FROM viewers WHERE channel = $1 AND id = $2', [channel, from]);
    await c.query(
      `INSERT INTO viewer_streams (stream_id, viewer_id, ${STREAM_SUMS.join(', ')}, first_seen_at, last_seen_at)
       SELECT stream_id, $3, ${STREAM_SUMS.join(', ')}, first_seen_at, last_seen_at FROM viewer_streams WHERE viewer_id = $2 AND ${IN_CHANNEL}
       ON CONFLICT (stream_id, viewer_id) DO UPDATE SET ${sums('viewer_streams', STREAM_SUMS)},
         first_seen_at = LEAST(viewer_streams.first_seen_at, excluded.first_seen_at),
         last_seen_at = GREATEST(viewer_streams.last_seen_at, excluded.last_seen_at)`,
      p,
    );
    await c.query(`DELETE FROM viewer_streams WHERE viewer_id = $2 AND ${IN_CHANNEL}`, [channel, from]);
    // the key is unique per partition only, so the check looks across every partition, as SQLite's table-wide key did
    const moved = await c.query(
      `UPDATE events e SET viewer_id = $3 WHERE e.viewer_id = $2 AND e.${IN_CHANNEL}
         AND NOT EXISTS (SELECT 1 FROM events x WHERE x.stream_id = e.stream_id AND x.viewer_id = $3 AND x.id = e.id)`,
      p,
    );
    const events = moved.rowCount ?? 0;
    await c.query(`DELETE FROM events WHERE viewer_id = $2 AND ${IN_CHANNEL}`, [channel, from]);
    // no unique key of offers holds a viewer id any more, so nothing can collide
    await c.query('UPDATE offers SET viewer_id = $3 WHERE channel = $1 AND viewer_id = $2 AND redeemed_at IS NULL', p);
    await c.query(
      `UPDATE campaign_assignments a SET viewer_id = $3 WHERE a.channel = $1 AND a.viewer_id = $2
         AND NOT EXISTS (SELECT 1 FROM campaign_assignments x WHERE x.stream_id = a.stream_id AND x.campaign_id = a.campaign_id AND x.viewer_id = $3)`,
      p,
    );
    // the tiers recorded at the end of the streams it watched follow the viewer, as its per-stream rows do
    await c.query(
      `UPDATE stream_tiers t SET viewer_id = $3 WHERE t.channel = $1 AND t.viewer_id = $2
         AND NOT EXISTS (SELECT 1 FROM stream_tiers x WHERE x.stream_id = t.stream_id AND x.viewer_id = $3)`,
      p,
    );
    await c.query('DELETE FROM stream_tiers WHERE channel = $1 AND viewer_id = $2', [channel, from]);
    await c.query('UPDATE viewer_aliases SET events = $3 WHERE channel = $1 AND anon_id = $2', [channel, from, events]);
    return { merged: true, viewerId: into, events };
  });
}

/**
 * The anonymous copies of events the verified viewer also has (a second tab, a beacon sent as
 * them): their share (ingest/tally.ts storedDeltas) is taken out of the anonymous counters before
 * those are added to the verified viewer's, so nothing is counted twice (alias.ts).
 */
async function takeBackDuplicates(c: Sql, channel: string, from: string, into: string) {
  const { rows } = await c.query<{ stream_id: string; type: string; data: string | null; credit_ms: number | null; received_at: number }>(
    `SELECT e.stream_id, e.type, e.data, e.credit_ms, e.received_at FROM events e
     WHERE e.viewer_id = $2 AND e.${IN_CHANNEL}
       AND EXISTS (SELECT 1 FROM events x WHERE x.stream_id = e.stream_id AND x.viewer_id = $3 AND x.id = e.id)`,
    [channel, from, into],
  );
  if (!rows.length) return;
  const stored = rows.map((r) => ({ streamId: r.stream_id, type: r.type, data: r.data, creditMs: r.credit_ms, receivedAt: r.received_at }));
  const byStream = new Map<string, typeof stored>();
  for (const r of stored) byStream.set(r.streamId, [...(byStream.get(r.streamId) ?? []), r]);
  for (const [streamId, list] of byStream) {
    const d = storedDeltas(list);
    await c.query(
      `UPDATE viewer_streams SET watch_ms = watch_ms - $3, comments = comments - $4, likes = likes - $5, product_views = product_views - $6,
         add_to_carts = add_to_carts - $7, checkouts = checkouts - $8, browser_purchases = browser_purchases - $9
       WHERE stream_id = $1 AND viewer_id = $2`,
      [streamId, from, d.watchMs, d.comments, d.likes, d.productViews, d.addToCarts, d.checkouts, d.browserPurchases],
    );
  }
  const d = storedDeltas(stored);
  await c.query(
    `UPDATE viewers SET watch_ms = watch_ms - $3, comments = comments - $4, likes = likes - $5, product_views = product_views - $6,
       add_to_carts = add_to_carts - $7, eng_weighted = GREATEST(0, eng_weighted - $8) WHERE channel = $1 AND id = $2`,
    [channel, from, d.watchMs, d.comments, d.likes, d.productViews, d.addToCarts, d.engWeighted],
  );
}
