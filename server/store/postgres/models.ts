/**
 * Each channel's predictive model on PostgreSQL (issue 15; server/services/models.ts): the stored
 * fit, the lease of the process fitting it (a conditional upsert: of processes asking at once, one
 * takes it), the channels due a fit, and a channel's verified purchases net of refunds.
 */
import { skusOf, type ChannelModel } from '../../predict/channel-model.js';
import type { Store } from '../types.js';
import type { Db } from './pool.js';

const PREDICTIONS_PER_STATEMENT = 10_000;

export function modelOps(db: Db): Pick<Store, 'getModel' | 'claimModelFit' | 'saveModel' | 'releaseModelFit' | 'modelsDue' | 'channelPurchases' | 'buyerEngagement'> {
  return {
    async getModel(channel, now) {
      const { rows } = await db.query<{ body: string | null; fitting_until: string | number | null }>('SELECT body, fitting_until FROM channel_models WHERE channel = $1', [channel]);
      const r = rows[0];
      const until = r?.fitting_until == null ? null : Number(r.fitting_until);
      return { model: r?.body ? (JSON.parse(r.body) as ChannelModel) : null, fittingUntil: until !== null && until > now ? until : null };
    },
    async claimModelFit(channel, now, until) {
      const r = await db.query(
        `INSERT INTO channel_models (channel, fitting_until) VALUES ($1, $3)
         ON CONFLICT (channel) DO UPDATE SET fitting_until = $3 WHERE channel_models.fitting_until IS NULL OR channel_models.fitting_until <= $2
         RETURNING channel`,
        [channel, now, until],
      );
      return (r.rowCount ?? 0) > 0;
    },
    saveModel(channel, model, predictions = []) {
      return db.tx(async (c) => {
        await c.query(
          `INSERT INTO channel_models (channel, status, fitted_at, buyers, body, fitting_until) VALUES ($1, $2, $3, $4, $5, NULL)
           ON CONFLICT (channel) DO UPDATE SET status = $2, fitted_at = $3, buyers = $4, body = $5, fitting_until = NULL`,
          [channel, model.status, model.fittedAt, model.buyers, JSON.stringify(model)],
        );
        // the buyers' predictions in place of the last fit's, a slice of rows per statement
        await c.query('UPDATE viewers SET p_alive = NULL, clv_365d = NULL WHERE channel = $1 AND (p_alive IS NOT NULL OR clv_365d IS NOT NULL)', [channel]);
        for (let i = 0; i < predictions.length; i += PREDICTIONS_PER_STATEMENT) {
          const slice = predictions.slice(i, i + PREDICTIONS_PER_STATEMENT);
          await c.query(
            `UPDATE viewers v SET p_alive = u.p, clv_365d = u.clv
             FROM UNNEST($2::text[], $3::float8[], $4::bigint[]) AS u(id, p, clv) WHERE v.channel = $1 AND v.id = u.id`,
            [channel, slice.map((p) => p.viewerId), slice.map((p) => p.pAlive), slice.map((p) => p.clv365d)],
          );
        }
      });
    },
    async releaseModelFit(channel) {
      await db.query('UPDATE channel_models SET fitting_until = NULL WHERE channel = $1', [channel]);
    },
    async modelsDue(before, now, limit) {
      const { rows } = await db.query<{ channel: string }>(
        `SELECT c.id AS channel FROM channels c LEFT JOIN channel_models m ON m.channel = c.id
         WHERE EXISTS (SELECT 1 FROM purchases p WHERE p.channel = c.id)
           AND (m.fitted_at IS NULL OR m.fitted_at < $1) AND (m.fitting_until IS NULL OR m.fitting_until <= $2)
         ORDER BY COALESCE(m.fitted_at, 0), c.id LIMIT $3`,
        [before, now, limit],
      );
      return rows.map((r) => r.channel);
    },
    async buyerEngagement(channel) {
      const { rows } = await db.query<{ id: string; eng_weighted: number }>('SELECT id, eng_weighted FROM viewers WHERE channel = $1 AND spend > 0', [channel]);
      return rows.map((r) => ({ viewerId: r.id, engagement: Number(r.eng_weighted) }));
    },
    async channelPurchases(channel, now) {
      const { rows } = await db.query<{ viewer_id: string; net: string | number; at: string | number; items: unknown }>(
        'SELECT viewer_id, amount - refunded AS net, at, items FROM purchases WHERE channel = $1 AND amount > refunded AND at <= $2',
        [channel, now],
      );
      return rows.map((r) => ({ viewerId: r.viewer_id, amount: Number(r.net), at: Number(r.at), ...skusOf(r.items) }));
    },
  };
}
