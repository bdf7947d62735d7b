/**
 * The host's live history (realtime/dashboard.ts) on PostgreSQL (sqlite/history.ts): every server
 * writes what it produced and reads the same rows back, so every node serves the same history.
 */
import type { Store } from '../types.js';
import type { Db } from './pool.js';
import { columns } from './rows.js';

export function historyOps(db: Db): Pick<Store, 'saveHostHistory' | 'hostHistory'> {
  return {
    async saveHostHistory(streamId, h, keep) {
      if (!h.points.length && !h.items.length) return;
      await db.tx(async (c) => {
        if (h.points.length) {
          await c.query(
            `INSERT INTO host_trend (stream_id, t, point) SELECT $1, u.t, u.point FROM UNNEST($2::bigint[], $3::text[]) AS u(t, point)
             ORDER BY u.t ON CONFLICT (stream_id, t) DO UPDATE SET point = excluded.point`,
            [streamId, ...columns(h.points.map((p) => [p.t, JSON.stringify(p)]), 2)],
          );
        }
        if (h.items.length) {
          await c.query(
            `INSERT INTO host_activity (stream_id, key, at, viewer_id, item)
             SELECT $1, u.key, u.at, u.viewer_id, u.item FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(key, at, viewer_id, item)
             ON CONFLICT DO NOTHING`,
            [streamId, ...columns(h.items.map(({ key, item }) => [key, item.at, item.viewerId, JSON.stringify(item)]), 4)],
          );
          await c.query(
            `DELETE FROM host_activity WHERE stream_id = $1 AND key NOT IN
               (SELECT key FROM host_activity WHERE stream_id = $1 ORDER BY at DESC, key DESC LIMIT $2)`,
            [streamId, keep],
          );
        }
      });
    },
    async hostHistory(streamId, maxItems) {
      const [points, items] = await Promise.all([
        db.query<{ point: string }>('SELECT point FROM host_trend WHERE stream_id = $1 ORDER BY t', [streamId]),
        db.query<{ key: string; item: string }>('SELECT key, item FROM host_activity WHERE stream_id = $1 ORDER BY at DESC, key DESC LIMIT $2', [streamId, maxItems]),
      ]);
      return {
        points: points.rows.map((r) => JSON.parse(r.point)),
        items: items.rows.reverse().map((r) => ({ key: r.key, item: JSON.parse(r.item) })),
      };
    },
  };
}
