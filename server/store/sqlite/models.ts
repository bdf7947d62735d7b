/**
 * Each channel's predictive model on SQLite (issue 15; server/services/models.ts): the stored
 * fit, the lease of the process fitting it, the channels due a fit, and a channel's verified
 * purchases net of refunds (the fit's input).
 */
import type { ChannelModel, ModelPurchase, StoredPrediction } from '../../predict/channel-model.js';
import type { DB } from './db.js';
import { skusOf } from '../../predict/channel-model.js';

export function createModelStore(db: DB) {
  const s = {
    get: db.prepare('SELECT body, fitting_until FROM channel_models WHERE channel = ?'),
    claim: db.prepare(`INSERT INTO channel_models (channel, fitting_until) VALUES (@channel, @until)
      ON CONFLICT (channel) DO UPDATE SET fitting_until = @until WHERE channel_models.fitting_until IS NULL OR channel_models.fitting_until <= @now
      RETURNING channel`),
    save: db.prepare(`INSERT INTO channel_models (channel, status, fitted_at, buyers, body, fitting_until) VALUES (@channel, @status, @fittedAt, @buyers, @body, NULL)
      ON CONFLICT (channel) DO UPDATE SET status = @status, fitted_at = @fittedAt, buyers = @buyers, body = @body, fitting_until = NULL`),
    clearPredictions: db.prepare('UPDATE viewers SET p_alive = NULL, clv_365d = NULL WHERE channel = ? AND (p_alive IS NOT NULL OR clv_365d IS NOT NULL)'),
    predict: db.prepare('UPDATE viewers SET p_alive = ?, clv_365d = ? WHERE channel = ? AND id = ?'),
    release: db.prepare('UPDATE channel_models SET fitting_until = NULL WHERE channel = ?'),
    due: db.prepare(`SELECT c.id AS channel FROM channels c LEFT JOIN channel_models m ON m.channel = c.id
      WHERE EXISTS (SELECT 1 FROM purchases p WHERE p.channel = c.id)
        AND (m.fitted_at IS NULL OR m.fitted_at < @before) AND (m.fitting_until IS NULL OR m.fitting_until <= @now)
      ORDER BY COALESCE(m.fitted_at, 0), c.id LIMIT @limit`),
    engagement: db.prepare('SELECT id, eng_weighted FROM viewers WHERE channel = ? AND spend > 0'),
    purchases: db.prepare('SELECT viewer_id, amount - refunded AS net, at, items FROM purchases WHERE channel = ? AND amount > refunded AND at <= ?'),
  };
  return {
    getModel(channel: string, now: number): { model: ChannelModel | null; fittingUntil: number | null } {
      const r = s.get.get(channel) as { body: string | null; fitting_until: number | null } | undefined;
      const until = r?.fitting_until ?? null;
      return { model: r?.body ? (JSON.parse(r.body) as ChannelModel) : null, fittingUntil: until !== null && until > now ? until : null };
    },
    claimModelFit: (channel: string, now: number, until: number): boolean => s.claim.get({ channel, now, until }) !== undefined,
    /** inside the caller's transaction: the model, and the buyers' predictions in place of the last fit's */
    saveModel(channel: string, model: ChannelModel, predictions: readonly StoredPrediction[] = []) {
      s.save.run({ channel, status: model.status, fittedAt: model.fittedAt, buyers: model.buyers, body: JSON.stringify(model) });
      s.clearPredictions.run(channel);
      for (const p of predictions) s.predict.run(p.pAlive, p.clv365d, channel, p.viewerId);
    },
    releaseModelFit: (channel: string) => void s.release.run(channel),
    modelsDue: (before: number, now: number, limit: number): string[] => (s.due.all({ before, now, limit }) as { channel: string }[]).map((r) => r.channel),
    buyerEngagement: (channel: string) => (s.engagement.all(channel) as { id: string; eng_weighted: number }[]).map((r) => ({ viewerId: r.id, engagement: r.eng_weighted })),
    channelPurchases: (channel: string, now: number): ModelPurchase[] =>
      (s.purchases.all(channel, now) as { viewer_id: string; net: number; at: number; items: string | null }[]).map((r) => ({ viewerId: r.viewer_id, amount: r.net, at: r.at, ...skusOf(r.items) })),
  };
}
