/**
 * Money, as the merchant's backend reports it: verified purchases (with the coupon they carry),
 * refunds and coupon redemptions. Each is atomic in the store (purchases share transactions
 * through a group commit, each still all or nothing); afterwards the stream's totals, the
 * viewer's profile and tier, and the campaigns that answer a purchase follow.
 */
import type { OfferRow, PurchaseRecord, PurchaseRow, RecordPurchaseResult, RedeemResult, Store } from '../store/types.js';
import { GroupCommitWriter } from '../ingest/writer.js';
import { addPurchase, offerEngaged, refundPurchase } from '../tiering/state.js';
import type { Clock, Hooks } from './hooks.js';
import type { LiveStreams } from './live.js';
import type { Tiering } from './tiering.js';
import type { OfferService } from '../offers/service.js';
import type { Jobs } from './jobs.js';
import { fault } from '../faults.js';

export interface PurchaseInput {
  orderId: string;
  viewerId: string;
  amount: number;
  currency: string;
  items?: unknown[];
  couponCode?: string;
  at?: number;
  /** an order of the shop's history (POST /v1/purchases/batch): it tiers the viewer and feeds the model, but fires no campaign and shows no activity */
  history?: boolean;
}

export type PurchaseResult =
  | { status: 200 | 201; purchase: PurchaseRow; coupon?: { code: string; status: string } }
  | { status: 400 | 409; message: string };

export type RedeemReply =
  | { status: 200; offer: OfferRow }
  | { status: 403 | 404 | 409 | 410; message: string };

export type RefundReply =
  | { status: 200; orderId: string; viewerId: string; amount: number; refunded: number; currency: string }
  | { status: 400 | 404 | 409; message: string };

const REDEEM_HTTP = { other_viewer: 403, not_found: 404, already_redeemed: 409, expired: 410 } as const;

export interface CommerceDeps {
  store: Store;
  clock: Clock;
  live: LiveStreams;
  tiering: Tiering;
  hooks: Hooks;
  campaigns: () => OfferService;
  jobs: Jobs;
}

/** a purchase ready to commit: what the store records, and what the reply and the profile need after */
interface Prepared {
  input: PurchaseInput;
  streamId: string;
  channel: string;
  now: number;
  record: PurchaseRecord;
}

/** a record the store could not write (its batch failed, and so did it alone) */
interface Failed {
  failed: unknown;
}

export class Commerce {
  /**
   * Group commit for purchases, as for events (ingest/writer.ts): the purchases reported while one
   * transaction commits go together in the next, so a flash sale's thousands of orders a second
   * cost a few commits, not thousands. A purchase's reply still waits for its own commit.
   */
  readonly writer: GroupCommitWriter<PurchaseRecord, RecordPurchaseResult | Failed>;
  /** a channel's currency once set (it never changes after), so most purchases skip the claim */
  private readonly currencies = new Map<string, string>();

  constructor(private readonly deps: CommerceDeps) {
    this.writer = new GroupCommitWriter((records) => this.commit(records), { maxBatch: 1000 });
  }

  /** one transaction for the batch; if it fails, each record alone, so one bad record fails only itself */
  private async commit(records: PurchaseRecord[]): Promise<(RecordPurchaseResult | Failed)[]> {
    try {
      return await this.deps.store.recordPurchases(records);
    } catch (err) {
      if (records.length === 1) return [{ failed: err }];
      const out: (RecordPurchaseResult | Failed)[] = [];
      for (const r of records) {
        try {
          out.push((await this.deps.store.recordPurchases([r]))[0]!);
        } catch (e) {
          out.push({ failed: e });
        }
      }
      return out;
    }
  }

  /** Commits the purchases queued; call before closing the store. */
  async close(): Promise<void> {
    await this.writer.close();
  }

  /** A verified purchase reported by the merchant's backend (ingest key of `streamId`). */
  async recordPurchase(streamId: string, input: PurchaseInput): Promise<PurchaseResult> {
    const p = await this.prepare(streamId, input);
    if ('status' in p) return p;
    const r = await this.writer.submit(p.record);
    if ('failed' in r) throw r.failed;
    return this.finish(p, r);
  }

  /**
   * Orders of a shop's history (POST /v1/purchases/batch), answered in order: all committed
   * together (one or two transactions), then each viewer's profile learns of all of theirs at once
   * and is re-tiered once, however many of the batch's orders are theirs.
   */
  async recordHistory(streamId: string, inputs: PurchaseInput[]): Promise<(PurchaseResult | { failed: unknown })[]> {
    const { live: lives, tiering, hooks } = this.deps;
    const prepared: (Prepared | PurchaseResult)[] = [];
    for (const input of inputs) prepared.push(await this.prepare(streamId, { ...input, history: true }));
    const committed = await Promise.all(prepared.map((p) => ('status' in p ? null : this.writer.submit(p.record))));
    fault('after-purchase-commit');
    const out: (PurchaseResult | { failed: unknown })[] = [];
    /** each viewer's new purchases, in order */
    const bought = new Map<string, { channel: string; viewerId: string; now: number; purchases: PurchaseRow[] }>();
    for (const [i, p] of prepared.entries()) {
      const r = committed[i];
      if ('status' in p) out.push(p);
      else if (!r || 'failed' in r) out.push(r ?? { failed: new Error('not committed') });
      else if (!r.inserted) out.push(this.again(p.input, r.existing));
      else {
        if (r.coupon?.status === 'redeemed' && r.coupon.offer && r.coupon.now !== false) this.redeemed(r.coupon.offer);
        const k = `${p.channel}\u0000${p.input.viewerId}`;
        let b = bought.get(k);
        if (!b) bought.set(k, (b = { channel: p.channel, viewerId: p.input.viewerId, now: p.now, purchases: [] }));
        b.purchases.push(r.purchase);
        out.push({ status: 201, purchase: r.purchase, ...(r.coupon ? { coupon: { code: p.input.couponCode!, status: r.coupon.status } } : {}) });
      }
    }
    const live = lives.get(streamId);
    for (const b of bought.values()) {
      if (live) {
        live.orders += b.purchases.length;
        live.gmv += b.purchases.reduce((a, x) => a + x.amount, 0);
      }
      await this.learn(b.channel, b.viewerId, b.purchases, b.now);
    }
    if (bought.size) hooks.changed(streamId);
    // the profiles' writes (their new tiers), all at once rather than one commit after another
    await Promise.all([...bought.values()].map((b) => tiering.written(b.channel, b.viewerId)));
    return out;
  }

  /**
   * The viewer's profile learns of their new purchases (idempotent by order id, so a profile loaded
   * after the commit is not counted twice), other processes are told, and the viewer is re-tiered
   * once; campaigns fire from the purchases' jobs, not from this re-tier.
   */
  private async learn(channel: string, viewerId: string, purchases: readonly Pick<PurchaseRow, 'orderId' | 'amount' | 'at' | 'currency'>[], now: number) {
    const { tiering, hooks } = this.deps;
    const p = await tiering.profile(channel, viewerId);
    for (const x of purchases) addPurchase(p, { orderId: x.orderId, amount: x.amount, at: x.at });
    p.stored = true; // the purchase created the viewer's row if it was missing
    p.currency = purchases.at(-1)!.currency;
    hooks.viewer(channel, viewerId);
    await tiering.retier(p, now, []);
  }

  /** the same order again: 200 with the stored row, or 409 when it differs */
  private again(input: PurchaseInput, e: PurchaseRow): PurchaseResult {
    if (e.viewerId !== input.viewerId || e.amount !== input.amount || e.currency !== input.currency) {
      return { status: 409, message: `order ${input.orderId} was already recorded with a different viewer, amount or currency` };
    }
    return { status: 200, purchase: e };
  }

  /** the checks before the commit (the channel's currency) and the record to commit */
  private async prepare(streamId: string, input: PurchaseInput): Promise<Prepared | PurchaseResult> {
    const { store, clock, live: lives, tiering } = this.deps;
    const live = await lives.require(streamId);
    const { channel } = live.stream;
    const now = clock();
    const purchase: Omit<PurchaseRow, 'refunded'> = {
      channel,
      orderId: input.orderId,
      streamId,
      viewerId: input.viewerId,
      amount: input.amount,
      currency: input.currency,
      items: input.items ?? null,
      couponCode: input.couponCode ?? null,
      at: input.at ?? now,
      createdAt: now,
    };
    // a channel has one currency: the first verified purchase sets it if no stream did (one
    // conditional statement, so of two first purchases in two currencies one is refused)
    let currency: string | null | undefined = this.currencies.get(channel);
    if (currency === undefined) {
      currency = await store.claimChannelCurrency(channel, input.currency);
      if (currency) this.currencies.set(channel, currency);
    }
    if (currency !== input.currency) {
      return { status: 400, message: `body.currency ${input.currency} is not channel ${channel}'s currency ${currency} (a channel keeps one currency)` };
    }
    const skus = (input.items ?? []).flatMap((i) => (i && typeof (i as { sku?: unknown }).sku === 'string' ? [(i as { sku: string }).sku] : []));
    let outbox: PurchaseRecord['outbox'];
    if (!input.history) {
      // the offers a purchase earns are a job written with it (jobs/due.ts): run below, or after a
      // crash by whichever process claims it; the tier it moves from is the one held before it
      const before = await tiering.profile(channel, input.viewerId);
      outbox = { fromTier: before.tier, skus };
    }
    return { input, streamId, channel, now, record: { purchase, now, ...(outbox ? { outbox } : {}) } };
  }

  /** after the commit: the reply, the stream's totals, the viewer's profile and tier, the offers it earned */
  private async finish(prep: Prepared, r: RecordPurchaseResult): Promise<PurchaseResult> {
    const { live: lives, tiering, hooks } = this.deps;
    const { input, streamId, channel, now } = prep;
    const purchase = prep.record.purchase;
    fault('after-purchase-commit');
    if (!r.inserted) return this.again(input, r.existing);
    if (r.coupon?.status === 'redeemed' && r.coupon.offer && r.coupon.now !== false) this.redeemed(r.coupon.offer);
    const live = lives.get(streamId);
    if (live) {
      live.orders++;
      live.gmv += purchase.amount;
    }
    if (!input.history) hooks.activity(streamId, { type: 'purchase', at: now, viewerId: input.viewerId, orderId: input.orderId, amount: purchase.amount, currency: purchase.currency });
    await this.learn(channel, input.viewerId, [purchase], now);
    if (r.job) await this.deps.jobs.run(r.job, now); // tier_entered on a move up, purchase campaigns
    hooks.changed(streamId);
    await tiering.written(channel, input.viewerId);
    return { status: 201, purchase: r.purchase, ...(r.coupon ? { coupon: { code: input.couponCode!, status: r.coupon.status } } : {}) };
  }

  /** A coupon redemption reported by the merchant (an order that used the code). */
  async redeem(channel: string, code: string, orderId: string, viewerId: string): Promise<RedeemReply> {
    const r: RedeemResult = await this.deps.store.redeem(channel, code, orderId, viewerId, this.deps.clock());
    if (r.status !== 'redeemed') return { status: REDEEM_HTTP[r.status], message: r.message };
    if (r.now) this.redeemed(r.offer);
    return { status: 200, offer: r.offer };
  }

  /** counts a redemption that just happened: the stream's totals, and the profile (a redeemed offer is not ignored) */
  private redeemed(offer: OfferRow) {
    const holder = this.deps.tiering.cached(offer.channel, offer.viewerId);
    if (holder) offerEngaged(holder, offer.id);
    const live = this.deps.live.get(offer.streamId);
    if (live) {
      live.offers.redeemed++;
      this.deps.hooks.changed(offer.streamId);
    }
  }

  /**
   * A refund reported by the merchant (`refundedTotal`: the order's refunded amount so far, so a
   * repeated report changes nothing). Lowers the viewer's spend and the stream's GMV; re-tiers.
   */
  async refund(channel: string, orderId: string, refundedTotal: number | undefined, currency?: string): Promise<RefundReply> {
    const { store, clock, live: lives, tiering, hooks } = this.deps;
    const row = await store.getPurchase(channel, orderId);
    if (!row) return { status: 404, message: `unknown order ${orderId}` };
    if (currency !== undefined && currency !== row.currency) {
      return { status: 400, message: `body.currency ${currency} is not order ${orderId}'s currency ${row.currency}` };
    }
    const total = refundedTotal ?? row.amount;
    if (total > row.amount) return { status: 400, message: `body.amount ${total} is more than the order's amount ${row.amount}` };
    if (total < row.refunded) return { status: 409, message: `order ${orderId} already has ${row.refunded} refunded; a refund cannot be undone` };
    if (total !== row.refunded) {
      await store.refund(channel, orderId, total);
      const live = lives.get(row.streamId);
      if (live) {
        live.gmv -= total - row.refunded;
        hooks.changed(row.streamId);
      }
      // a profile learns of the refund here (idempotent by the refunded total)
      const p = await tiering.profile(channel, row.viewerId);
      refundPurchase(p, orderId, row.amount, total);
      hooks.viewer(channel, row.viewerId);
      await tiering.retier(p, clock(), [row.streamId]);
      await tiering.written(channel, row.viewerId);
    }
    return { status: 200, orderId, viewerId: row.viewerId, amount: row.amount, refunded: total, currency: row.currency };
  }
}
