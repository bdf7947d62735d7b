/**
 * The lifecycle sweep: `at_risk` (no visit for atRiskDays), `lapsed` (no purchase for lapsedDays)
 * and the end of `new` happen by time alone, to viewers who did nothing, so nothing re-tiers them:
 * the very viewers a win-back is for. Every few minutes this asks the store for the stored viewers
 * whose lifecycle time may have moved (one indexed page per channel, a cursor across rounds), and
 * re-tiers each as of now; the change is stored and `viewer.lifecycle_changed` (and
 * `viewer.tier_changed`, if the tier moved too) is written to the webhook outbox in that commit.
 *
 * Bounded work: at most `perRound` viewers and 50 channels per round, round-robin. In cluster mode every
 * process sweeps; an event's id is derived from the viewer's stored facts and the move, so two
 * processes that see the same move write one event (the outbox is unique by event id).
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/types.js';
import type { Tiering } from './tiering.js';
import { DEFAULT_LIFECYCLE, type TierRulesDoc } from '../tiering/rules.js';

const DAY_MS = 86_400_000;
export const SWEEP_EVERY_MS = 5 * 60_000;
const PER_ROUND = 500;
/** channels looked at per round (each one query for its rules and one for its due viewers) */
const CHANNELS_PER_ROUND = 50;

export interface SweepDeps {
  store: Store;
  tiering: Tiering;
  clock: () => number;
  onError: (err: unknown) => void;
  perRound?: number;
}

/** the id of the event reporting `from → to` for a viewer whose stored facts are these */
export function sweptEventId(channel: string, viewerId: string, facts: string, type: string, from: string, to: string): string {
  return `evt_${createHash('sha256').update([channel, viewerId, facts, type, from, to].join('\u0000')).digest('hex').slice(0, 32)}`;
}

export class LifecycleSweep {
  private lastAt = 0;
  private running = false;
  /** per channel, the last viewer id of the previous page (absent: from the start) */
  private readonly cursors = new Map<string, string>();
  private channelCursor: string | null = null;

  constructor(private readonly deps: SweepDeps) {}

  /** called every second or so; sweeps every SWEEP_EVERY_MS */
  async tick(now = this.deps.clock()): Promise<void> {
    if (this.running || now - this.lastAt < SWEEP_EVERY_MS) return;
    this.lastAt = now;
    await this.round(now).catch(this.deps.onError);
  }

  /** one round (the tests call it with their clock); returns how many viewers it re-tiered */
  async round(now: number): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const { store, tiering } = this.deps;
      let budget = this.deps.perRound ?? PER_ROUND;
      const channels = await store.listChannels();
      // round-robin from the channel after the last one swept
      const start = this.channelCursor === null ? 0 : Math.max(0, channels.findIndex((c) => c > this.channelCursor!));
      let done = 0;
      for (let i = 0; i < Math.min(channels.length, CHANNELS_PER_ROUND) && budget > 0; i++) {
        const channel = channels[(start + i) % channels.length]!;
        // the stored rules (a channel's tier model is loaded only when one of its viewers is due)
        const rules = ((await store.getRules(channel)) as TierRulesDoc | null)?.lifecycle ?? DEFAULT_LIFECYCLE;
        const rows = await store.lifecycleDue(
          channel,
          { seenBefore: now - rules.atRiskDays * DAY_MS, boughtBefore: now - rules.lapsedDays * DAY_MS, firstSeenBefore: now - rules.newDays * DAY_MS },
          this.cursors.get(channel) ?? null,
          budget,
        );
        for (const r of rows) {
          const facts = `${r.lifecycle}|${r.lastSeenAt}|${r.lastPurchaseAt ?? ''}`;
          await tiering.reassess(channel, r.viewerId, now, (type, from, to) => sweptEventId(channel, r.viewerId, facts, type, from, to));
          done++;
        }
        budget -= rows.length;
        // a short page is the end of the channel: the next round starts it from the beginning
        if (budget > 0) this.cursors.delete(channel);
        else if (rows.length) this.cursors.set(channel, rows[rows.length - 1]!.viewerId);
        this.channelCursor = channel;
      }
      return done;
    } finally {
      this.running = false;
    }
  }
}
