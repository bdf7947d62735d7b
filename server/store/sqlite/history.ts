/**
 * The host's live history (realtime/dashboard.ts) on SQLite: trend points upserted by bucket, the
 * newest activity lines kept per stream (pruned on every save), read back after a restart.
 */
import type { DB } from './db.js';
import type { StoredActivity } from '../types.js';
import type { TrendPoint } from '../../realtime/events.js';

export function createHistoryStore(db: DB) {
  const s = {
    point: db.prepare('INSERT INTO host_trend (stream_id, t, point) VALUES (?, ?, ?) ON CONFLICT (stream_id, t) DO UPDATE SET point = excluded.point'),
    item: db.prepare('INSERT OR IGNORE INTO host_activity (stream_id, key, at, viewer_id, item) VALUES (?, ?, ?, ?, ?)'),
    prune: db.prepare(`DELETE FROM host_activity WHERE stream_id = @streamId AND key NOT IN
      (SELECT key FROM host_activity WHERE stream_id = @streamId ORDER BY at DESC, key DESC LIMIT @keep)`),
    points: db.prepare('SELECT point FROM host_trend WHERE stream_id = ? ORDER BY t'),
    items: db.prepare('SELECT key, item FROM host_activity WHERE stream_id = ? ORDER BY at DESC, key DESC LIMIT ?'),
    eraseViewer: db.prepare(`DELETE FROM host_activity WHERE viewer_id = ? AND stream_id IN (SELECT id FROM streams WHERE channel = ?)`),
  };
  return {
    save: db.transaction((streamId: string, h: { points: TrendPoint[]; items: StoredActivity[] }, keep: number) => {
      for (const p of h.points) s.point.run(streamId, p.t, JSON.stringify(p));
      if (!h.items.length) return;
      for (const { key, item } of h.items) s.item.run(streamId, key, item.at, item.viewerId, JSON.stringify(item));
      s.prune.run({ streamId, keep });
    }),
    load: db.transaction((streamId: string, maxItems: number) => ({
      points: (s.points.all(streamId) as { point: string }[]).map((r) => JSON.parse(r.point) as TrendPoint),
      items: (s.items.all(streamId, maxItems) as { key: string; item: string }[]).reverse().map((r) => ({ key: r.key, item: JSON.parse(r.item) })),
    })),
    eraseViewer(channel: string, viewerId: string) {
      s.eraseViewer.run(viewerId, channel);
    },
  };
}
