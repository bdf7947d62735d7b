/**
 * Issue 6: the SQL behind the host dashboard and the reports (funnel, polls, the CSV rows, the
 * per-campaign offer counts). Prepared once per database; callers get plain objects back.
 */
import type { DB } from './db.js';
import type { FunnelCounts, PollPayload, Tier } from '../../realtime/events.js';

export interface CsvViewerRow {
  id: string;
  tier: Tier;
  /** issue 3's lifecycle stage as last stored */
  lifecycle: string | null;
  verified: boolean;
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
  firstSeenAt: number;
  lastSeenAt: number;
  purchases: number;
  spend: number;
  lastPurchaseAt: number | null;
  streamWatchMs: number;
  streamComments: number;
  streamProductViews: number;
  streamAddToCarts: number;
  streamCheckouts: number;
  streamPurchases: number;
  streamSpend: number;
}

export interface CampaignCounts {
  campaign: string;
  title: string;
  issued: number;
  delivered: number;
  seen: number;
  clicked: number;
  redeemed: number;
}

export type DashboardQueries = ReturnType<typeof createDashboardQueries>;

const zeroFunnel = (): FunnelCounts => ({ viewers: 0, productViews: 0, addToCarts: 0, checkouts: 0, purchases: 0 });

export function createDashboardQueries(db: DB) {
  const s = {
    funnel: db.prepare(`SELECT v.tier AS tier, COUNT(*) AS viewers,
        SUM(vs.product_views > 0) AS productViews, SUM(vs.add_to_carts > 0) AS addToCarts, SUM(vs.checkouts > 0) AS checkouts,
        SUM(EXISTS (SELECT 1 FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = vs.viewer_id AND p.stream_id = vs.stream_id)) AS purchases
      FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
      WHERE vs.stream_id = @streamId GROUP BY v.tier`),
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
    csvRows: db.prepare(`SELECT v.id, v.tier, v.lifecycle, v.verified, v.watch_ms, v.comments, v.likes, v.product_views, v.add_to_carts,
        v.first_seen_at, v.last_seen_at,
        vs.watch_ms AS s_watch_ms, vs.comments AS s_comments, vs.product_views AS s_product_views,
        vs.add_to_carts AS s_add_to_carts, vs.checkouts AS s_checkouts,
        (SELECT COUNT(*) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.amount > p.refunded) AS purchases,
        (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id) AS spend,
        (SELECT MAX(p.at) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id) AS last_purchase_at,
        (SELECT COUNT(*) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.stream_id = vs.stream_id) AS s_purchases,
        (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p INDEXED BY purchases_viewer WHERE p.channel = v.channel AND p.viewer_id = v.id AND p.stream_id = vs.stream_id) AS s_spend
      FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
      WHERE vs.stream_id = @streamId ORDER BY vs.first_seen_at, v.id`),
    campaignCounts: db.prepare(`SELECT campaign, MIN(title) AS title, COUNT(*) AS issued, COUNT(delivered_at) AS delivered,
        COUNT(seen_at) AS seen, COUNT(clicked_at) AS clicked, COUNT(redeemed_at) AS redeemed
      FROM offers WHERE stream_id = ? GROUP BY campaign ORDER BY MIN(created_at)`),
    topBuyers: db.prepare(`SELECT viewer_id AS viewerId, COUNT(*) AS orders, SUM(amount - refunded) AS spend
      FROM purchases WHERE stream_id = ? GROUP BY viewer_id ORDER BY spend DESC, viewer_id LIMIT ?`),
  };

  const pollFrom = (r: any): PollPayload & { openedAt: number } => ({
    id: r.id,
    question: r.question,
    scale: 5,
    closesAt: r.closes_at,
    openedAt: r.opened_at,
  });

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
    /** Opens a poll, closing any still open in the stream. */
    openPoll(streamId: string, poll: PollPayload, now: number) {
      db.transaction(() => {
        s.closePolls.run(now, streamId, now);
        s.insertPoll.run(poll.id, streamId, poll.question, poll.scale, now, poll.closesAt);
      })();
    },
    latestPoll(streamId: string) {
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
    polls(streamId: string) {
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
    csvRows(channel: string, streamId: string): IterableIterator<CsvViewerRow> {
      const it = s.csvRows.iterate({ channel, streamId }) as IterableIterator<any>;
      function* rows(): IterableIterator<CsvViewerRow> {
        for (const r of it) {
          yield {
            id: r.id, tier: r.tier, lifecycle: r.lifecycle ?? null, verified: !!r.verified, watchMs: r.watch_ms, comments: r.comments, likes: r.likes,
            productViews: r.product_views, addToCarts: r.add_to_carts, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
            purchases: r.purchases, spend: r.spend, lastPurchaseAt: r.last_purchase_at,
            streamWatchMs: r.s_watch_ms, streamComments: r.s_comments, streamProductViews: r.s_product_views,
            streamAddToCarts: r.s_add_to_carts, streamCheckouts: r.s_checkouts, streamPurchases: r.s_purchases, streamSpend: r.s_spend,
          };
        }
      }
      return rows();
    },
    campaignCounts(streamId: string): CampaignCounts[] {
      return s.campaignCounts.all(streamId) as CampaignCounts[];
    },
    topBuyers(streamId: string, limit: number): { viewerId: string; orders: number; spend: number }[] {
      return s.topBuyers.all(streamId, limit) as { viewerId: string; orders: number; spend: number }[];
    },
  };
}
