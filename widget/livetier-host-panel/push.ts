/**
 * The push form's fields turned into the `push` request. Pure, so the units are tested once:
 * hosts type money in major units (¥30), the server wants minor units (3000).
 */
import type { Discount, HostPushRequest, Tier } from '../../server/realtime/events.js';
import { minorDigits } from '../locale.js';

export interface PushFields {
  tier: Tier;
  title: string;
  kind: Discount['kind'];
  /** percent (1–100) or an amount in major units of `currency` */
  value: number;
  minutes: number;
  /** the share of the tier held back for measuring uplift (0–50) */
  holdoutPercent?: number;
}

/** what the form preselects for "hold back for measurement" */
export const DEFAULT_PUSH_HOLDOUT = 10;

/** the server's limits on an offer's life */
export const MIN_TTL_SECONDS = 10;
export const MAX_TTL_SECONDS = 30 * 86_400;

export function buildPushRequest(fields: PushFields, currency?: string): HostPushRequest {
  const value = fields.kind === 'percent' ? Math.round(fields.value) : Math.round(fields.value * 10 ** minorDigits(currency));
  const ttlSeconds = Math.min(MAX_TTL_SECONDS, Math.max(MIN_TTL_SECONDS, Math.round(fields.minutes * 60)));
  const holdoutPercent = Math.min(50, Math.max(0, Math.round(fields.holdoutPercent ?? 0)));
  return { tier: fields.tier, offer: { title: fields.title.trim(), discount: { kind: fields.kind, value }, ttlSeconds }, ...(holdoutPercent ? { holdoutPercent } : {}) };
}
