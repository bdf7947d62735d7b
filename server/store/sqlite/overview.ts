/**
 * The channel overview's statements on SQLite: the channel's read-only key (a digest, with the
 * one a rotation replaced valid for a grace period, like the token secret beside it), the
 * channel's streams newest first, and what a stream's end records (`snapshot`, run inside
 * endStream's transaction): each viewer's tier then beside their tier at the end of their previous
 * stream in the channel, and on the stream row the counts of those and the peak.
 */
import type { DB } from './db.js';
import type { ChannelStreamRow, TierMoves } from '../types.js';
import type { Tier } from '../../realtime/events.js';
import { streamFrom } from './repo.js';

/** a tier's rank, in SQL: a move up is a higher rank than before */
const rank = (col: string) => `CASE ${col} WHEN 'high' THEN 2 WHEN 'mid' THEN 1 ELSE 0 END`;

/** the counts of a set of (tier, previous_tier) rows */
const COUNTS = `COALESCE(SUM(tier = 'high'), 0) AS high, COALESCE(SUM(tier = 'mid'), 0) AS mid,
  COALESCE(SUM(tier NOT IN ('high', 'mid')), 0) AS potential,
  COALESCE(SUM(previous_tier IS NOT NULL AND ${rank('tier')} > ${rank('previous_tier')}), 0) AS movedUp,
  COALESCE(SUM(previous_tier IS NOT NULL AND ${rank('tier')} < ${rank('previous_tier')}), 0) AS movedDown`;

/** the latest tier recorded for the viewer `vs.viewer_id` at a stream's end in the channel */
const PREVIOUS = `(SELECT st.tier FROM stream_tiers st WHERE st.channel = @channel AND st.viewer_id = vs.viewer_id
  ORDER BY st.ended_at DESC, st.stream_id DESC LIMIT 1)`;

export function channelStreamFrom(r: any): ChannelStreamRow {
  return {
    ...streamFrom(r),
    atEnd:
      r.end_high === null || r.end_high === undefined
        ? null
        : {
            peakConnected: r.end_peak_connected ?? null, high: r.end_high, mid: r.end_mid, potential: r.end_potential,
            movedUp: r.end_moved_up, movedDown: r.end_moved_down,
          },
  };
}

export function createOverviewStore(db: DB) {
  const s = {
    // a grace period that has already ended (until <= now) keeps nothing
    rotateKey: db.prepare(`UPDATE channels SET previous_key_hash = CASE WHEN @until IS NULL THEN NULL ELSE key_hash END,
      previous_key_valid_until = @until, key_hash = @hash WHERE id = @channel`),
    byKey: db.prepare('SELECT id FROM channels WHERE key_hash = ?'),
    byPreviousKey: db.prepare('SELECT id FROM channels WHERE previous_key_hash = ? AND previous_key_valid_until > ?'),
    streams: db.prepare('SELECT * FROM streams INDEXED BY streams_created WHERE channel = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
    // each viewer's previous tier is one range of stream_tiers_viewer, read before this stream's rows exist
    snapshot: db.prepare(`INSERT INTO stream_tiers (stream_id, viewer_id, channel, ended_at, tier, previous_tier)
      SELECT vs.stream_id, vs.viewer_id, @channel, @now, v.tier, ${PREVIOUS}
      FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
      WHERE vs.stream_id = @streamId`),
    counts: db.prepare(`SELECT ${COUNTS} FROM stream_tiers WHERE stream_id = ?`),
    atEnd: db.prepare(`UPDATE streams SET end_peak_connected = @peak, end_high = @high, end_mid = @mid, end_potential = @potential,
      end_moved_up = @movedUp, end_moved_down = @movedDown WHERE id = @streamId`),
    movesNow: db.prepare(`SELECT ${COUNTS} FROM (
        SELECT v.tier AS tier, ${PREVIOUS} AS previous_tier
        FROM viewer_streams vs JOIN viewers v ON v.channel = @channel AND v.id = vs.viewer_id
        WHERE vs.stream_id = @streamId)`),
    channelTiers: db.prepare('SELECT tier, COUNT(*) AS n FROM viewers WHERE channel = ? GROUP BY tier'),
    channelOf: db.prepare('SELECT channel FROM streams WHERE id = ?'),
    // a viewer's recorded tiers are deleted with them (alias.ts moves them to the verified viewer)
    forget: db.prepare('DELETE FROM stream_tiers WHERE channel = ? AND viewer_id = ?'),
  };

  return {
    rotateKey(channel: string, hash: string, until: number | null, now: number): boolean {
      return s.rotateKey.run({ channel, hash, until: until !== null && until > now ? until : null }).changes === 1;
    },
    channelForKey(hash: string, now: number): string | null {
      const r = (s.byKey.get(hash) ?? s.byPreviousKey.get(hash, now)) as { id: string } | undefined;
      return r?.id ?? null;
    },
    streams: (channel: string, limit: number): ChannelStreamRow[] => (s.streams.all(channel, limit) as any[]).map(channelStreamFrom),
    /** inside endStream's transaction, once its conditional update has won */
    snapshot(streamId: string, now: number, peakConnected: number | null) {
      const channel = (s.channelOf.get(streamId) as { channel: string }).channel;
      s.snapshot.run({ channel, now, streamId });
      const c = s.counts.get(streamId) as TierMoves;
      s.atEnd.run({ ...c, peak: peakConnected, streamId });
    },
    movesNow: (channel: string, streamId: string): TierMoves => s.movesNow.get({ channel, streamId }) as TierMoves,
    channelTiers(channel: string): Record<Tier, number> {
      const out: Record<Tier, number> = { high: 0, mid: 0, potential: 0 };
      for (const r of s.channelTiers.all(channel) as { tier: Tier; n: number }[]) out[r.tier in out ? r.tier : 'potential'] += r.n;
      return out;
    },
    /** inside eraseViewer's transaction */
    erase(channel: string, viewerId: string) {
      s.forget.run(channel, viewerId);
    },
  };
}
