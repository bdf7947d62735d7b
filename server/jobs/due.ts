/**
 * Due work, kept in the database beside its cause (the trigger outbox): what a trigger that waits
 * or follows a commit must still do, so that it is done once even when the process that saw the
 * cause dies. Pure: the job ids, and what a committed track batch arms, closes or creates. The
 * stores write these rows in the same transaction as the events or the purchase that caused them;
 * services/jobs.ts runs them.
 *
 * Three kinds:
 * - `cart`: a viewer's open cart (their last accepted add_to_cart), due when the earliest
 *   cart_abandoned campaign of the stream is; one per viewer and channel, re-armed by the next
 *   add_to_cart, deleted by a purchase (their client's event or a verified one).
 * - `watch`: the viewer's credited watch time in a stream crossed a watch_milestone threshold
 *   (computed in the transaction from the stored total, so two tabs on two nodes cross it once).
 * - `purchase`: a verified purchase whose offers (tier_entered on the move it caused, purchase
 *   campaigns) are due.
 *
 * A job's effects are exact: each campaign it fires issues under the key `effectKey(job)`, which
 * the store records with the offer in one transaction (`IssueRequest.once`); a job run twice (its
 * lease ran out, its process died after issuing) issues nothing the second time.
 */
import type { ValidEvent } from '../ingest/schema.js';

export type JobKind = 'cart' | 'watch' | 'purchase';

/**
 * A claim holds a job this long: a job a commit created is held by the process that committed it
 * (which runs it within milliseconds); when that process dies, any process may run it after this.
 * A run that outlasts its lease may be repeated elsewhere, which the effect keys make harmless.
 */
export const JOB_LEASE_MS = 10_000;
/** a job that failed this many times is dropped (and logged) */
export const JOB_MAX_ATTEMPTS = 20;
/** effect keys are kept this long after their job ran (a job is never run again after it) */
export const EFFECT_RETENTION_MS = 7 * 86_400_000;

const part = (s: string) => encodeURIComponent(s);

export const cartJobId = (channel: string, viewerId: string) => `cart/${part(channel)}/${part(viewerId)}`;
export const watchJobId = (streamId: string, viewerId: string, afterMs: number) => `watch/${part(streamId)}/${part(viewerId)}/${afterMs}`;
export const purchaseJobId = (channel: string, orderId: string) => `purchase/${part(channel)}/${part(orderId)}`;

/** A job row (the store's `jobs` table). */
export interface JobRow {
  id: string;
  kind: JobKind;
  channel: string;
  streamId: string;
  viewerId: string;
  payload: Record<string, unknown>;
  /** due at (ms) */
  runAt: number;
  /** when this instance was armed: with the id, the key of its effects; finish and retry name it */
  armedAt: number;
  /** claims so far, this one included */
  attempts: number;
}

export type NewJob = Omit<JobRow, 'attempts'>;

/** the viewer's open cart in the channel (the stream of its last add_to_cart), due `delayMs` after it */
export function cartJob(channel: string, streamId: string, viewerId: string, now: number, delayMs: number): NewJob {
  return { id: cartJobId(channel, viewerId), kind: 'cart', channel, streamId, viewerId, payload: {}, runAt: now + delayMs, armedAt: now };
}

/** a watch milestone crossed now, due at once */
export function watchJob(channel: string, streamId: string, viewerId: string, now: number, w: { beforeMs: number; afterMs: number }): NewJob {
  return { id: watchJobId(streamId, viewerId, w.afterMs), kind: 'watch', channel, streamId, viewerId, payload: { ...w }, runAt: now, armedAt: now };
}

/** a verified purchase's offers, due at once */
export function purchaseJob(channel: string, streamId: string, viewerId: string, orderId: string, now: number, payload: Record<string, unknown>): NewJob {
  return { id: purchaseJobId(channel, orderId), kind: 'purchase', channel, streamId, viewerId, payload: { ...payload, orderId }, runAt: now, armedAt: now };
}

/** names one arming of a job: a cart re-armed later is another instance with its own effects */
export const effectKey = (job: { id: string; armedAt: number }) => `${job.id}@${job.armedAt}`;

/** What a track batch's triggers need to know of its stream's campaigns (the caller's, from the campaigns it holds). */
export interface TrackTriggers {
  /** ms from an add_to_cart to the earliest cart_abandoned campaign; absent: no such campaign, no cart job */
  cartDelayMs?: number;
  /** watch_milestone thresholds (ms of credited watch time in the stream) */
  milestonesMs?: number[];
}

export interface TrackWrites {
  /** arm (or re-arm) the viewer's cart job, or delete it */
  cart: 'arm' | 'close' | null;
  /** a watch milestone crossed: the stream total before and after this batch's credit */
  watch: { beforeMs: number; afterMs: number } | null;
}

/**
 * What a committed track batch writes to the outbox: the last of its accepted cart events decides
 * the cart (an add_to_cart arms it, a purchase closes it); a credit that crossed a threshold
 * creates a watch job. `streamWatchMs` is the stored total after the credit.
 */
export function trackWrites(accepted: readonly ValidEvent[], credited: number, streamWatchMs: number, t: TrackTriggers | undefined): TrackWrites {
  let cart: TrackWrites['cart'] = null;
  for (const ev of accepted) {
    if (ev.type === 'add_to_cart') cart = t?.cartDelayMs !== undefined ? 'arm' : cart;
    else if (ev.type === 'purchase') cart = 'close';
  }
  let watch: TrackWrites['watch'] = null;
  if (credited > 0 && t?.milestonesMs?.length) {
    const beforeMs = streamWatchMs - credited;
    if (t.milestonesMs.some((m) => beforeMs < m && streamWatchMs >= m)) watch = { beforeMs, afterMs: streamWatchMs };
  }
  return { cart, watch };
}
