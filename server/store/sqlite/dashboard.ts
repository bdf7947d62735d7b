/**
 * The SQL behind the host dashboard and the reports: the funnel, polls and their answers, the
 * CSV rows (a page at a time), the per-campaign offer counts and the top buyers. Prepared once per
 * database; callers get plain objects back.
 */
import type { DB } from './db.js';
import type { FunnelCounts, PollPayload, Tier } from '../../realtime/events.js';
import type { CampaignCounts, CsvViewerRow, PollRow, StreamEngagement } from '../types.js';

export type { CampaignCounts, CsvViewerRow, PollRow };

/** rows per CSV page: each page is one complete statement, so no cursor stays open while a response is written */
export const CSV_PAGE = 1000;

/** where a CSV page starts: after this (first seen, viewer id); `null` for the first page */
export type CsvCursor = { firstSeenAt: number; id: string } | null;

export type DashboardQueries = ReturnType<typeof createDashboardQueries>;

const csvRowFrom = (r: any): CsvViewerRow => ({
  id: r.id, tier: r.tier, lifecycle: r.lifecycle ?? null, verified: !!r.verified, watchMs: r.watch_ms, comments: r.comments, likes: r.likes,
  productViews: r.product_views, addToCarts: r.add_to_carts, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
  purchases: r.purchases, spend: r.spend, lastPurchaseAt: r.last_purchase_at,
  streamWatchMs: r.s_watch_ms, streamComments: r.s_comments, streamProductViews: r.s_product_views,
  streamAddToCarts: r.s_add_to_carts, streamCheckouts: r.s_checkouts, streamPurchases: r.s_purchases, streamSpend: r.s_spend,
  pAlive: r.p_alive ?? null, clv365d: r.clv_365d ?? null,
});

const zeroFunnel = (): FunnelCounts => ({ viewers: 0, productViews: 0, addToCarts: 0, checkouts: 0, purchases: 0, boughtWithoutCheckout: 0 });

export function createDashboardQueries(db: DB) {
  const s = {
    // each step counts the viewers who reached it or a later one (a buyer with no tracked checkout
    // reached checkout too), so no step exceeds the one before; boughtWithoutCheckout says how many those are
    funnel: db.prepare(`SELECT tier, COUNT(*) AS viewers,
        SUM(bought OR ck > 0 OR cart > 0 OR pv > 0) AS productViews, SUM(bought OR ck > 0 OR cart > 0) AS addToCarts,
        SUM(bought OR ck > 0) AS checkouts, SUM(bought) AS purchases, SUM(bought AND ck = 0) AS boughtWithoutCheckout
      FROM (SELECT v.tier AS tier, vs.product_views AS pv, vs.add_to_carts AS cart, vs.checkouts AS ck,
          EXISTS (SELECT 1 FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = vs.viewer_id AND p.stream_id = vs.stream_id) AS bought
        FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
        WHERE vs.stream_id = @streamId)
      GROUP BY tier`),
    engagement: db.prepare(`SELECT COUNT(*) AS viewers, COALESCE(SUM(vs.comments > 0), 0) AS commenters, COALESCE(SUM(vs.product_views > 0), 0) AS productViewers,
        COALESCE(SUM(vs.add_to_carts > 0), 0) AS carters, COALESCE(SUM(MIN(vs.watch_ms, @cap)), 0) AS watchMs, COALESCE(SUM(v.first_seen_at < @startedAt), 0) AS "returning"
      FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
      WHERE vs.stream_id = @streamId`),
    insertPoll: db.prepare('INSERT INTO polls (id, stream_id, question, scale, opened_at, closes_at) VALUES (?, ?, ?, ?, ?, ?)'),
    closePolls: db.prepare('UPDATE polls SET closes_at = ? WHERE stream_id = ? AND closes_at > ?'),
    latestPoll: db.prepare('SELECT * FROM polls WHERE stream_id = ? ORDER BY opened_at DESC, rowid DESC LIMIT 1'),
    polls: db.prepare('SELECT * FROM polls WHERE stream_id = ? ORDER BY opened_at'),
    // the partial index events_poll answers this without a scan
    answered: db.prepare(`SELECT 1 FROM events WHERE stream_id = ? AND type = 'poll_answer' AND json_extract(data, '$.pollId') = ? AND viewer_id = ? LIMIT 1`),
    // one answer per viewer, the latest wins; answers after the poll closed do not count
    pollAnswers: db.prepare(`SELECT value, COUNT(*) AS n FROM (
        SELECT json_extract(data, '$.value') AS value, MAX(rowid)
        FROM events WHERE stream_id = ? AND type = 'poll_answer' AND json_extract(data, '$.pollId') = ? AND received_at <= ?
        GROUP BY viewer_id)
      GROUP BY value`),
    // in order of arrival in the stream; a page is a range of viewer_streams_first, so the keyset
    // (first_seen_at, viewer_id) > cursor costs the page's rows, never a sort of the whole stream
    csvPage: db.prepare(`SELECT v.id, v.tier, v.lifecycle, v.verified, v.watch_ms, v.comments, v.likes, v.product_views, v.add_to_carts, v.p_alive, v.clv_365d,
        v.first_seen_at, v.last_seen_at, vs.first_seen_at AS s_first_seen_at,
        vs.watch_ms AS s_watch_ms, vs.comments AS s_comments, vs.product_views AS s_product_views,
        vs.add_to_carts AS s_add_to_carts, vs.checkouts AS s_checkouts,
        (SELECT COUNT(*) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.amount > p.refunded) AS purchases,
        (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id) AS spend,
        (SELECT MAX(p.at) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id) AS last_purchase_at,
        (SELECT COUNT(*) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.stream_id = vs.stream_id) AS s_purchases,
        (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.stream_id = vs.stream_id) AS s_spend
      FROM viewer_streams vs INDEXED BY viewer_streams_first JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
      WHERE vs.stream_id = @streamId AND (vs.first_seen_at, vs.viewer_id) > (@afterAt, @afterId)
      ORDER BY vs.first_seen_at, vs.viewer_id LIMIT @limit`),
    campaignCounts: db.prepare(`SELECT campaign, MIN(title) AS title, COUNT(*) AS issued, COUNT(delivered_at) AS delivered,
        COUNT(seen_at) AS seen, COUNT(clicked_at) AS clicked, COUNT(redeemed_at) AS redeemed
      FROM offers WHERE stream_id = ? GROUP BY campaign ORDER BY MIN(created_at)`),
    topBuyers: db.prepare(`SELECT viewer_id AS viewerId, COUNT(*) AS orders, SUM(amount - refunded) AS spend
      FROM purchases WHERE stream_id = ? GROUP BY viewer_id ORDER BY spend DESC, viewer_id LIMIT ?`),
  };

  const pollFrom = (r: any): PollRow => ({
    id: r.id,
    question: r.question,
    scale: 5,
    closesAt: r.closes_at,
    openedAt: r.opened_at,
  });

  /** One page of the CSV rows after `after`, and the cursor of the next page (null after the last). */
  function csvPage(channel: string, streamId: string, after: CsvCursor, limit = CSV_PAGE): { rows: CsvViewerRow[]; next: CsvCursor } {
    const raw = s.csvPage.all({
      channel, streamId, limit, afterAt: after?.firstSeenAt ?? Number.MIN_SAFE_INTEGER, afterId: after?.id ?? '',
    }) as any[];
    const last = raw[raw.length - 1];
    return {
      rows: raw.map(csvRowFrom),
      next: raw.length === limit && last ? { firstSeenAt: last.s_first_seen_at, id: last.id } : null,
    };
  }

  return {
    /** Unique viewers per funnel step, in all and by their current tier. A scan of the stream's viewers: callers throttle it. */
    funnel(channel: string, streamId: string): { total: FunnelCounts; byTier: Record<Tier, FunnelCounts> } {
      const byTier: Record<Tier, FunnelCounts> = { high: zeroFunnel(), mid: zeroFunnel(), potential: zeroFunnel() };
      const total = zeroFunnel();
      for (const r of s.funnel.all({ channel, streamId }) as (FunnelCounts & { tier: Tier })[]) {
        const bucket = byTier[r.tier];
        if (!bucket) continue;
        for (const k of Object.keys(total) as (keyof FunnelCounts)[]) {
          bucket[k] += r[k] ?? 0;
          total[k] += r[k] ?? 0;
        }
      }
      return { total, byTier };
    },
    /** the live-commerce numbers' inputs (types.ts streamEngagement): one scan of the stream's viewers */
    engagement(channel: string, streamId: string, startedAt: number, capMs: number): StreamEngagement {
      return s.engagement.get({ channel, streamId, startedAt, cap: Math.max(0, Math.floor(capMs)) }) as StreamEngagement;
    },
    /** Opens a poll, closing any still open in the stream. */
    openPoll(streamId: string, poll: PollPayload, now: number) {
      db.transaction(() => {
        s.closePolls.run(now, streamId, now);
        s.insertPoll.run(poll.id, streamId, poll.question, poll.scale, now, poll.closesAt);
      })();
    },
    latestPoll(streamId: string): PollRow | null {
      const r = s.latestPoll.get(streamId);
      return r ? pollFrom(r) : null;
    },
    /** The stream's poll still open at `now`, unless this viewer already answered it (answers still queued for the writer are not seen). */
    openPollFor(streamId: string, viewerId: string, now: number): PollPayload | null {
      const r = s.latestPoll.get(streamId) as any;
      if (!r || r.closes_at <= now || s.answered.get(streamId, r.id, viewerId)) return null;
      const { openedAt: _openedAt, ...poll } = pollFrom(r);
      return poll;
    },
    polls(streamId: string): PollRow[] {
      return s.polls.all(streamId).map(pollFrom);
    },
    /** counts[0] = answers of 1 … counts[4] = answers of 5 */
    pollCounts(streamId: string, pollId: string, closesAt: number): [number, number, number, number, number] {
      const counts: [number, number, number, number, number] = [0, 0, 0, 0, 0];
      for (const r of s.pollAnswers.all(streamId, pollId, closesAt) as { value: number; n: number }[]) {
        if (Number.isInteger(r.value) && r.value >= 1 && r.value <= 5) counts[r.value - 1] += r.n;
      }
      return counts;
    },
    csvPage,
    /** Every CSV row, a page at a time (each page read whole, so the connection is free between pages). */
    *csvRows(channel: string, streamId: string): IterableIterator<CsvViewerRow> {
      let after: CsvCursor = null;
      do {
        const page = csvPage(channel, streamId, after);
        yield* page.rows;
        after = page.next;
      } while (after);
    },
    campaignCounts(streamId: string): CampaignCounts[] {
      return s.campaignCounts.all(streamId) as CampaignCounts[];
    },
    topBuyers(streamId: string, limit: number): { viewerId: string; orders: number; spend: number }[] {
      return s.topBuyers.all(streamId, limit) as { viewerId: string; orders: number; spend: number }[];
    },
  };
}
