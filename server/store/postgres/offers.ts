/**
 * Money and stock, atomic in the database: issuing a campaign's offers against its quota, budget,
 * per-viewer limit and the cross-campaign frequency cap; recording a verified purchase with its
 * coupon; redemptions; refunds. Several servers share one database, so nothing here trusts what
 * one process read before: every check runs inside the transaction that writes, behind row locks.
 *
 * Lock order, the same everywhere so transactions never wait on each other in a circle:
 * campaign row, then viewer advisory locks (in key order); purchase row, then viewer row, then
 * offer row.
 */
import {
  issuedOffer,
  type CampaignOfferRow, type CampaignRow, type IssueRequest, type IssueResult, type OfferRow, type PurchaseRecord, type RecordPurchaseResult,
  type RedeemResult,
} from '../types.js';
import type { SkipReason, ViewerHistory } from '../../offers/rules.js';
import { checkRedeem, RACE_LOST } from '../../offers/redeem.js';
import { generateCode } from '../../offers/codes.js';
import type { Db, Sql } from './pool.js';
import { campaignFrom, columns, offerFrom, purchaseFrom } from './rows.js';
import { cartJobId, JOB_LEASE_MS, purchaseJob } from '../../jobs/due.js';
import { createJobs, recordEffect, removeJobs } from './jobs.js';
import { fanOut } from './webhooks.js';
import { offerIssued, offerRedeemed, purchaseRecorded, purchaseRefunded } from '../../webhooks/events.js';

/** a fresh code per attempt; a collision (2^-49 per pair) is retried this many times */
const CODE_ATTEMPTS = 6;

const SKIP_COLUMN: Record<SkipReason, string> = {
  capped: 'skipped_capped', budget: 'skipped_budget', quota: 'skipped_quota', alreadyHas: 'skipped_already',
};

/**
 * One campaign's check-and-issue for a list of viewers, in one transaction. The campaign row is
 * locked FOR UPDATE (every issuance of this campaign, on any server, waits here), then each
 * viewer's advisory lock (an issuance of another campaign to the same viewer waits there, so the
 * frequency cap reads every offer the viewer has). Then, viewer by viewer in order, `decide` sees
 * the campaign's counters and the viewer's history as they stand after the viewers before it (kept
 * here: nothing else can change them while the row is locked). The quota and budget hold in the
 * database itself: the issues are counted with one conditional UPDATE of the campaign's counters,
 * and the offers inserted with one statement.
 */
export async function issueOffers(db: Db, req: IssueRequest): Promise<IssueResult[]> {
  return db.tx(async (c) => {
    const found = await c.query('SELECT * FROM campaigns WHERE stream_id = $1 AND id = $2 FOR UPDATE', [req.streamId, req.campaignId]);
    // a job instance fires each campaign once: its effect key is recorded with the issue (behind the campaign's lock)
    if (!found.rows.length || (req.once !== undefined && !(await recordEffect(c, req.once, req.campaignId, req.now)))) {
      return req.viewers.map(({ viewerId }) => ({ viewerId, decision: null }));
    }
    const campaign = campaignFrom(found.rows[0]);
    const ids = [...new Set(req.viewers.map((v) => v.viewerId))];
    await c.query('SELECT livetier_lock_viewers($1, $2::text[])', [req.streamId, ids]);
    const history = await histories(c, req.streamId, req.campaignId, ids);

    const results: IssueResult[] = [];
    const skipped: Record<SkipReason, number> = { capped: 0, budget: 0, quota: 0, alreadyHas: 0 };
    const offers: CampaignOfferRow[] = [];
    const assigned: [viewerId: string, arm: 'treatment' | 'control'][] = [];
    const snapshot = (): CampaignRow => ({ ...campaign, skipped: { ...campaign.skipped } });
    let issuedNow = 0;
    let valueNow = 0;

    for (const { viewerId, currency } of req.viewers) {
      const h = history.get(viewerId)!;
      const decision = req.decide(snapshot(), { ...h }, viewerId);
      if (!decision) {
        results.push({ viewerId, decision: null });
        continue;
      }
      if (decision.kind === 'skip') {
        skipped[decision.reason]++;
        campaign.skipped[decision.reason]++;
        results.push({ viewerId, decision });
        continue;
      }
      if (decision.kind === 'hold') {
        assigned.push([viewerId, 'control']);
        results.push({ viewerId, decision });
        continue;
      }
      // the row is locked: the counters read with it stay true until this commits, so the stock
      // is checked here and written once below (a decision that disagrees with it loses to it)
      const limits = campaign.doc.limits;
      if ((limits?.maxIssued !== undefined && campaign.issued >= limits.maxIssued) || (limits?.budget !== undefined && campaign.committed + decision.value > limits.budget)) {
        skipped.quota++;
        campaign.skipped.quota++;
        results.push({ viewerId, decision: { kind: 'skip', reason: 'quota' } });
        continue;
      }
      campaign.issued++;
      campaign.committed += decision.value;
      issuedNow++;
      valueNow += decision.value;
      const row: CampaignOfferRow = { ...req.offer(snapshot(), viewerId, currency, decision.value), code: '' };
      offers.push(row);
      assigned.push([viewerId, 'treatment']);
      h.inCampaign++;
      h.inStream++;
      h.lastAt = h.lastAt === null ? row.createdAt : Math.max(h.lastAt, row.createdAt);
      results.push({ viewerId, decision });
    }

    if (issuedNow) {
      // the guarantee: the quota and the budget hold in the database itself
      const took = await c.query(
        `UPDATE campaigns SET issued = issued + $3, committed = committed + $4
         WHERE stream_id = $1 AND id = $2 AND status = 'active'
           AND (max_issued IS NULL OR issued + $3 <= max_issued) AND (budget IS NULL OR committed + $4 <= budget)`,
        [req.streamId, req.campaignId, issuedNow, valueNow],
      );
      if (!took.rowCount) throw new Error(`campaign ${req.campaignId}: the issue disagrees with its stock columns`);
    }
    await insertOffers(c, offers);
    const byViewer = new Map<string, OfferRow[]>();
    for (const o of offers) {
      const offer = issuedOffer(o);
      byViewer.set(o.viewerId, [...(byViewer.get(o.viewerId) ?? []), offer]);
    }
    for (const r of results) if (r.decision?.kind === 'issue') r.offer = byViewer.get(r.viewerId)!.shift();
    // offer.issued for the merchant's systems, in this transaction (one statement; nothing without endpoints)
    if (offers.length) await fanOut(c, results.flatMap((r) => (r.offer ? [offerIssued(r.offer, req.now)] : [])), req.now);

    if (assigned.length) {
      await c.query(
        `INSERT INTO campaign_assignments (stream_id, campaign_id, viewer_id, channel, arm, at)
         SELECT $1, $2, u.viewer_id, $3, u.arm, $4 FROM UNNEST($5::text[], $6::text[]) WITH ORDINALITY AS u(viewer_id, arm, n)
         ORDER BY u.n
         ON CONFLICT DO NOTHING`,
        [req.streamId, req.campaignId, req.channel, req.now, ...columns(assigned, 2)],
      );
    }
    const reasons = (Object.keys(skipped) as SkipReason[]).filter((k) => skipped[k] > 0);
    if (reasons.length) {
      await c.query(
        `UPDATE campaigns SET ${reasons.map((k, n) => `${SKIP_COLUMN[k]} = ${SKIP_COLUMN[k]} + $${n + 3}`).join(', ')}
         WHERE stream_id = $1 AND id = $2`,
        [req.streamId, req.campaignId, ...reasons.map((k) => skipped[k])],
      );
    }
    return results;
  });
}

/** each viewer's offers in the stream (sqlite/campaigns.ts history, for every viewer in one query) */
async function histories(c: Sql, streamId: string, campaign: string, viewerIds: string[]): Promise<Map<string, ViewerHistory>> {
  const out = new Map<string, ViewerHistory>(viewerIds.map((id) => [id, { inCampaign: 0, inStream: 0, lastAt: null }]));
  const { rows } = await c.query<{ viewer_id: string; in_campaign: number; in_stream: number; last_at: number | null }>(
    `SELECT viewer_id, COUNT(*) FILTER (WHERE campaign = $2) AS in_campaign, COUNT(*) AS in_stream, MAX(created_at) AS last_at
     FROM offers WHERE stream_id = $1 AND viewer_id = ANY ($3::text[]) GROUP BY viewer_id`,
    [streamId, campaign, viewerIds],
  );
  for (const r of rows) out.set(r.viewer_id, { inCampaign: r.in_campaign, inStream: r.in_stream, lastAt: r.last_at });
  return out;
}

/** inserts offers in one statement, drawing a new code for the (vanishingly rare) one whose code was taken */
async function insertOffers(c: Sql, offers: CampaignOfferRow[]) {
  let pending = offers;
  for (let attempt = 1; pending.length; attempt++) {
    if (attempt > CODE_ATTEMPTS) throw new Error(`no free offer code after ${CODE_ATTEMPTS} attempts`);
    for (const o of pending) o.code = generateCode();
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO offers (id, code, channel, stream_id, viewer_id, campaign, title, description, discount_kind, discount_value,
         min_spend, currency, created_at, expires_at, value, max_discount, skus, i18n)
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::bigint[], $11::bigint[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::text[], $18::text[])
       ON CONFLICT (code) DO NOTHING
       RETURNING id`,
      columns(pending.map((o) => [
        o.id, o.code, o.channel, o.streamId, o.viewerId, o.campaign, o.title, o.description, o.discountKind, o.discountValue,
        o.minSpend, o.currency, o.createdAt, o.expiresAt, o.value, o.maxDiscount, o.skus ? JSON.stringify(o.skus) : null,
        o.i18n ? JSON.stringify(o.i18n) : null,
      ]), 18),
    );
    const done = new Set(rows.map((r) => r.id));
    pending = pending.filter((o) => !done.has(o.id));
  }
}

/**
 * A redemption inside the caller's transaction: the offer row is locked, so of two concurrent
 * redemptions of one code the second waits, then reads it redeemed. The conditional UPDATE keeps
 * single use in the database whatever ran before.
 */
export async function redeemIn(c: Sql, channel: string, code: string, orderId: string, viewerId: string, now: number): Promise<RedeemResult> {
  const { rows } = await c.query('SELECT * FROM offers WHERE code = $1 FOR UPDATE', [code]);
  const offer = rows.length ? offerFrom(rows[0]) : null;
  const check = checkRedeem(offer, channel, viewerId, orderId, now);
  if (check.ok === false) return { status: check.status, message: check.message };
  if (check.ok === 'repeat') return { status: 'redeemed', offer: offer!, now: false };
  const upd = await c.query(
    'UPDATE offers SET redeemed_at = $2, redeemed_order = $3 WHERE id = $1 AND redeemed_at IS NULL RETURNING *',
    [offer!.id, now, orderId],
  );
  if (!upd.rows.length) return { status: 'already_redeemed', message: RACE_LOST };
  const redeemed = offerFrom(upd.rows[0]);
  await fanOut(c, [offerRedeemed(redeemed, orderId, now)], now);
  return { status: 'redeemed', offer: redeemed, now: true };
}

export function redeem(db: Db, channel: string, code: string, orderId: string, viewerId: string, now: number): Promise<RedeemResult> {
  return db.tx((c) => redeemIn(c, channel, code, orderId, viewerId, now));
}

/**
 * The viewer's value columns from their purchases (viewers.ts refreshValue). Callers hold the
 * viewer row's lock first, so this statement's snapshot includes every purchase committed before.
 */
async function refreshValue(c: Sql, channel: string, viewerId: string) {
  await c.query(
    `UPDATE viewers SET orders = p.orders, spend = p.spend, last_purchase_at = p.last_at
     FROM (SELECT COUNT(*) FILTER (WHERE amount > refunded) AS orders, COALESCE(SUM(amount - refunded), 0) AS spend,
             MAX(at) FILTER (WHERE amount > refunded) AS last_at
           FROM purchases WHERE channel = $1 AND viewer_id = $2) p
     WHERE viewers.channel = $1 AND viewers.id = $2`,
    [channel, viewerId],
  );
}

/**
 * A verified purchase: inserted unless the order id is taken (then the row as first recorded);
 * the viewer becomes verified (created if unknown, first seen no later than the purchase), the
 * coupon is redeemed, and the viewer's value columns follow, all in one transaction.
 */
export function recordPurchase(db: Db, r: PurchaseRecord): Promise<RecordPurchaseResult> {
  return db.tx((c) => recordIn(c, r));
}

/**
 * Many purchases in one transaction (the merchant API's group commit). They are written by viewer,
 * then order id (each viewer's in the order given), so two such transactions lock viewer rows in
 * the same order and cannot deadlock on them; the results come back in the order given.
 */
export function recordPurchases(db: Db, records: PurchaseRecord[]): Promise<RecordPurchaseResult[]> {
  const order = records.map((r, i) => ({ r, i }));
  order.sort((a, b) => cmp(a.r.purchase.channel, b.r.purchase.channel) || cmp(a.r.purchase.viewerId, b.r.purchase.viewerId) || a.i - b.i);
  return db.tx(async (c) => {
    const out: RecordPurchaseResult[] = new Array(records.length);
    const refreshed = new Set<string>();
    for (const { r, i } of order) {
      out[i] = await recordIn(c, r, false);
      const k = `${r.purchase.channel}\u0000${r.purchase.viewerId}`;
      if (out[i]!.inserted && !refreshed.has(k)) refreshed.add(k);
    }
    // each viewer's value columns once, after all of theirs (their row is locked since their first purchase here)
    for (const k of refreshed) {
      const [channel, viewerId] = k.split('\u0000') as [string, string];
      await refreshValue(c, channel, viewerId);
    }
    return out;
  });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** one purchase, inside the caller's transaction; `refresh` false: the caller refreshes the viewer's value columns */
async function recordIn(c: Sql, r: PurchaseRecord, refresh = true): Promise<RecordPurchaseResult> {
  const p = r.purchase;
  {
    const ins = await c.query(
      `INSERT INTO purchases (channel, order_id, stream_id, viewer_id, amount, currency, items, coupon_code, at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (channel, order_id) DO NOTHING
       RETURNING *`,
      [p.channel, p.orderId, p.streamId, p.viewerId, p.amount, p.currency, p.items ? JSON.stringify(p.items) : null, p.couponCode, p.at, p.createdAt],
    );
    if (!ins.rows.length) {
      // ON CONFLICT waited for the other insert to commit, so this statement sees its row
      const { rows } = await c.query('SELECT * FROM purchases WHERE channel = $1 AND order_id = $2', [p.channel, p.orderId]);
      return { inserted: false, existing: purchaseFrom(rows[0]) };
    }
    // repo.ts ensureViewer; its row lock also orders this purchase's refreshValue after any other's
    await c.query(
      `INSERT INTO viewers (channel, id, verified, first_seen_at, last_seen_at) VALUES ($1, $2, 1, $3, $4)
       ON CONFLICT (channel, id) DO UPDATE SET verified = 1, first_seen_at = LEAST(viewers.first_seen_at, excluded.first_seen_at)`,
      [p.channel, p.viewerId, Math.min(p.at, r.now), r.now],
    );
    let coupon: { status: RedeemResult['status']; offer?: OfferRow; now?: boolean } | undefined;
    if (p.couponCode) {
      const red = await redeemIn(c, p.channel, p.couponCode, p.orderId, p.viewerId, r.now);
      coupon = red.status === 'redeemed' ? { status: red.status, offer: red.offer, now: red.now } : { status: red.status };
    }
    if (refresh) await refreshValue(c, p.channel, p.viewerId);
    await removeJobs(c, [cartJobId(p.channel, p.viewerId)]); // a purchase closes the viewer's cart
    // the offers the purchase is due, written with it (claimed for the caller, which runs them now)
    const [job] = r.outbox ? await createJobs(c, [purchaseJob(p.channel, p.streamId, p.viewerId, p.orderId, r.now, r.outbox)], r.now + JOB_LEASE_MS) : [];
    await fanOut(c, [purchaseRecorded(purchaseFrom(ins.rows[0]), r.now)], r.now);
    return { inserted: true, purchase: purchaseFrom(ins.rows[0]), ...(coupon ? { coupon } : {}), ...(job ? { job } : {}) };
  }
}

/** Sets an order's refunded total and refreshes its viewer's value columns; an unknown order changes nothing. */
export function refund(db: Db, channel: string, orderId: string, refundedTotal: number): Promise<void> {
  return db.tx(async (c) => {
    const before = await c.query('SELECT * FROM purchases WHERE channel = $1 AND order_id = $2 FOR UPDATE', [channel, orderId]);
    if (!before.rows.length) return;
    const { rows } = await c.query<{ viewer_id: string }>(
      'UPDATE purchases SET refunded = $3 WHERE channel = $1 AND order_id = $2 RETURNING viewer_id',
      [channel, orderId, refundedTotal],
    );
    if (!rows.length) return;
    const viewerId = rows[0]!.viewer_id;
    const was = purchaseFrom(before.rows[0]);
    const now = Date.now();
    if (refundedTotal > was.refunded) await fanOut(c, [purchaseRefunded(was, refundedTotal, now)], now);
    // lock the viewer row before reading its purchases: a purchase committing meanwhile is then seen
    await c.query('SELECT 1 FROM viewers WHERE channel = $1 AND id = $2 FOR UPDATE', [channel, viewerId]);
    await refreshValue(c, channel, viewerId);
  });
}
