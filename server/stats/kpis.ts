/**
 * The numbers live-commerce hosts read on Douyin's and TikTok Shop's LIVE dashboards, for one
 * stream. Pure: the caller passes the counts (store.streamEngagement, the funnel, the summary).
 * Each is defined once here and in docs/api.md:
 *
 *   viewers            unique viewers of the stream (a viewer who comes back is one viewer)
 *   gpm                GMV per 1,000 viewers (minor units): verified GMV × 1000 ÷ viewers
 *   uvValue            UV value: verified GMV ÷ viewers (minor units)
 *   avgWatchSeconds    credited watch time ÷ viewers, each viewer's capped at the stream's length (s)
 *   peakConnected      the most viewers connected at once
 *   commentRate        viewers who commented ÷ viewers
 *   productClickRate   viewers with a product view ÷ viewers
 *   addToCartRate      viewers who added to cart ÷ viewers
 *   conversion         viewers with a verified purchase in the stream ÷ viewers
 *   newViewers         viewers first seen in the channel during this stream
 *   returningViewers   viewers the channel knew before the stream began (an earlier stream, or an order)
 *
 * Rates have 4 decimals; a stream with no viewer has 0 everywhere.
 */
import type { StreamEngagement } from '../store/types.js';
import type { StreamKpis } from '../realtime/events.js';

export type { StreamKpis };

const rate = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10_000 : 0);

export function streamKpis(e: StreamEngagement, sales: { gmv: number; buyers: number }, peakConnected: number): StreamKpis {
  const v = e.viewers;
  return {
    viewers: v,
    gpm: v ? Math.round((sales.gmv * 1000) / v) : 0,
    uvValue: v ? Math.round(sales.gmv / v) : 0,
    avgWatchSeconds: v ? Math.round(e.watchMs / v / 1000) : 0,
    peakConnected,
    commentRate: rate(e.commenters, v),
    productClickRate: rate(e.productViewers, v),
    addToCartRate: rate(e.carters, v),
    conversion: rate(sales.buyers, v),
    newViewers: v - e.returning,
    returningViewers: e.returning,
  };
}

/** the cap on each viewer's watch time: the stream's length so far (or until it ended) */
export const streamLengthMs = (stream: { createdAt: number; endedAt: number | null }, now: number) => Math.max(0, (stream.endedAt ?? now) - stream.createdAt);
