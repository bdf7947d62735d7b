/**
 * The socket.io contract, shared by the server, the browser SDK and the tests.
 * Names here are public promises: change them only with a major version.
 */

export const EVENT_TYPES = [
  'watch',
  'comment',
  'like',
  'product_view',
  'add_to_cart',
  'checkout',
  'purchase',
  'offer_seen',
  'offer_click',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type Tier = 'high' | 'mid' | 'potential';
export const TIERS: readonly Tier[] = ['high', 'mid', 'potential'];

/** One tracked event as the browser sends it. `ts` is the client's clock (ms since epoch), informative only. */
export interface TrackEvent {
  id: string;
  type: EventType;
  ts: number;
  data?: Record<string, unknown>;
}

export interface TrackAck {
  accepted: number;
  duplicates: number;
  rejected: { id: string | null; reason: string }[];
}

export type ErrorAck = { error: { code: ErrorCode; message: string } };

/** Closed set of error codes carried by acks and `connect_error`. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'origin_not_allowed'
  | 'unavailable'
  | 'internal';

export interface Discount {
  kind: 'percent' | 'amount';
  /** percent: 1–100; amount: minor units of the channel's currency */
  value: number;
}

/** An offer as pushed to one viewer. */
export interface OfferPayload {
  id: string;
  code: string;
  title: string;
  description?: string;
  discount: Discount;
  minSpend?: number;
  currency?: string;
  /** ms since epoch, server clock */
  expiresAt: number;
  /** server's clock when sent, so the widget can correct its countdown for client skew */
  serverNow: number;
  campaign: string;
}

export interface OfferAck {
  ok: true;
}

export interface TierCounts {
  high: number;
  mid: number;
  potential: number;
}

/** What a host sees: the same shape as `GET /v1/streams/:id/summary`. */
export interface StreamSummary {
  streamId: string;
  title: string;
  channel: string;
  /** viewers connected now, by tier */
  tiers: TierCounts;
  /** viewers connected now */
  connected: number;
  /** unique viewers seen in this stream so far */
  audience: number;
  /** verified purchases attributed to viewers of this stream, since it started */
  orders: number;
  /** verified revenue (minor units) of those orders */
  gmv: number;
  offers: { issued: number; delivered: number; redeemed: number };
  updatedAt: number;
}

export interface HostPushRequest {
  tier: Tier;
  offer: {
    title: string;
    description?: string;
    discount: Discount;
    ttlSeconds: number;
    minSpend?: number;
  };
}

export type HostPushAck = { sent: number; skipped: number } | ErrorAck;

export interface ViewerAuth {
  streamId: string;
  viewerId: string;
  token?: string;
}

export interface HostAuth {
  streamId: string;
  hostKey: string;
}

export interface ViewerClientToServerEvents {
  track: (events: TrackEvent[], ack: (res: TrackAck | ErrorAck) => void) => void;
}

export interface ViewerServerToClientEvents {
  offer: (offer: OfferPayload, ack: (res: OfferAck) => void) => void;
  /** the viewer's identity as the server sees it (after token verification) */
  hello: (info: { viewerId: string; verified: boolean; serverNow: number }) => void;
}

export interface HostClientToServerEvents {
  push: (req: HostPushRequest, ack: (res: HostPushAck) => void) => void;
}

export interface HostServerToClientEvents {
  snapshot: (summary: StreamSummary) => void;
  update: (summary: StreamSummary) => void;
}

export interface ViewerSocketData {
  streamId: string;
  channel: string;
  viewerId: string;
  verified: boolean;
}

export interface HostSocketData {
  streamId: string;
}
