/**
 * What a webhook tells the merchant's systems: the event types, their payloads and the body each
 * delivery carries. Pure. The stores write these rows (fanned out to each subscribed endpoint) in
 * the same transaction as the change they report, so an event is sent if and only if its change
 * committed; the delivery service sends them, at least once, each with its unique id.
 *
 * Payloads carry ids, amounts, tiers and codes the merchant's systems act on: never a key, a
 * token or a signing secret.
 */
import { randomUUID } from 'node:crypto';
import type { OfferRow, PurchaseRow } from '../store/types.js';
import { explainAll, type Explain } from '../tiering/explain.js';

export const WEBHOOK_EVENTS = [
  'viewer.tier_changed',
  'viewer.lifecycle_changed',
  'offer.issued',
  'offer.redeemed',
  'purchase.recorded',
  'purchase.refunded',
  'stream.ended',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookEvent {
  /** unique per event (`evt_…`): the `webhook-id` header, for the receiver's dedup */
  id: string;
  /** `webhook.test`: sent by `POST …/webhooks/:id/test` to that endpoint only */
  type: WebhookEventType | 'webhook.test';
  channel: string;
  /** the viewer it is about, if any (erasure deletes its undelivered events) */
  viewerId: string | null;
  at: number;
  data: Record<string, unknown>;
}

export const newEventId = () => `evt_${randomUUID().replace(/-/g, '')}`;

export function webhookEvent(type: WebhookEvent['type'], channel: string, viewerId: string | null, at: number, data: Record<string, unknown>): WebhookEvent {
  return { id: newEventId(), type, channel, viewerId, at, data };
}

/** the JSON body of a delivery (Standard Webhooks' `{ type, timestamp, data }`, plus the id and channel) */
export function webhookBody(e: WebhookEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, timestamp: new Date(e.at).toISOString(), channel: e.channel, data: e.data });
}

/** the offer as the merchant sees it: who, what, the code to put in an e-mail, until when */
function offerData(o: OfferRow) {
  return {
    offerId: o.id,
    streamId: o.streamId,
    viewerId: o.viewerId,
    campaign: o.campaign,
    title: o.title,
    code: o.code,
    discount: { kind: o.discountKind, value: o.discountValue, minSpend: o.minSpend, currency: o.currency },
    expiresAt: new Date(o.expiresAt).toISOString(),
  };
}

export const offerIssued = (o: OfferRow, at: number) => webhookEvent('offer.issued', o.channel, o.viewerId, at, offerData(o));

export const offerRedeemed = (o: OfferRow, orderId: string, at: number) =>
  webhookEvent('offer.redeemed', o.channel, o.viewerId, at, { ...offerData(o), orderId });

function purchaseData(p: Omit<PurchaseRow, 'refunded'> & { refunded?: number }) {
  return {
    orderId: p.orderId,
    streamId: p.streamId,
    viewerId: p.viewerId,
    amount: p.amount,
    refunded: p.refunded ?? 0,
    currency: p.currency,
    couponCode: p.couponCode,
    items: p.items,
    at: new Date(p.at).toISOString(),
  };
}

export const purchaseRecorded = (p: Omit<PurchaseRow, 'refunded'>, at: number) =>
  webhookEvent('purchase.recorded', p.channel, p.viewerId, at, purchaseData(p));

export const purchaseRefunded = (p: PurchaseRow, refundedTotal: number, at: number) =>
  webhookEvent('purchase.refunded', p.channel, p.viewerId, at, { ...purchaseData({ ...p, refunded: refundedTotal }), refundedBefore: p.refunded });

export const tierChanged = (channel: string, viewerId: string, from: string, to: string, explain: Explain[], at: number) =>
  webhookEvent('viewer.tier_changed', channel, viewerId, at, { viewerId, from, to, reasons: explainAll(explain), explain });

export const lifecycleChanged = (channel: string, viewerId: string, from: string, to: string, tier: string, explain: Explain[], at: number) =>
  webhookEvent('viewer.lifecycle_changed', channel, viewerId, at, { viewerId, from, to, tier, reasons: explainAll(explain), explain });

export const streamEnded = (channel: string, streamId: string, how: 'host' | 'idle', report: Record<string, unknown>, at: number) =>
  webhookEvent('stream.ended', channel, null, at, { streamId, endedBy: how, report });

export const testEvent = (channel: string, webhookId: string, at: number) =>
  webhookEvent('webhook.test', channel, null, at, { webhookId, message: 'a test event from LiveTier' });
