/**
 * The store contract: everything LiveTier reads and writes, as Promise-returning operations that
 * the engine, routes and realtime code call without knowing which database is behind them.
 *
 * Two implementations: `sqlite/` (better-sqlite3, the embedded default; each operation runs
 * synchronously inside, so it resolves without yielding) and `postgres/` (a `pg` pool). Every
 * operation is atomic on its own: the ones that must read, decide and write as one unit
 * (`ingest`, `issueOffers`, `recordPurchase`, `refund`, `alias`, `eraseViewer`, `rotateKeys`,
 * `createStream`, `openPoll`) take the pure decision from the caller and run it inside their own
 * transaction. No caller ever holds a transaction open across an `await`, so no caller needs one.
 *
 * Errors: an operation that cannot reach its database rejects with a `StoreUnavailableError`
 * (routes answer 503, `track` answers `unavailable`); anything else is a bug and a 500.
 */
import type { Tier, FunnelCounts, PollPayload, ActivityItem, TrendPoint, OfferPayload } from '../realtime/events.js';
import type { ValidEvent } from '../ingest/schema.js';
import type { CampaignDoc } from '../offers/campaign.js';
import type { Decision, SkipReason, ViewerHistory } from '../offers/rules.js';
import type { JobRow, TrackTriggers } from '../jobs/due.js';

export type { JobRow } from '../jobs/due.js';
import type { WebhookEvent } from '../webhooks/events.js';
import type { Explain } from '../tiering/explain.js';
import type { ChannelModel, ModelPurchase, StoredPrediction } from '../predict/channel-model.js';
export type { WebhookEvent } from '../webhooks/events.js';

// ---------------------------------------------------------------- rows

export interface StreamRow {
  id: string;
  channel: string;
  title: string;
  allowedOrigins: string[];
  createdAt: number;
  hostKeyHash: string;
  ingestKeyHash: string;
  /** when the stream ended (`POST /v1/streams/:id/end`, or nobody connected for a while); null while live */
  endedAt: number | null;
}

export interface PurchaseRow {
  channel: string;
  orderId: string;
  streamId: string;
  viewerId: string;
  amount: number;
  refunded: number;
  currency: string;
  items: unknown[] | null;
  couponCode: string | null;
  at: number;
  createdAt: number;
}

export interface OfferRow {
  id: string;
  code: string;
  channel: string;
  streamId: string;
  viewerId: string;
  campaign: string;
  title: string;
  description: string | null;
  discountKind: 'percent' | 'amount';
  discountValue: number;
  minSpend: number | null;
  currency: string;
  createdAt: number;
  expiresAt: number;
  deliveredAt: number | null;
  seenAt: number | null;
  clickedAt: number | null;
  redeemedAt: number | null;
  redeemedOrder: string | null;
  /** a percent discount's cap per order, and the SKUs the offer is limited to */
  maxDiscount?: number | null;
  skus?: string[] | null;
  /** the title and description in other languages, from the campaign (stored as JSON); null: none */
  i18n?: OfferPayload['i18n'] | null;
}

export interface ViewerRow {
  channel: string;
  id: string;
  verified: boolean;
  tier: Tier;
  /** why the tier and lifecycle, as codes (stored in the \`reasons\` column; plain strings written before codes read as code \`text\`) */
  explain: Explain[];
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
  firstSeenAt: number;
  lastSeenAt: number;
  lifecycle: string;
  engWeighted: number;
}

/** a viewer's counters in one stream */
export interface ViewerStreamRow {
  streamId: string;
  viewerId: string;
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
  checkouts: number;
  browserPurchases: number;
  firstSeenAt: number;
  lastSeenAt: number;
}

/** what one batch of events adds to a viewer's counters */
export interface Deltas {
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
  checkouts: number;
  browserPurchases: number;
  /** weighted engagement earned (tiering/engagement.ts) */
  engWeighted: number;
}

/** the row of an offer just issued (its campaign row without the committed value, nothing happened to it yet) */
export function issuedOffer(o: CampaignOfferRow): OfferRow {
  const { value: _value, ...rest } = o;
  return { ...rest, i18n: rest.i18n ?? null, deliveredAt: null, seenAt: null, clickedAt: null, redeemedAt: null, redeemedOrder: null };
}

export const zeroDeltas = (): Deltas => ({
  watchMs: 0, comments: 0, likes: 0, productViews: 0, addToCarts: 0, checkouts: 0, browserPurchases: 0, engWeighted: 0,
});

export type CampaignStatus = 'active' | 'paused';

export interface CampaignRow {
  streamId: string;
  id: string;
  channel: string;
  doc: CampaignDoc;
  status: CampaignStatus;
  adhoc: boolean;
  issued: number;
  committed: number;
  skipped: Record<SkipReason, number>;
  createdAt: number;
  updatedAt: number;
}

/** an offer row as a campaign issues it: the loop's columns plus what it commits and its narrowing */
export type CampaignOfferRow = Omit<OfferRow, 'deliveredAt' | 'seenAt' | 'clickedAt' | 'redeemedAt' | 'redeemedOrder'> & {
  value: number;
  maxDiscount: number | null;
  skus: string[] | null;
};

export interface ArmRow {
  arm: 'treatment' | 'control';
  n: number;
  conversions: number;
}

export interface AliasResult {
  /** false: this anonymous id was linked before (to `viewerId`), nothing moved now */
  merged: boolean;
  /** the verified viewer the anonymous id is linked to */
  viewerId: string;
  /** events moved by this call */
  events: number;
}

export type ViewerSort = 'recent' | 'value' | 'engagement' | 'predicted';

export interface ListQuery {
  channel: string;
  streamId: string;
  tier: string | null;
  lifecycle: string | null;
  sort: ViewerSort;
  limit: number;
  /** the last row of the previous page */
  after: { key: number; id: string } | null;
}

/** one row of the viewer list: the viewer, its counters in this stream, and the value the list sorts by */
export interface ViewerListRow extends ViewerRow {
  sortKey: number;
  orders: number;
  spend: number;
  lastPurchaseAt: number | null;
  thisStream: { watchMs: number; comments: number; likes: number; productViews: number; addToCarts: number; checkouts: number };
}

export interface CsvViewerRow {
  id: string;
  tier: Tier;
  lifecycle: string | null;
  verified: boolean;
  watchMs: number;
  comments: number;
  likes: number;
  productViews: number;
  addToCarts: number;
  firstSeenAt: number;
  lastSeenAt: number;
  purchases: number;
  spend: number;
  lastPurchaseAt: number | null;
  streamWatchMs: number;
  streamComments: number;
  streamProductViews: number;
  streamAddToCarts: number;
  streamCheckouts: number;
  streamPurchases: number;
  streamSpend: number;
  /** as of the channel's last model fit (null: no fitted model, or not a buyer then) */
  pAlive: number | null;
  clv365d: number | null;
}

export interface CampaignCounts {
  campaign: string;
  title: string;
  issued: number;
  delivered: number;
  seen: number;
  clicked: number;
  redeemed: number;
}

/** an activity line as stored: `key` is unique per stream across processes */
export interface StoredActivity {
  key: string;
  item: ActivityItem;
}

export interface PollRow extends PollPayload {
  openedAt: number;
}

export type KeyKind = 'host' | 'ingest';

/** everything stored about a viewer in a channel (the GDPR export), as plain JSON */
export interface ViewerExport {
  viewer: Record<string, unknown>;
  streams: Record<string, unknown>[];
  events: Record<string, unknown>[];
  purchases: Record<string, unknown>[];
  offers: Record<string, unknown>[];
  aliases: Record<string, unknown>[];
}

// ---------------------------------------------------------------- atomic operations' inputs

/** One unit of the group commit. `ingest` commits a whole list of them in one transaction. */
export type IngestJob =
  | { kind: 'join'; streamId: string; channel: string; viewerId: string; verified: boolean; now: number }
  | {
      kind: 'track';
      streamId: string;
      channel: string;
      viewerId: string;
      events: ValidEvent[];
      now: number;
      /** server time the viewer's watch time was last credited in this stream (ingest/tally.ts) */
      lastCreditAt: number;
      /** the stream's waiting triggers: the batch arms or closes the cart job, or creates a watch job (jobs/due.ts) */
      triggers?: TrackTriggers;
    }
  | { kind: 'delivered'; offerId: string; now: number }
  | {
      kind: 'reasons';
      channel: string;
      viewerId: string;
      tier: Tier;
      explain: Explain[];
      lifecycle?: string;
      /** the tier and lifecycle changes this write records (viewer.tier_changed / lifecycle_changed), fanned out in its transaction */
      webhooks?: WebhookEvent[];
    };

export interface IngestResult {
  /** join: the viewer's first visit to this stream */
  firstTime?: boolean;
  /** join: the viewer's credited watch time in this stream so far; track: after this batch (when it credited any) */
  streamWatchMs?: number;
  /** jobs this batch created, claimed for the caller to run now (a watch milestone crossed) */
  due?: JobRow[];
  /** track: the events stored now (not duplicates), in order */
  accepted: ValidEvent[];
  duplicates: number;
  /** track: watch time credited by this batch */
  watchCredited: number;
  /** track: the new base of the next watch credit */
  lastCreditAt: number;
}

export interface NewStream {
  id: string;
  channel: string;
  title: string;
  allowedOrigins: string[];
  hostKeyHash: string;
  ingestKeyHash: string;
  createdAt: number;
}

/** A verified purchase to record, and the coupon code it carries (redeemed in the same transaction). */
export interface PurchaseRecord {
  purchase: Omit<PurchaseRow, 'refunded'>;
  now: number;
  /** the offers the purchase is due (a `purchase` job, claimed for the caller, written with it); its payload */
  outbox?: Record<string, unknown>;
}


export type RedeemStatus = 'redeemed' | 'other_viewer' | 'not_found' | 'already_redeemed' | 'expired';

export type RecordPurchaseResult =
  | {
      inserted: true;
      purchase: PurchaseRow;
      coupon?: { status: RedeemStatus; offer?: OfferRow; /** false: the code was redeemed by this order before */ now?: boolean };
      /** the `purchase` job written with it (when `outbox` was given), claimed for the caller */
      job?: JobRow;
    }
  /** the order id was taken: the row as first recorded (the caller compares) */
  | { inserted: false; existing: PurchaseRow };

export type RedeemResult =
  | { status: 'redeemed'; offer: OfferRow; /** false: this order had redeemed it before (idempotent repeat) */ now: boolean }
  | { status: Exclude<RedeemStatus, 'redeemed'>; message: string };

/** A check-and-issue for one campaign and a list of viewers, atomic per viewer against the campaign's stock. */
export interface IssueRequest {
  streamId: string;
  channel: string;
  campaignId: string;
  now: number;
  /** viewers to consider, in order, each with the currency their offer is in */
  viewers: { viewerId: string; currency: string }[];
  /**
   * Pure: decides for one viewer from the campaign as stored now (status, document, counters) and
   * the viewer's history. Return null to pass the viewer over (not active, not in the audience).
   */
  decide: (campaign: CampaignRow, history: ViewerHistory, viewerId: string) => Decision | null;
  /**
   * a job's effect key (jobs/due.ts): recorded with this campaign's issue in the same transaction;
   * when it was recorded before, nothing is decided or issued (every viewer's decision is null)
   */
  once?: string;
  /** the offer for an `issue` decision; the store sets `code` (and retries on a code collision) */
  offer: (campaign: CampaignRow, viewerId: string, currency: string, value: number) => Omit<CampaignOfferRow, 'code'>;
}

export interface IssueResult {
  viewerId: string;
  /** null when `decide` passed the viewer over */
  decision: Decision | null;
  /** the committed offer, for an `issue` decision */
  offer?: OfferRow;
}

export interface StreamEngagement {
  viewers: number;
  commenters: number;
  productViewers: number;
  carters: number;
  /** the viewers' credited watch time in the stream, each capped at the stream's length */
  watchMs: number;
  /** viewers first seen in the channel before the stream began (an earlier stream, or an order) */
  returning: number;
}

/** a stream's viewers by their tier, and how many of them moved since their previous stream in the channel */
export interface TierMoves {
  high: number;
  mid: number;
  potential: number;
  /** viewers whose tier is higher than at the end of the previous stream they watched in the channel */
  movedUp: number;
  /** viewers whose tier is lower than then (viewers with no earlier stream count in neither) */
  movedDown: number;
}

/** one stream of a channel, as the channel overview compares it */
export interface ChannelStreamRow extends StreamRow {
  /**
   * what was recorded when the stream ended: the most viewers connected at once (null when the
   * end did not know it) and its viewers' tiers then. null while it is live, and for streams that
   * ended before this was recorded.
   */
  atEnd: (TierMoves & { peakConnected: number | null }) | null;
}

/** A merchant's webhook endpoint (admin-managed, per channel). */
export interface WebhookRow {
  id: string;
  channel: string;
  url: string;
  /** the event types it receives (webhooks/events.ts WEBHOOK_EVENTS) */
  events: string[];
  description: string | null;
  /** `whsec_…`: signs its deliveries; shown once, at creation */
  secret: string;
  enabled: boolean;
  /** why it is disabled (by the admin, or after failing too long); null when enabled */
  disabledReason: string | null;
  /** the first failed attempt since its last success; null when its last attempt succeeded */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

export type WebhookPatch = Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'enabled' | 'disabledReason'>>;

/** One event for one endpoint: the outbox row, and the state of its attempts. */
export interface DeliveryRow {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  viewerId: string | null;
  /** the JSON body sent (webhookBody) */
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** when it is tried next (pending), else null */
  nextAt: number | null;
  firstTriedAt: number | null;
  lastAttemptAt: number | null;
  /** the receiver's HTTP status on the last attempt (null: no answer) */
  lastCode: number | null;
  lastError: string | null;
  durationMs: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** a claimed delivery with what sending it needs */
export interface ClaimedDelivery extends DeliveryRow {
  channel: string;
  url: string;
  secret: string;
  failingSince: number | null;
}

export interface DeliveryAttempt {
  at: number;
  ok: boolean;
  code: number | null;
  error: string | null;
  durationMs: number;
  /** failed: when to try again, or null to give up (status failed) */
  nextAt: number | null;
}

// ---------------------------------------------------------------- the contract

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** resolves when the database answers */
  ping(): Promise<void>;
  close(): Promise<void>;

  // channels
  /** the secret new viewer tokens are signed with */
  getChannelSecret(channel: string): Promise<string | null>;
  /**
   * the secrets a viewer token may be signed with at `now`: the current one, and the one it
   * replaced while that one's grace period runs (null after it, or when there was none)
   */
  getChannelSecrets(channel: string, now: number): Promise<{ current: string; previous: string | null } | null>;
  /**
   * replaces the channel's token secret; the replaced one keeps verifying until
   * `previousValidUntil` (null: it stops now). A secret replaced by an earlier rotation stops.
   * False for an unknown channel.
   */
  rotateChannelSecret(channel: string, newSecret: string, previousValidUntil: number | null, now: number): Promise<boolean>;
  channelExists(channel: string): Promise<boolean>;
  /** the channel's one currency (ISO 4217), or null until set: by a stream's creation or the first verified purchase */
  getChannelCurrency(channel: string): Promise<string | null>;
  /** sets the channel's currency unless it has one (one conditional statement); returns the channel's currency after it, null for an unknown channel */
  claimChannelCurrency(channel: string, currency: string): Promise<string | null>;

  // ---------------------------------------------------------------- predictive models (issue 15)
  /** the channel's stored model (null: never fitted) and, while a process holds the fit's lease, until when */
  getModel(channel: string, now: number): Promise<{ model: ChannelModel | null; fittingUntil: number | null }>;
  /** takes the channel's fit lease until `until` unless another process holds one that has not expired; true when taken */
  claimModelFit(channel: string, now: number, until: number): Promise<boolean>;
  /** stores a fit (replacing the last) with every buyer's prediction beside the viewer (others' cleared), and ends the lease */
  saveModel(channel: string, model: ChannelModel, predictions?: StoredPrediction[]): Promise<void>;
  /** ends the lease without a fit (the fit failed) */
  releaseModelFit(channel: string): Promise<void>;
  /** channels with purchases whose model is missing or fitted before `before`, and not being fitted: stalest first */
  modelsDue(before: number, now: number, limit: number): Promise<string[]>;
  /** the channel's verified purchases up to `now`, net of refunds (fully refunded orders left out): the fit's input */
  channelPurchases(channel: string, now: number): Promise<ModelPurchase[]>;
  /** the recency-weighted engagement points of the channel's buyers (segments) */
  buyerEngagement(channel: string): Promise<{ viewerId: string; engagement: number }[]>;
  getRules(channel: string): Promise<unknown | null>;
  setRules(channel: string, doc: unknown, now: number): Promise<void>;

  // streams and keys
  /** the channel is created on first use with `channelSecret`; false when the stream id is taken */
  createStream(s: NewStream, channelSecret: string): Promise<boolean>;
  getStream(id: string): Promise<StreamRow | null>;
  streamByIngestHash(hash: string): Promise<StreamRow | null>;
  streamByHostHash(hash: string): Promise<StreamRow | null>;
  /** a rotated-out key still in its grace period */
  retiredKey(hash: string, now: number): Promise<{ streamId: string; kind: KeyKind } | null>;
  /** replaces a stream's key digests; the old ones stay valid until `until` (null: they stop now) */
  rotateKeys(streamId: string, next: { hostKeyHash: string; ingestKeyHash: string }, until: number | null, now: number): Promise<void>;

  // what a stream's live state starts from
  streamTotals(streamId: string): Promise<{ audience: number; orders: number; gmv: number; offers: { issued: number; delivered: number; redeemed: number } }>;
  audience(streamId: string): Promise<number>;
  countEvents(streamId: string): Promise<number>;

  // viewers
  getViewer(channel: string, id: string): Promise<ViewerRow | null>;
  getViewerStream(streamId: string, viewerId: string): Promise<ViewerStreamRow | null>;
  /** a viewer's verified purchases, net of refunds, oldest first */
  viewerPurchases(channel: string, viewerId: string): Promise<{ orderId: string; amount: number; at: number; currency: string }[]>;
  /** received_at of the viewer's last `n` checkout events in the channel, newest first */
  recentCheckouts(channel: string, viewerId: string, n: number): Promise<number[]>;
  recentOffers(channel: string, viewerId: string, n: number): Promise<{ id: string; expiresAt: number; engaged: boolean }[]>;
  /** every buyer of the channel with RFM values over purchases in [since, now] */
  buyers(channel: string, since: number, now: number): Promise<{ viewerId: string; orders: number; spend: number; lastAt: number }[]>;
  channelViewerIds(channel: string): Promise<string[]>;
  /** stores tiers, reasons and lifecycles (one transaction) */
  setTiers(rows: { channel: string; viewerId: string; tier: Tier; explain: Explain[]; lifecycle?: string }[]): Promise<void>;
  listViewers(q: ListQuery): Promise<ViewerListRow[]>;
  exportViewer(channel: string, viewerId: string): Promise<ViewerExport | null>;
  /** deletes the viewer's rows and events; purchases and offers stay under `erasedId`. false when unknown */
  eraseViewer(channel: string, viewerId: string, erasedId: string): Promise<boolean>;
  /** merges anonymous viewer `from` into verified viewer `into`, once per `from` */
  alias(channel: string, from: string, into: string, now: number): Promise<AliasResult>;

  // ingest: one group-commit batch, one transaction, one result per job in order
  ingest(jobs: IngestJob[]): Promise<IngestResult[]>;

  // purchases
  getPurchase(channel: string, orderId: string): Promise<PurchaseRow | null>;
  /** the purchase, its viewer (verified), its coupon redemption and the viewer's value columns, in one transaction */
  recordPurchase(r: PurchaseRecord): Promise<RecordPurchaseResult>;
  /**
   * Many purchases in one transaction, each exactly as `recordPurchase` records it, in order (an
   * order id twice: the second sees the first); one result per record. A failure fails them all
   * (the caller retries each alone).
   */
  recordPurchases(records: PurchaseRecord[]): Promise<RecordPurchaseResult[]>;
  /** sets an order's refunded total and the viewer's value columns */
  refund(channel: string, orderId: string, refundedTotal: number): Promise<void>;
  /** whether the viewer has a verified purchase (not fully refunded) in this stream */
  boughtHere(channel: string, streamId: string, viewerId: string): Promise<boolean>;

  // offers
  pendingOffers(channel: string, viewerId: string, now: number): Promise<OfferRow[]>;
  offerByCode(code: string): Promise<OfferRow | null>;
  /** a redemption by code: the checks (channel, owner, expiry) and the single-use UPDATE, atomically */
  redeem(channel: string, code: string, orderId: string, viewerId: string, now: number): Promise<RedeemResult>;

  // campaigns
  /** inserts each campaign unless its id exists (the defaults, idempotently) */
  ensureCampaigns(streamId: string, channel: string, docs: { id: string; doc: CampaignDoc }[], now: number): Promise<void>;
  insertCampaign(c: { streamId: string; id: string; channel: string; doc: CampaignDoc; status?: CampaignStatus; adhoc?: boolean; now: number }): Promise<boolean>;
  getCampaign(streamId: string, id: string): Promise<CampaignRow | null>;
  /** ordered by adhoc, created_at, id */
  listCampaigns(streamId: string): Promise<CampaignRow[]>;
  /** the campaigns that fire by themselves (trigger not `manual`) */
  listTriggered(streamId: string): Promise<CampaignRow[]>;
  updateCampaign(streamId: string, id: string, doc: CampaignDoc, status: CampaignStatus, now: number): Promise<void>;
  issueOffers(req: IssueRequest): Promise<IssueResult[]>;

  // the host's live history (realtime/dashboard.ts): bounded per stream, read back after a restart
  /** upserts trend points (by `t`) and adds activity lines (by `key`), keeping the newest `keepItems` lines */
  saveHostHistory(streamId: string, h: { points: TrendPoint[]; items: StoredActivity[] }, keepItems: number): Promise<void>;
  /** the stored trend (oldest first) and the newest `maxItems` activity lines (oldest first) */
  hostHistory(streamId: string, maxItems: number): Promise<{ points: TrendPoint[]; items: StoredActivity[] }>;

  // due work (jobs/due.ts): any process may claim a due job; one claim holds it for `leaseMs`
  /** up to `limit` jobs due at `now` and not held by a claim, each now claimed until now + leaseMs */
  claimJobs(now: number, limit: number, leaseMs: number): Promise<JobRow[]>;
  /** deletes the job, unless it was re-armed since `armedAt` (a new cart) */
  finishJob(id: string, armedAt: number): Promise<void>;
  /** `finishJob` for many jobs, in one transaction */
  finishJobs(jobs: readonly { id: string; armedAt: number }[]): Promise<void>;
  /** releases the job to run again at `runAt`, unless it was re-armed since `armedAt` */
  retryJob(id: string, armedAt: number, runAt: number): Promise<void>;
  /** deletes effect keys recorded before `before`; returns how many */
  pruneJobEffects(before: number): Promise<number>;
  campaignFunnel(streamId: string, campaign: string): Promise<{ issued: number; delivered: number; seen: number; clicked: number; redeemed: number }>;
  campaignArms(streamId: string, campaign: string, channel: string, windowMs: number): Promise<ArmRow[]>;

  // the host dashboard and reports
  funnel(channel: string, streamId: string): Promise<{ total: FunnelCounts; byTier: Record<Tier, FunnelCounts> }>;
  /**
   * What the live-commerce numbers need of the stream's viewers (stats/kpis.ts): how many
   * commented, viewed a product, added to cart; their watch time, each viewer's capped at `capMs`
   * (the stream's length); and how many were known to the channel before `startedAt`.
   */
  streamEngagement(channel: string, streamId: string, startedAt: number, capMs: number): Promise<StreamEngagement>;
  /** opens a poll, closing any still open in the stream */
  openPoll(streamId: string, poll: PollPayload, now: number): Promise<void>;
  latestPoll(streamId: string): Promise<PollRow | null>;
  /** the stream's poll open at `now`, unless this viewer already answered it */
  openPollFor(streamId: string, viewerId: string, now: number): Promise<PollPayload | null>;
  polls(streamId: string): Promise<PollRow[]>;
  /** counts[0] = answers of 1 … counts[4] = answers of 5; one answer per viewer, the latest before `closesAt` */
  pollCounts(streamId: string, pollId: string, closesAt: number): Promise<[number, number, number, number, number]>;
  /** the CSV's rows, a page at a time */
  csvRows(channel: string, streamId: string): AsyncIterable<CsvViewerRow>;
  campaignCounts(streamId: string): Promise<CampaignCounts[]>;
  topBuyers(streamId: string, limit: number): Promise<{ viewerId: string; orders: number; spend: number }[]>;

  // the channel overview and its read-only key (routes/channel-overview.ts)
  /**
   * replaces the digest of the channel's read-only key; the replaced one keeps working until
   * `previousValidUntil` (null: it stops now). A key replaced by an earlier rotation stops.
   * False for an unknown channel.
   */
  rotateChannelKey(channel: string, keyHash: string, previousValidUntil: number | null, now: number): Promise<boolean>;
  /** the channel whose read-only key (current, or replaced and still in its grace period at `now`) has this digest */
  channelForKey(keyHash: string, now: number): Promise<string | null>;
  /** the channel's newest `limit` streams (by creation, then id descending), each with what was recorded at its end */
  channelStreams(channel: string, limit: number): Promise<ChannelStreamRow[]>;
  /** a stream's viewers by their tier now, and the moves since each one's latest recorded stream end (a live stream's) */
  tierMovesNow(channel: string, streamId: string): Promise<TierMoves>;
  /** the channel's viewers by their tier now */
  channelTiers(channel: string): Promise<Record<Tier, number>>;

  // the lifecycle sweep (services/lifecycle-sweep.ts)
  /** every channel's id, in id order */
  listChannels(): Promise<string[]>;
  /**
   * Stored viewers of the channel whose lifecycle time alone may have moved, in id order after
   * `after` (null: from the start), at most `limit`: `new` or `active` and last seen before
   * `seenBefore` (at_risk), not `lapsed` with a last purchase before `boughtBefore` (lapsed), `new`
   * and first seen before `firstSeenBefore` (active). Each with the facts the move derives from.
   */
  lifecycleDue(
    channel: string,
    cut: { seenBefore: number; boughtBefore: number; firstSeenBefore: number },
    after: string | null,
    limit: number,
  ): Promise<{ viewerId: string; lifecycle: string; lastSeenAt: number; lastPurchaseAt: number | null }[]>;

  // the end of a stream
  /** marks the streams with viewers connected at `now` as active (each process, about once a minute, for its own viewers) */
  touchStreams(ids: string[], now: number): Promise<void>;
  /** up to `limit` streams not ended whose last activity (or creation, if none) is before `before` */
  idleStreams(before: number, limit: number): Promise<StreamRow[]>;
  /**
   * Ends the stream once (a conditional update: of concurrent calls on any process one wins, and
   * only the winner's `event` is fanned out, in the same transaction); `now: false` when it had
   * ended before. null: no such stream. The winner also records, in that transaction, the tier of
   * each of the stream's viewers then (beside the tier at the end of their previous stream in the
   * channel), the counts of those (`ChannelStreamRow.atEnd`) and `peakConnected`.
   */
  endStream(streamId: string, now: number, event: (s: StreamRow) => WebhookEvent, peakConnected?: number): Promise<{ endedAt: number; now: boolean } | null>;

  // webhooks (webhooks/events.ts). Besides these, the stores fan out, in the transaction of the
  // change: purchase.recorded and offer.redeemed (recordPurchase), purchase.refunded (refund, when
  // the refunded total grew), offer.redeemed (redeem, a first redemption), offer.issued
  // (issueOffers) and a reasons job's `webhooks`. Fan-out writes one delivery per enabled endpoint
  // of the channel subscribed to the type, and nothing when there is none.
  createWebhook(w: WebhookRow): Promise<void>;
  listWebhooks(channel: string): Promise<WebhookRow[]>;
  getWebhook(channel: string, id: string): Promise<WebhookRow | null>;
  /** enabling clears disabledReason and failingSince; null: no such endpoint */
  updateWebhook(channel: string, id: string, patch: WebhookPatch, now: number): Promise<WebhookRow | null>;
  /** deletes the endpoint and its deliveries */
  deleteWebhook(channel: string, id: string): Promise<boolean>;
  /** fans events out on their own (stream.ended outside endStream, tests); `onlyWebhookId`: to that endpoint alone, enabled or subscribed or not (webhook.test) */
  enqueueWebhooks(events: WebhookEvent[], now: number, onlyWebhookId?: string): Promise<number>;
  /** up to `limit` pending deliveries due at `now` of enabled endpoints, oldest first, each held until now + leaseMs */
  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt: ok → delivered, and the endpoint's failingSince cleared; failed → pending
   * again at `nextAt` (or failed when null), and the endpoint's failingSince set if it was null.
   */
  finishDelivery(id: string, attempt: DeliveryAttempt): Promise<void>;
  /** the endpoint's newest deliveries first */
  listDeliveries(channel: string, webhookId: string, limit: number): Promise<DeliveryRow[]>;
  /** deletes delivered and failed deliveries last attempted before `before`, and any whose endpoint is gone; returns how many */
  pruneDeliveries(before: number): Promise<number>;

  // retention
  /**
   * Deletes events received before `cutoff`, a bounded piece at a time; returns how many went (0:
   * nothing left). SQLite deletes at most `batch` rows per call; PostgreSQL drops whole day
   * partitions that end before `cutoff` (one statement each, whatever their size) and deletes at
   * most `batch` rows of its DEFAULT partition.
   */
  purgeEvents(cutoff: number, batch: number): Promise<number>;
}

/** The database cannot be reached (or stopped answering): retry later. */
export class StoreUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(
    message: string,
    /** a hint for clients: when to try again */
    readonly retryAfterMs = 1000,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
