/**
 * A channel's overview (GET /v1/channels/:channel/overview): its newest streams compared side by
 * side, and its viewers by tier, now and at the end of each stream.
 *
 * Every number of a stream is the one its report shows (routes/reports.ts buildReport, the
 * definitions in stats/kpis.ts), read from the stored aggregates, never from raw events:
 *   - the stream's totals (orders, GMV, offers: purchases and offers by stream), its viewers'
 *     counters (viewer_streams: audience, returning) and its buyers: a pass over the stream's
 *     viewers, as the report's funnel and KPIs make;
 *   - its tiers and peak: for an ended stream, the counts its end recorded (one row); for a live
 *     one, its viewers' tiers now against the tiers recorded at their previous stream's end, and
 *     the live dashboard's peak;
 *   - its uplift: the campaigns that held viewers back, pooled (offers/uplift.ts pooledUplift),
 *     each campaign's arms as its own stats count them.
 * So a request costs, per listed stream, a few indexed reads and one pass over that stream's
 * viewers and campaign assignments: bounded by `limit` streams, whatever the channel's history.
 */
import type { ChannelStreamRow, Store, TierMoves } from '../store/types.js';
import type { Tier } from '../realtime/events.js';
import { streamKpis, streamLengthMs } from '../stats/kpis.js';
import { pooledUplift, type Stratum } from '../offers/uplift.js';
import { DEFAULT_ATTRIBUTION_HOURS } from '../offers/campaign.js';

export interface OverviewDeps {
  store: Store;
  now: number;
  /** a live stream's peak so far (the live dashboard's, as in its report) */
  livePeak: (stream: ChannelStreamRow) => Promise<number>;
}

export interface StreamComparison {
  id: string;
  title: string;
  startedAt: number;
  endedAt: number | null;
  lengthMs: number;
  audience: number;
  peak: number | null;
  gmv: number;
  orders: number;
  gpm: number;
  uvValue: number;
  conversion: number;
  returningShare: number;
  offers: { issued: number; redeemed: number };
  uplift: ReturnType<typeof pooledUplift>;
}

/** a stream's viewers by tier (TierMoves), each count null when nothing says (`asOf` null) */
export type StreamTiers = { streamId: string; /** `end`: recorded when the stream ended; `now`: a live stream's viewers as they are now; null: it ended before ends were recorded */ asOf: 'end' | 'now' | null } & {
  [K in keyof TierMoves]: number | null;
};

export interface ChannelOverview {
  channel: string;
  currency: string | null;
  streams: StreamComparison[];
  tiers: { now: Record<Tier, number>; perStream: StreamTiers[] };
}

const rate = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10_000 : 0);
const NO_TIERS = { high: null, mid: null, potential: null, movedUp: null, movedDown: null } as const;

/** The overview of `channel`'s newest `limit` streams, newest first. */
export async function channelOverview(deps: OverviewDeps, channel: string, limit: number): Promise<ChannelOverview> {
  const { store } = deps;
  const [rows, currency, tiersNow] = await Promise.all([store.channelStreams(channel, limit), store.getChannelCurrency(channel), store.channelTiers(channel)]);
  const streams: StreamComparison[] = [];
  const perStream: StreamTiers[] = [];
  // one stream at a time: a page of 100 streams never takes the whole pool from ingest
  for (const row of rows) {
    const [compared, tiers] = await Promise.all([compare(deps, row), tiersOf(store, row)]);
    streams.push(compared);
    perStream.push(tiers);
  }
  return { channel, currency, streams, tiers: { now: tiersNow, perStream } };
}

async function compare(deps: OverviewDeps, row: ChannelStreamRow): Promise<StreamComparison> {
  const { store, now } = deps;
  const lengthMs = streamLengthMs(row, now);
  const [totals, engagement, funnel, peak, uplift] = await Promise.all([
    store.streamTotals(row.id),
    store.streamEngagement(row.channel, row.id, row.createdAt, lengthMs),
    store.funnel(row.channel, row.id),
    peakOf(deps, row),
    upliftOf(store, row),
  ]);
  const kpis = streamKpis(engagement, { gmv: totals.gmv, buyers: funnel.total.purchases }, peak ?? 0);
  return {
    id: row.id,
    title: row.title,
    startedAt: row.createdAt,
    endedAt: row.endedAt,
    lengthMs,
    audience: totals.audience,
    peak,
    gmv: totals.gmv,
    orders: totals.orders,
    gpm: kpis.gpm,
    uvValue: kpis.uvValue,
    conversion: kpis.conversion,
    returningShare: rate(engagement.returning, engagement.viewers),
    offers: { issued: totals.offers.issued, redeemed: totals.offers.redeemed },
    uplift,
  };
}

/** recorded at the end; live: the dashboard's; ended before ends recorded it: the stored trend's highest point */
async function peakOf(deps: OverviewDeps, row: ChannelStreamRow): Promise<number | null> {
  if (row.atEnd) return row.atEnd.peakConnected;
  if (row.endedAt === null) return deps.livePeak(row);
  const { points } = await deps.store.hostHistory(row.id, 0);
  return points.length ? points.reduce((m, p) => Math.max(m, p.connected), 0) : null;
}

async function tiersOf(store: Store, row: ChannelStreamRow): Promise<StreamTiers> {
  if (row.atEnd) {
    const { peakConnected: _peak, ...moves } = row.atEnd;
    return { streamId: row.id, asOf: 'end', ...moves };
  }
  if (row.endedAt === null) return { streamId: row.id, asOf: 'now', ...(await store.tierMovesNow(row.channel, row.id)) };
  return { streamId: row.id, asOf: null, ...NO_TIERS };
}

/** the stream's campaigns that held viewers back, pooled; each campaign's arms over its own attribution window */
async function upliftOf(store: Store, row: ChannelStreamRow) {
  const held = (await store.listCampaigns(row.id)).filter((c) => (c.doc.holdoutPercent ?? 0) > 0);
  const strata: Stratum[] = [];
  for (const c of held) {
    const arms = await store.campaignArms(row.id, c.id, row.channel, (c.doc.attributionHours ?? DEFAULT_ATTRIBUTION_HOURS) * 3_600_000);
    const arm = (name: 'treatment' | 'control') => arms.find((a) => a.arm === name) ?? { n: 0, conversions: 0 };
    strata.push({ treated: arm('treatment'), control: arm('control') });
  }
  return pooledUplift(strata);
}
