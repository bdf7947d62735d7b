/**
 * Webhook delivery: the outbox (webhook_deliveries, written by the stores in the transaction of
 * each change) is claimed with a lease by any process, each due delivery is sent once per claim
 * (webhooks/deliver.ts), and the attempt is recorded: delivered, or tried again on the schedule of
 * webhooks/address.ts (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every 8 h for 24 h
 * after the first try), then failed. An endpoint whose deliveries keep failing for `disableAfterMs`
 * is disabled and says why in its listing. A process that dies holding a claim leaves it to the
 * next claim after the lease: at least once, never lost.
 *
 * This runs on its own timer, apart from ingest and the engine's due jobs: a slow receiver holds
 * one of a few sending slots for at most 10 s and nothing else waits for it.
 */
import type { ClaimedDelivery, Store } from '../store/types.js';
import { nextAttemptAt, type Resolve, type TargetPolicy } from '../webhooks/address.js';
import { DELIVERY_TIMEOUT_MS, send, type Outcome } from '../webhooks/deliver.js';

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'refused';

export interface WebhookOptions {
  policy: TargetPolicy;
  /** an endpoint failing this long (from its first failure since a success) is disabled */
  disableAfterMs: number;
  /** the DNS lookup (tests pass a stub; the system resolver otherwise) */
  resolve?: Resolve;
  timeoutMs?: number;
}

export interface WebhookDeps extends WebhookOptions {
  store: Store;
  clock: () => number;
  onError: (err: unknown) => void;
  /** counts each attempt by outcome (metrics) */
  observe?: (outcome: DeliveryOutcome, seconds: number) => void;
}

/** deliveries sent at once, and claimed at a time (two waves of 10 s at most: within the lease) */
const CONCURRENCY = 8;
const CLAIM_LIMIT = 2 * CONCURRENCY;
/** a claim outlives the longest attempt */
export const DELIVERY_LEASE_MS = DELIVERY_TIMEOUT_MS * 3;
/** delivered and failed deliveries are kept this long for the listing */
export const DELIVERY_RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export class Webhooks {
  private running: Promise<void> | null = null;
  private prunedAt = 0;
  private closed = false;

  constructor(private readonly deps: WebhookDeps) {}

  /** one round: claims what is due and sends it (a tick while one runs does nothing) */
  tick(): Promise<void> {
    if (this.running || this.closed) return this.running ?? Promise.resolve();
    this.running = this.round()
      .catch(this.deps.onError)
      .finally(() => (this.running = null));
    return this.running;
  }

  /**
   * No new round starts; waits up to 2 s for the one in flight (a receiver holding a request does
   * not hold the shutdown: its delivery's lease runs out and the next start sends it again).
   */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }

  private async round() {
    const { store, clock } = this.deps;
    for (;;) {
      const now = clock();
      const due = await store.claimDeliveries(now, CLAIM_LIMIT, DELIVERY_LEASE_MS);
      if (!due.length) break;
      let next = 0;
      const worker = async () => {
        while (next < due.length) await this.attempt(due[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
      if (due.length < CLAIM_LIMIT || this.closed) break;
    }
    const now = clock();
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await store.pruneDeliveries(now - DELIVERY_RETENTION_MS);
    }
  }

  private async attempt(d: ClaimedDelivery) {
    const { store, clock } = this.deps;
    let out: Outcome;
    try {
      out = await send({ url: d.url, secret: d.secret, eventId: d.eventId, body: d.body, policy: this.deps.policy, resolve: this.deps.resolve, timeoutMs: this.deps.timeoutMs, now: clock });
    } catch (err) {
      out = { ok: false, code: null, error: (err as Error).message, durationMs: 0 };
    }
    const at = clock();
    const nextAt = out.ok ? null : nextAttemptAt(d.firstTriedAt ?? at, d.attempts + 1, at);
    await store.finishDelivery(d.id, { at, ok: out.ok, code: out.code, error: out.error, durationMs: out.durationMs, nextAt });
    this.deps.observe?.(out.ok ? 'delivered' : out.refused ? 'refused' : nextAt === null ? 'failed' : 'retrying', out.durationMs / 1000);
    if (!out.ok) {
      const since = d.failingSince ?? at;
      if (at - since >= this.deps.disableAfterMs) {
        const hours = Math.round((at - since) / 360_000) / 10;
        await store.updateWebhook(d.channel, d.webhookId, { enabled: false, disabledReason: `disabled after failing for ${hours} h (last: ${out.error})` }, at);
      }
    }
  }
}
