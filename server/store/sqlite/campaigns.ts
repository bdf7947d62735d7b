/**
 * The campaign statements: campaigns and their counters, holdout assignments, campaign offers
 * and the numbers behind each campaign's stats. The quota and the budget are enforced here, by a
 * conditional UPDATE (`take`), whatever the caller decided. Prepared once; callers get plain
 * objects back.
 */
import type { DB } from './db.js';
import type { CampaignDoc } from '../../offers/campaign.js';
import type { CampaignCounters, SkipReason, ViewerHistory } from '../../offers/rules.js';
import type { ArmRow, CampaignOfferRow, CampaignRow, CampaignStatus } from '../types.js';

export type { ArmRow, CampaignOfferRow, CampaignRow, CampaignStatus };

const campaignFrom = (r: any): CampaignRow => ({
  streamId: r.stream_id, id: r.id, channel: r.channel, doc: JSON.parse(r.doc), status: r.status, adhoc: !!r.adhoc,
  issued: r.issued, committed: r.committed,
  skipped: { capped: r.skipped_capped, budget: r.skipped_budget, quota: r.skipped_quota, alreadyHas: r.skipped_already },
  createdAt: r.created_at, updatedAt: r.updated_at,
});

export type CampaignStore = ReturnType<typeof createCampaignStore>;

export function createCampaignStore(db: DB) {
  const s = {
    insert: db.prepare(`INSERT OR IGNORE INTO campaigns (stream_id, id, channel, doc, status, adhoc, max_issued, budget, created_at, updated_at)
      VALUES (@streamId, @id, @channel, @doc, @status, @adhoc, @maxIssued, @budget, @now, @now)`),
    get: db.prepare('SELECT * FROM campaigns WHERE stream_id = ? AND id = ?'),
    list: db.prepare('SELECT * FROM campaigns WHERE stream_id = ? ORDER BY adhoc, created_at, id'),
    listTriggered: db.prepare(`SELECT * FROM campaigns WHERE stream_id = ? AND json_extract(doc, '$.trigger.type') != 'manual'
      ORDER BY adhoc, created_at, id`),
    update: db.prepare(`UPDATE campaigns SET doc = @doc, status = @status, max_issued = @maxIssued, budget = @budget, updated_at = @now
      WHERE stream_id = @streamId AND id = @id`),
    counters: db.prepare('SELECT issued, committed FROM campaigns WHERE stream_id = ? AND id = ?'),
    history: db.prepare(`SELECT (SELECT COUNT(*) FROM offers WHERE stream_id = @streamId AND campaign = @campaign AND viewer_id = @viewerId) AS inCampaign,
      COUNT(*) AS inStream, MAX(created_at) AS lastAt FROM offers WHERE stream_id = @streamId AND viewer_id = @viewerId`),
    // every listed viewer's offers in the stream at once (a range of offers_stream_viewer per viewer)
    histories: db.prepare(`SELECT viewer_id AS viewerId, SUM(campaign = @campaign) AS inCampaign, COUNT(*) AS inStream, MAX(created_at) AS lastAt
      FROM offers WHERE stream_id = @streamId AND viewer_id IN (SELECT value FROM json_each(@ids)) GROUP BY viewer_id`),
    // a batch's issues counted at once, still only within the quota and the budget
    takeMany: db.prepare(`UPDATE campaigns SET issued = issued + @n, committed = committed + @value
      WHERE stream_id = @streamId AND id = @id AND status = 'active'
        AND (max_issued IS NULL OR issued + @n <= max_issued) AND (budget IS NULL OR committed + @value <= budget)`),
    // the guarantee: the quota and the budget hold in the database itself, whatever the caller checked
    take: db.prepare(`UPDATE campaigns SET issued = issued + 1, committed = committed + @value
      WHERE stream_id = @streamId AND id = @id AND status = 'active'
        AND (max_issued IS NULL OR issued < max_issued) AND (budget IS NULL OR committed + @value <= budget)`),
    skipCapped: db.prepare('UPDATE campaigns SET skipped_capped = skipped_capped + ? WHERE stream_id = ? AND id = ?'),
    skipBudget: db.prepare('UPDATE campaigns SET skipped_budget = skipped_budget + ? WHERE stream_id = ? AND id = ?'),
    skipQuota: db.prepare('UPDATE campaigns SET skipped_quota = skipped_quota + ? WHERE stream_id = ? AND id = ?'),
    skipAlready: db.prepare('UPDATE campaigns SET skipped_already = skipped_already + ? WHERE stream_id = ? AND id = ?'),
    assign: db.prepare(`INSERT OR IGNORE INTO campaign_assignments (stream_id, campaign_id, viewer_id, channel, arm, at)
      VALUES (?, ?, ?, ?, ?, ?)`),
    insertOffer: db.prepare(`INSERT INTO offers (id, code, channel, stream_id, viewer_id, campaign, title, description,
      discount_kind, discount_value, min_spend, currency, created_at, expires_at, value, max_discount, skus, i18n)
      VALUES (@id, @code, @channel, @streamId, @viewerId, @campaign, @title, @description, @discountKind, @discountValue,
      @minSpend, @currency, @createdAt, @expiresAt, @value, @maxDiscount, @skus, @i18n)`),
    boughtHere: db.prepare('SELECT 1 FROM purchases INDEXED BY purchases_viewer WHERE channel = ? AND viewer_id = ? AND stream_id = ? AND amount > refunded LIMIT 1'),
    funnel: db.prepare(`SELECT COUNT(*) AS issued, COUNT(delivered_at) AS delivered, COUNT(seen_at) AS seen,
      COUNT(clicked_at) AS clicked, COUNT(redeemed_at) AS redeemed FROM offers WHERE stream_id = ? AND campaign = ?`),
    // a viewer converts with a verified purchase (not fully refunded) that carries one of their
    // codes of this campaign (any time), or any such purchase within the window after assignment.
    // Set-based, driven by the (few) purchases rather than by the (many) assigned viewers: the
    // channel's purchases in the campaign's time span (purchases_at), its coupon purchases
    // (purchases_code) and its redeemed offers (offers_redeemed), then one pass over the assignments.
    arms: db.prepare(`WITH span AS (
        SELECT MIN(at) AS first_at, MAX(at) AS last_at FROM campaign_assignments WHERE stream_id = @streamId AND campaign_id = @campaign
      ), conv(viewer_id) AS (
        SELECT a.viewer_id FROM span, purchases p INDEXED BY purchases_at
          JOIN campaign_assignments a ON a.stream_id = @streamId AND a.campaign_id = @campaign AND a.viewer_id = p.viewer_id
          WHERE p.channel = @channel AND p.at > span.first_at AND p.at <= span.last_at + @windowMs AND p.amount > p.refunded
            AND p.at > a.at AND p.at <= a.at + @windowMs
        UNION
        SELECT o.viewer_id FROM purchases p INDEXED BY purchases_code JOIN offers o ON o.code = p.coupon_code
          WHERE p.channel = @channel AND p.coupon_code IS NOT NULL AND p.amount > p.refunded
            AND o.channel = p.channel AND o.stream_id = @streamId AND o.campaign = @campaign
        UNION
        SELECT o.viewer_id FROM offers o INDEXED BY offers_redeemed JOIN purchases p ON p.channel = o.channel AND p.order_id = o.redeemed_order
          WHERE o.stream_id = @streamId AND o.campaign = @campaign AND o.redeemed_order IS NOT NULL AND p.amount > p.refunded
      )
      SELECT a.arm AS arm, COUNT(*) AS n, COUNT(c.viewer_id) AS conversions
      FROM campaign_assignments a LEFT JOIN conv c ON c.viewer_id = a.viewer_id
      WHERE a.stream_id = @streamId AND a.campaign_id = @campaign GROUP BY a.arm`),
  };

  const skips: Record<SkipReason, typeof s.skipCapped> = {
    capped: s.skipCapped, budget: s.skipBudget, quota: s.skipQuota, alreadyHas: s.skipAlready,
  };

  return {
    /** false when the id is taken (defaults are inserted this way, idempotently) */
    insert(c: { streamId: string; id: string; channel: string; doc: CampaignDoc; status?: CampaignStatus; adhoc?: boolean; now: number }): boolean {
      return s.insert.run({
        streamId: c.streamId, id: c.id, channel: c.channel, doc: JSON.stringify(c.doc), status: c.status ?? 'active',
        adhoc: c.adhoc ? 1 : 0, maxIssued: c.doc.limits?.maxIssued ?? null, budget: c.doc.limits?.budget ?? null, now: c.now,
      }).changes === 1;
    },
    get(streamId: string, id: string): CampaignRow | null {
      const r = s.get.get(streamId, id);
      return r ? campaignFrom(r) : null;
    },
    list(streamId: string): CampaignRow[] {
      return s.list.all(streamId).map(campaignFrom);
    },
    /** the campaigns that fire by themselves (not `manual`) */
    listTriggered(streamId: string): CampaignRow[] {
      return s.listTriggered.all(streamId).map(campaignFrom);
    },
    update(streamId: string, id: string, doc: CampaignDoc, status: CampaignStatus, now: number) {
      s.update.run({ streamId, id, doc: JSON.stringify(doc), status, maxIssued: doc.limits?.maxIssued ?? null, budget: doc.limits?.budget ?? null, now });
    },
    counters(streamId: string, id: string): CampaignCounters {
      return s.counters.get(streamId, id) as CampaignCounters;
    },
    history(streamId: string, campaign: string, viewerId: string): ViewerHistory {
      return s.history.get({ streamId, campaign, viewerId }) as ViewerHistory;
    },
    /** counts one more issued offer worth `value`; false (nothing changed) if the quota or budget would be exceeded */
    take(streamId: string, id: string, value: number): boolean {
      return s.take.run({ streamId, id, value }).changes === 1;
    },
    skip(streamId: string, id: string, reason: SkipReason, n = 1) {
      skips[reason].run(n, streamId, id);
    },
    /** every listed viewer's history in the stream (viewers without an offer there are absent) */
    histories(streamId: string, campaign: string, viewerIds: string[]): Map<string, ViewerHistory> {
      const rows = s.histories.all({ streamId, campaign, ids: JSON.stringify(viewerIds) }) as (ViewerHistory & { viewerId: string })[];
      return new Map(rows.map(({ viewerId, ...h }) => [viewerId, h]));
    },
    /** counts `n` more issued offers worth `value` in all; false (nothing changed) if the quota or budget would be exceeded */
    takeMany(streamId: string, id: string, n: number, value: number): boolean {
      return s.takeMany.run({ streamId, id, n, value }).changes === 1;
    },
    assign(streamId: string, campaignId: string, viewerId: string, channel: string, arm: 'treatment' | 'control', now: number) {
      s.assign.run(streamId, campaignId, viewerId, channel, arm, now);
    },
    insertOffer(o: CampaignOfferRow) {
      s.insertOffer.run({ ...o, skus: o.skus ? JSON.stringify(o.skus) : null, i18n: o.i18n ? JSON.stringify(o.i18n) : null });
    },
    boughtHere(channel: string, streamId: string, viewerId: string): boolean {
      return !!s.boughtHere.get(channel, viewerId, streamId);
    },
    funnel(streamId: string, campaign: string) {
      return s.funnel.get(streamId, campaign) as { issued: number; delivered: number; seen: number; clicked: number; redeemed: number };
    },
    arms(streamId: string, campaign: string, channel: string, windowMs: number): ArmRow[] {
      return s.arms.all({ streamId, campaign, channel, windowMs }) as ArmRow[];
    },
  };
}
