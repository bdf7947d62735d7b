/**
 * The SQL behind the host dashboard and the reports (sqlite/dashboard.ts): the funnel, polls and
 * their answers, per-campaign offer counts, top buyers. A poll's answers are read through the
 * partial events_poll index, whose expression (`data::json ->> 'pollId'`) the queries repeat
 * word for word so the planner can use it. `json`, not `jsonb`: json only checks the text and
 * de-escapes just the field asked for, so another event's data holding \u0000 (a comment may;
 * jsonb refuses it) can never fail a poll query, whichever plan reads it.
 */
import type { FunnelCounts, PollPayload, Tier } from '../../realtime/events.js';
import type { PollRow, Store } from '../types.js';
import type { Db } from './pool.js';

type DashboardOps = Pick<Store, 'streamEngagement' |
  'funnel' | 'openPoll' | 'latestPoll' | 'openPollFor' | 'polls' | 'pollCounts' | 'campaignCounts' | 'topBuyers'>;

const zeroFunnel = (): FunnelCounts => ({ viewers: 0, productViews: 0, addToCarts: 0, checkouts: 0, purchases: 0, boughtWithoutCheckout: 0 });

const pollFrom = (r: Record<string, any>): PollRow => ({ id: r.id, question: r.question, scale: 5, closesAt: r.closes_at, openedAt: r.opened_at });

/** the latest poll of a stream; seq breaks a tie of opened_at as SQLite's rowid does */
const LATEST = 'SELECT * FROM polls WHERE stream_id = $1 ORDER BY opened_at DESC, seq DESC LIMIT 1';

export function dashboardOps(db: Db): DashboardOps {
  const rows = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows;

  return {
    /** the live-commerce numbers' inputs (sqlite/dashboard.ts engagement) */
    async streamEngagement(channel, streamId, startedAt, capMs) {
      const [r] = await rows(
        `SELECT COUNT(*) AS viewers, COUNT(*) FILTER (WHERE vs.comments > 0) AS commenters, COUNT(*) FILTER (WHERE vs.product_views > 0) AS "productViewers",
           COUNT(*) FILTER (WHERE vs.add_to_carts > 0) AS carters, COALESCE(SUM(LEAST(vs.watch_ms, $4)), 0)::bigint AS "watchMs",
           COUNT(*) FILTER (WHERE v.first_seen_at < $3) AS "returning"
         FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
         WHERE vs.stream_id = $2`,
        [channel, streamId, startedAt, Math.max(0, Math.floor(capMs))],
      );
      return { viewers: Number(r.viewers), commenters: Number(r.commenters), productViewers: Number(r.productViewers), carters: Number(r.carters), watchMs: Number(r.watchMs), returning: Number(r.returning) };
    },
    /** unique viewers per funnel step, in all and by their current tier (a scan of the stream's viewers: callers throttle it) */
    async funnel(channel, streamId) {
      const byTier: Record<Tier, FunnelCounts> = { high: zeroFunnel(), mid: zeroFunnel(), potential: zeroFunnel() };
      const total = zeroFunnel();
      const list = await rows(
        // each step counts the viewers who reached it or a later one (sqlite/dashboard.ts funnel)
        `SELECT tier, COUNT(*) AS viewers,
           COUNT(*) FILTER (WHERE bought OR ck > 0 OR cart > 0 OR pv > 0) AS "productViews",
           COUNT(*) FILTER (WHERE bought OR ck > 0 OR cart > 0) AS "addToCarts",
           COUNT(*) FILTER (WHERE bought OR ck > 0) AS checkouts,
           COUNT(*) FILTER (WHERE bought) AS purchases,
           COUNT(*) FILTER (WHERE bought AND ck = 0) AS "boughtWithoutCheckout"
         FROM (SELECT v.tier, vs.product_views AS pv, vs.add_to_carts AS cart, vs.checkouts AS ck,
                 EXISTS (SELECT 1 FROM purchases p WHERE p.channel = v.channel AND p.viewer_id = vs.viewer_id AND p.stream_id = vs.stream_id) AS bought
               FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
               WHERE vs.stream_id = $2) f
         GROUP BY tier`,
        [channel, streamId],
      );
      for (const r of list) {
        const bucket = byTier[r.tier as Tier];
        if (!bucket) continue;
        for (const k of Object.keys(total) as (keyof FunnelCounts)[]) {
          bucket[k] += r[k] ?? 0;
          total[k] += r[k] ?? 0;
        }
      }
      return { total, byTier };
    },

    openPoll(streamId, poll, now) {
      return db.tx(async (c) => {
        await c.query('UPDATE polls SET closes_at = $1 WHERE stream_id = $2 AND closes_at > $1', [now, streamId]);
        await c.query('INSERT INTO polls (id, stream_id, question, scale, opened_at, closes_at) VALUES ($1, $2, $3, $4, $5, $6)', [
          poll.id, streamId, poll.question, poll.scale, now, poll.closesAt,
        ]);
      });
    },
    async latestPoll(streamId) {
      const [r] = await rows(LATEST, [streamId]);
      return r ? pollFrom(r) : null;
    },
    async openPollFor(streamId, viewerId, now): Promise<PollPayload | null> {
      const [r] = await rows(
        `SELECT p.*, EXISTS (SELECT 1 FROM events e WHERE e.stream_id = p.stream_id AND e.type = 'poll_answer'
                               AND (e.data::json ->> 'pollId') = p.id AND e.viewer_id = $2) AS answered
         FROM (${LATEST}) p`,
        [streamId, viewerId],
      );
      if (!r || r.closes_at <= now || r.answered) return null;
      const { openedAt: _openedAt, ...poll } = pollFrom(r);
      return poll;
    },
    async polls(streamId) {
      return (await rows('SELECT * FROM polls WHERE stream_id = $1 ORDER BY opened_at, seq', [streamId])).map(pollFrom);
    },
    /** one answer per viewer, the latest by arrival (seq), among those received by `closesAt` */
    async pollCounts(streamId, pollId, closesAt) {
      const counts: [number, number, number, number, number] = [0, 0, 0, 0, 0];
      const list = await rows(
        `SELECT value, COUNT(*) AS n FROM (
           SELECT DISTINCT ON (viewer_id)
             CASE WHEN json_typeof(data::json -> 'value') = 'number' THEN (data::json ->> 'value') END AS value
           FROM events
           WHERE stream_id = $1 AND type = 'poll_answer' AND (data::json ->> 'pollId') = $2 AND received_at <= $3
           ORDER BY viewer_id, seq DESC) latest
         GROUP BY value`,
        [streamId, pollId, closesAt],
      );
      for (const r of list) {
        const v = r.value === null ? NaN : Number(r.value);
        if (Number.isInteger(v) && v >= 1 && v <= 5) counts[v - 1] += r.n;
      }
      return counts;
    },
    async campaignCounts(streamId) {
      const list = await rows(
        `SELECT campaign, MIN(title) AS title, COUNT(*) AS issued, COUNT(delivered_at) AS delivered,
           COUNT(seen_at) AS seen, COUNT(clicked_at) AS clicked, COUNT(redeemed_at) AS redeemed
         FROM offers WHERE stream_id = $1 GROUP BY campaign ORDER BY MIN(created_at), campaign`,
        [streamId],
      );
      return list.map((r) => ({
        campaign: r.campaign, title: r.title, issued: r.issued, delivered: r.delivered, seen: r.seen, clicked: r.clicked, redeemed: r.redeemed,
      }));
    },
    async topBuyers(streamId, limit) {
      const list = await rows(
        `SELECT viewer_id, COUNT(*) AS orders, SUM(amount - refunded) AS spend
         FROM purchases WHERE stream_id = $1 GROUP BY viewer_id ORDER BY spend DESC, viewer_id LIMIT $2`,
        [streamId, limit],
      );
      return list.map((r) => ({ viewerId: r.viewer_id, orders: r.orders, spend: r.spend }));
    },
  };
}
