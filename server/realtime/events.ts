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
  // issue 5: a viewer's answer to a host's poll (`{ pollId, value: 1-5 }`)
  'poll_answer',
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

/** A call that failed as a whole. `retryAfterMs` comes with `unavailable` (the database is out of reach): resend then, with the same ids. */
export type ErrorAck = { error: { code: ErrorCode; message: string; retryAfterMs?: number } };

/** Closed set of error codes carried by acks and `connect_error`. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'origin_not_allowed'
  | 'unavailable'
  | 'internal'
  // a flood limit (events per second, connections per IP) or the cap on one viewer's sockets
  | 'rate_limited'
  | 'too_many_connections';

export interface Discount {
  kind: 'percent' | 'amount';
  /** percent: 1–100; amount: minor units of the channel's currency */
  value: number;
}

/** The languages LiveTier has text in: the elements' built-in text, and the translations a campaign may carry. */
export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

/** An offer's title and description in one language; a field left out falls back to the offer's own. */
export interface OfferText {
  title?: string;
  description?: string;
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
  /** issue 4: a percent discount takes at most this much off one order (minor units) */
  maxDiscount?: number;
  /** issue 4: the offer applies only to these SKUs */
  skus?: string[];
  /**
   * `title` and `description` in other languages, only those the campaign has (default campaigns:
   * `zh-CN`): a viewer's widget shows its own language's text, else `title` / `description`
   */
  i18n?: Partial<Record<Lang, OfferText>>;
}

export interface OfferAck {
  ok: true;
}

export interface TierCounts {
  high: number;
  mid: number;
  potential: number;
}

// issue 3 (tiering): the lifecycle stage beside the tier
export type Lifecycle = 'new' | 'active' | 'at_risk' | 'lapsed';
export const LIFECYCLES: readonly Lifecycle[] = ['new', 'active', 'at_risk', 'lapsed'];
export type LifecycleCounts = Record<Lifecycle, number>;

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
  /** issue 3: viewers connected now, by lifecycle stage */
  lifecycle: LifecycleCounts;
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
  /** issue 16: the share of the tier held back for measuring uplift (0–50; absent: 0) */
  holdoutPercent?: number;
}

/** `sent`: offers issued; `held`: viewers held back for measurement (no offer); `skipped`: caps, budget, quota or an offer already held */
export type HostPushAck = { sent: number; held: number; skipped: number } | ErrorAck;

export interface ViewerAuth {
  streamId: string;
  viewerId: string;
  token?: string;
  /** issue 5: with a valid `token`, the anonymous id whose history merges into the token's viewer (once) */
  alias?: string;
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
  /**
   * the viewer's identity as the server sees it (after token verification); `aliased: false` when
   * the handshake carried an anonymous id to link and linking it failed (the SDK tries again on the
   * next connection)
   */
  hello: (info: { viewerId: string; verified: boolean; serverNow: number; aliased?: false }) => void;
  /** issue 5/6: the host opened a one-question poll; the viewer answers with a `poll_answer` event */
  poll: (poll: PollPayload) => void;
}

/** A one-question rating poll (issue 5/6): answered with `poll_answer` `{ pollId, value: 1..scale }`. */
export interface PollPayload {
  id: string;
  question: string;
  scale: 5;
  /** ms since epoch, server clock */
  closesAt: number;
}

export interface HostClientToServerEvents {
  push: (req: HostPushRequest, ack: (res: HostPushAck) => void) => void;
  /** issue 6: opens a one-question poll for the stream's viewers (a new poll closes the previous one) */
  'poll:open': (req: PollOpenRequest, ack: (res: PollPayload | ErrorAck) => void) => void;
}

export interface HostServerToClientEvents {
  snapshot: (summary: StreamSummary) => void;
  update: (summary: StreamSummary) => void;
  /** issue 6: the stream's funnel, on connect and with every update that changed it */
  funnel: (funnel: StreamFunnel) => void;
  /** issue 6: recent activity: the last items on connect (oldest first), then each new batch */
  activity: (items: ActivityItem[]) => void;
  /** issue 6: audience-by-tier points: the whole series on connect, then each new or revised point */
  trend: (points: TrendPoint[]) => void;
  /** issue 6: the latest poll's results, on connect and whenever they change */
  'poll:results': (results: PollResults) => void;
  /** the stream minute by minute (watching now, orders, GMV): the whole series on connect, then each new or revised minute */
  minutes: (points: MinutePoint[]) => void;
}

// ---------------------------------------------------------------- issue 6: the host dashboard

export interface PollOpenRequest {
  /** 1-200 characters */
  question: string;
  /** how long viewers may answer: 10-3600 s, default 120 */
  seconds?: number;
}

export interface PollResults extends PollPayload {
  /** answers per value: `counts[0]` is the number of 1s … `counts[4]` the number of 5s (one per viewer, the latest wins) */
  counts: [number, number, number, number, number];
  answers: number;
  /** mean of the answers, or null before the first */
  average: number | null;
}

/** Unique viewers of this stream who reached each step. */
/**
 * Unique viewers per step. A step counts the viewers who reached it or a later one (a buyer whose
 * checkout the page never tracked reached checkout too), so no step exceeds the one before it.
 */
export interface FunnelCounts {
  viewers: number;
  productViews: number;
  addToCarts: number;
  checkouts: number;
  /** viewers with at least one verified purchase (reported by the merchant's backend) in this stream */
  purchases: number;
  /** of `purchases`, the viewers with no tracked checkout (counted in `checkouts` all the same) */
  boughtWithoutCheckout: number;
}

export interface StreamKpis {
  viewers: number;
  /** GMV per 1,000 viewers, minor units */
  gpm: number;
  /** GMV per viewer, minor units */
  uvValue: number;
  avgWatchSeconds: number;
  peakConnected: number;
  commentRate: number;
  productClickRate: number;
  addToCartRate: number;
  conversion: number;
  newViewers: number;
  returningViewers: number;
}

export interface StreamFunnel extends FunnelCounts {
  streamId: string;
  /** the same steps split by each viewer's current tier */
  byTier: Record<Tier, FunnelCounts>;
  orders: number;
  /** verified revenue, minor units */
  gmv: number;
  /** average order value, minor units (0 before the first order) */
  aov: number;
  /** issue 16: the numbers live-commerce hosts read (server/stats/kpis.ts defines each) */
  kpis: StreamKpis;
  updatedAt: number;
}

/** One line of the host's live activity feed. `text` is what a viewer typed: render it as text, never as HTML. */
export type ActivityItem = { id: number; at: number; viewerId: string } & (
  | { type: 'purchase'; orderId: string; amount: number; currency: string }
  | { type: 'tier'; from: Tier; to: Tier }
  | { type: 'comment'; text: string }
);

/** Viewers connected at time `t` (ms since epoch), by tier; lifecycle counts when the summary carries them. */
export interface TrendPoint {
  t: number;
  connected: number;
  high: number;
  mid: number;
  potential: number;
  /** connected viewers by lifecycle stage, when the summary carries `lifecycle` */
  lifecycle?: Record<string, number>;
  /** the stream's orders so far (running total) at that time; the per-minute series is built from it */
  orders?: number;
  /** the stream's verified GMV so far (running total, minor units) at that time */
  gmv?: number;
}

/**
 * One minute of the stream (server/stats/minutes.ts defines each field): viewers watching at the
 * minute's end, the orders and the change of GMV recorded during it.
 */
export interface MinutePoint {
  /** the minute's start, ms since epoch (a multiple of 60,000) */
  t: number;
  /** viewers connected at the minute's last sample (the current minute: now) */
  watching: number;
  /** orders recorded during the minute */
  orders: number;
  /** verified GMV recorded during the minute, net of the refunds recorded in it (minor units; negative when refunds win) */
  gmv: number;
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
