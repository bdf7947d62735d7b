/**
 * The channel overview on PostgreSQL (as sqlite/overview.ts): the channel's read-only key (a
 * digest, with the one a rotation replaced valid for a grace period), the channel's streams newest
 * first, and what a stream's end records (`recordEnd`, run inside endStream's transaction): each
 * viewer's tier then beside their tier at the end of their previous stream in the channel, and on
 * the stream row the counts of those and the peak.
 */
import type { ChannelStreamRow, Store, TierMoves } from '../types.js';
import type { Tier } from '../../realtime/events.js';
import type { Db, Sql } from './pool.js';
import { streamFrom } from './rows.js';

type OverviewOps = Pick<Store, 'rotateChannelKey' | 'channelForKey' | 'channelStreams' | 'tierMovesNow' | 'channelTiers'>;

/** a tier's rank, in SQL: a move up is a higher rank than before */
const rank = (col: string) => `CASE ${col} WHEN 'high' THEN 2 WHEN 'mid' THEN 1 ELSE 0 END`;

/** the counts of a set of (tier, previous_tier) rows */
const COUNTS = `COUNT(*) FILTER (WHERE tier = 'high') AS high, COUNT(*) FILTER (WHERE tier = 'mid') AS mid,
  COUNT(*) FILTER (WHERE tier NOT IN ('high', 'mid')) AS potential,
  COUNT(*) FILTER (WHERE previous_tier IS NOT NULL AND ${rank('tier')} > ${rank('previous_tier')}) AS "movedUp",
  COUNT(*) FILTER (WHERE previous_tier IS NOT NULL AND ${rank('tier')} < ${rank('previous_tier')}) AS "movedDown"`;

/** the latest tier recorded for the viewer `vs.viewer_id` at a stream's end in channel $1 */
const PREVIOUS = `(SELECT st.tier FROM stream_tiers st WHERE st.channel = $1 AND st.viewer_id = vs.viewer_id
  ORDER BY st.ended_at DESC, st.stream_id DESC LIMIT 1)`;

const moves = (r: Record<string, any>): TierMoves => ({
  high: Number(r.high), mid: Number(r.mid), potential: Number(r.potential), movedUp: Number(r.movedUp), movedDown: Number(r.movedDown),
});

function channelStreamFrom(r: Record<string, any>): ChannelStreamRow {
  return {
    ...streamFrom(r),
    atEnd:
      r.end_high === null
        ? null
        : {
            peakConnected: r.end_peak_connected ?? null, high: r.end_high, mid: r.end_mid, potential: r.end_potential,
            movedUp: r.end_moved_up, movedDown: r.end_moved_down,
          },
  };
}

/**
 * Inside endStream's transaction, once its conditional update has won: the viewers' tiers now
 * (each beside their latest recorded one: this statement sees stream_tiers as it was before it),
 * then their counts and the peak on the stream row.
 */
export async function recordEnd(c: Sql, streamId: string, channel: string, now: number, peakConnected: number | null): Promise<void> {
  await c.query(
    `INSERT INTO stream_tiers (stream_id, viewer_id, channel, ended_at, tier, previous_tier)
     SELECT vs.stream_id, vs.viewer_id, $1, $3, v.tier, ${PREVIOUS}
     FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
     WHERE vs.stream_id = $2`,
    [channel, streamId, now],
  );
  const r = moves((await c.query(`SELECT ${COUNTS} FROM stream_tiers WHERE stream_id = $1`, [streamId])).rows[0]);
  await c.query(
    `UPDATE streams SET end_peak_connected = $2, end_high = $3, end_mid = $4, end_potential = $5, end_moved_up = $6, end_moved_down = $7
     WHERE id = $1`,
    [streamId, peakConnected, r.high, r.mid, r.potential, r.movedUp, r.movedDown],
  );
}

export function overviewOps(db: Db): OverviewOps {
  return {
    /** one statement: the row lock makes two rotations at once each move the key they replace */
    async rotateChannelKey(channel, keyHash, previousValidUntil, now) {
      // a grace period that has already ended keeps nothing
      const until = previousValidUntil !== null && previousValidUntil > now ? previousValidUntil : null;
      const r = await db.query(
        `UPDATE channels SET previous_key_hash = CASE WHEN $2::bigint IS NULL THEN NULL ELSE key_hash END,
           previous_key_valid_until = $2::bigint, key_hash = $3 WHERE id = $1`,
        [channel, until, keyHash],
      );
      return r.rowCount === 1;
    },
    async channelForKey(keyHash, now) {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM channels WHERE key_hash = $1
         UNION ALL SELECT id FROM channels WHERE previous_key_hash = $1 AND previous_key_valid_until > $2
         LIMIT 1`,
        [keyHash, now],
      );
      return rows[0]?.id ?? null;
    },
    async channelStreams(channel, limit) {
      const { rows } = await db.query('SELECT * FROM streams WHERE channel = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [channel, limit]);
      return rows.map(channelStreamFrom);
    },
    async tierMovesNow(channel, streamId) {
      const { rows } = await db.query(
        `SELECT ${COUNTS} FROM (
           SELECT v.tier AS tier, ${PREVIOUS} AS previous_tier
           FROM viewer_streams vs JOIN viewers v ON v.channel = $1 AND v.id = vs.viewer_id
           WHERE vs.stream_id = $2) x`,
        [channel, streamId],
      );
      return moves(rows[0]!);
    },
    async channelTiers(channel) {
      const { rows } = await db.query<{ tier: Tier; n: number }>('SELECT tier, COUNT(*) AS n FROM viewers WHERE channel = $1 GROUP BY tier', [channel]);
      const out: Record<Tier, number> = { high: 0, mid: 0, potential: 0 };
      for (const r of rows) out[r.tier in out ? r.tier : 'potential'] += Number(r.n);
      return out;
    },
  };
}
