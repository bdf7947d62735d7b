/**
 * Campaigns (sqlite/campaigns.ts): the rows and the numbers behind
 * each campaign's stats. Issuing lives in offers.ts. A campaign's JSON document is read with
 * `::json` (not `::jsonb`): json only checks the text, so an exotic string elsewhere in the
 * document (a title holding \u0000, which jsonb refuses) never breaks a query about its trigger.
 */
import type { CampaignDoc } from '../../offers/campaign.js';
import type { Store } from '../types.js';
import type { Db } from './pool.js';
import { campaignFrom, columns } from './rows.js';

type CampaignOps = Pick<Store,
  | 'ensureCampaigns' | 'insertCampaign' | 'getCampaign' | 'listCampaigns' | 'listTriggered' | 'updateCampaign'
  | 'campaignFunnel' | 'campaignArms'>;

const INSERT = `INSERT INTO campaigns (stream_id, id, channel, doc, status, adhoc, max_issued, budget, created_at, updated_at)`;
const limitsOf = (doc: CampaignDoc) => [doc.limits?.maxIssued ?? null, doc.limits?.budget ?? null];

export function campaignOps(db: Db): CampaignOps {
  const rows = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows;

  return {
    async ensureCampaigns(streamId, channel, docs, now) {
      if (!docs.length) return;
      // one statement: one transaction
      await db.query(
        `${INSERT}
         SELECT $1, u.id, $2, u.doc, 'active', 0, u.max_issued, u.budget, $3, $3
         FROM UNNEST($4::text[], $5::text[], $6::bigint[], $7::bigint[]) WITH ORDINALITY AS u(id, doc, max_issued, budget, n)
         ORDER BY u.n
         ON CONFLICT (stream_id, id) DO NOTHING`,
        [streamId, channel, now, ...columns(docs.map((d) => [d.id, JSON.stringify(d.doc), ...limitsOf(d.doc)]), 4)],
      );
    },
    async insertCampaign(c) {
      const r = await db.query(
        `${INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (stream_id, id) DO NOTHING`,
        [c.streamId, c.id, c.channel, JSON.stringify(c.doc), c.status ?? 'active', c.adhoc ? 1 : 0, ...limitsOf(c.doc), c.now],
      );
      return r.rowCount === 1;
    },
    async getCampaign(streamId, id) {
      const [r] = await rows('SELECT * FROM campaigns WHERE stream_id = $1 AND id = $2', [streamId, id]);
      return r ? campaignFrom(r) : null;
    },
    async listCampaigns(streamId) {
      return (await rows('SELECT * FROM campaigns WHERE stream_id = $1 ORDER BY adhoc, created_at, id', [streamId])).map(campaignFrom);
    },
    async listTriggered(streamId) {
      const list = await rows(
        `SELECT * FROM campaigns WHERE stream_id = $1 AND doc::json -> 'trigger' ->> 'type' <> 'manual' ORDER BY adhoc, created_at, id`,
        [streamId],
      );
      return list.map(campaignFrom);
    },
    async updateCampaign(streamId, id, doc, status, now) {
      await db.query(
        'UPDATE campaigns SET doc = $3, status = $4, max_issued = $5, budget = $6, updated_at = $7 WHERE stream_id = $1 AND id = $2',
        [streamId, id, JSON.stringify(doc), status, ...limitsOf(doc), now],
      );
    },

    async campaignFunnel(streamId, campaign) {
      const [r] = await rows(
        `SELECT COUNT(*) AS issued, COUNT(delivered_at) AS delivered, COUNT(seen_at) AS seen,
           COUNT(clicked_at) AS clicked, COUNT(redeemed_at) AS redeemed FROM offers WHERE stream_id = $1 AND campaign = $2`,
        [streamId, campaign],
      );
      return { issued: r!.issued, delivered: r!.delivered, seen: r!.seen, clicked: r!.clicked, redeemed: r!.redeemed };
    },
    /**
     * Conversions per arm (campaigns.ts arms): a viewer converts with a verified purchase (not
     * fully refunded) carrying one of their codes of this campaign (any time), or any such
     * purchase within the window after their assignment. Driven by the few purchases (by time, by
     * coupon, by redeemed offer), then one pass over the campaign's assignments.
     */
    async campaignArms(streamId, campaign, channel, windowMs) {
      const list = await rows(
        `WITH span AS (
           SELECT MIN(at) AS first_at, MAX(at) AS last_at FROM campaign_assignments WHERE stream_id = $1 AND campaign_id = $2
         ), conv(viewer_id) AS (
           SELECT a.viewer_id FROM span, purchases p
             JOIN campaign_assignments a ON a.stream_id = $1 AND a.campaign_id = $2 AND a.viewer_id = p.viewer_id
             WHERE p.channel = $3 AND p.at > span.first_at AND p.at <= span.last_at + $4 AND p.amount > p.refunded
               AND p.at > a.at AND p.at <= a.at + $4
           UNION
           SELECT o.viewer_id FROM purchases p JOIN offers o ON o.code = p.coupon_code
             WHERE p.channel = $3 AND p.coupon_code IS NOT NULL AND p.amount > p.refunded
               AND o.channel = p.channel AND o.stream_id = $1 AND o.campaign = $2
           UNION
           SELECT o.viewer_id FROM offers o JOIN purchases p ON p.channel = o.channel AND p.order_id = o.redeemed_order
             WHERE o.stream_id = $1 AND o.campaign = $2 AND o.redeemed_order IS NOT NULL AND p.amount > p.refunded
         )
         SELECT a.arm, COUNT(*) AS n, COUNT(c.viewer_id) AS conversions
         FROM campaign_assignments a LEFT JOIN conv c ON c.viewer_id = a.viewer_id
         WHERE a.stream_id = $1 AND a.campaign_id = $2 GROUP BY a.arm ORDER BY a.arm`,
        [streamId, campaign, channel, windowMs],
      );
      return list.map((r) => ({ arm: r.arm, n: r.n, conversions: r.conversions }));
    },
  };
}
