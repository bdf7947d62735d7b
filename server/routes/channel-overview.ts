/**
 * A channel seen whole:
 *   GET  /v1/channels/:channel/overview     its newest streams compared, and its viewers by tier
 *                                           (the admin key, or the channel's read-only key)
 *   POST /v1/channels/:channel/keys/rotate  a new read-only key for the channel (admin); the old one
 *                                           keeps working for `graceSeconds` (default 0)
 * The numbers are defined in services/overview.ts (and docs/api.md); the page /channel/:channel
 * shows them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { documented, errorReply, Slug } from './schemas.js';
import { HttpError, notFound, requireAdmin, requireChannelReader } from './guards.js';
import { RotateBody } from './keys.js';
import { rotateChannelKey } from '../auth/channelKeys.js';
import { channelOverview } from '../services/overview.js';
import type { ChannelStreamRow } from '../store/types.js';

const Params = Type.Object({ channel: Slug });
const Count = Type.Integer({ minimum: 0 });
const Share = Type.Number({ minimum: 0, maximum: 1, description: 'a share, 4 decimals' });
const Nullable = <T extends object>(t: T, description: string) => Type.Union([t, Type.Null()], { description });

const Uplift = Type.Object(
  {
    campaigns: Type.Integer({ description: 'campaigns of the stream that held viewers back and reached some: the ones pooled' }),
    absolute: Nullable(Type.Number(), 'treated − control conversion, pooled over those campaigns (Mantel–Haenszel weights); null without one'),
    ci95: Nullable(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), 'its 95% confidence interval [low, high]'),
    n: Type.Object({ treated: Count, control: Count }, { description: 'viewers in each arm, over the pooled campaigns' }),
    conversions: Type.Object({ treated: Count, control: Count }),
    enoughData: Type.Boolean({ description: 'false while the sample is too small for the interval to mean much (each arm ≥ 30, each cell ≥ 5)' }),
  },
  { description: "the stream's measured uplift: its campaigns with a holdout, pooled, each with its own attribution window" },
);

const StreamItem = Type.Object({
  id: Type.String(),
  title: Type.String(),
  startedAt: Type.Integer({ description: "the stream's creation (ms since epoch)" }),
  endedAt: Nullable(Type.Integer(), 'when it ended; null: live'),
  lengthMs: Count,
  audience: Type.Integer({ description: 'unique viewers of the stream' }),
  peak: Nullable(Type.Integer(), 'the most viewers connected at once (recorded at its end; live: so far); null when nothing recorded it'),
  gmv: Type.Integer({ description: 'verified GMV net of refunds (minor units of `currency`)' }),
  orders: Count,
  gpm: Type.Integer({ description: 'GMV per 1,000 viewers (minor units)' }),
  uvValue: Type.Integer({ description: 'GMV per viewer (minor units)' }),
  conversion: { ...Share, description: 'viewers with a verified purchase in the stream ÷ viewers' },
  returningShare: { ...Share, description: 'viewers the channel knew before the stream began ÷ viewers' },
  offers: Type.Object({ issued: Count, redeemed: Count }),
  uplift: Uplift,
});

const TierCount = (description: string) => Nullable(Type.Integer({ minimum: 0 }), description);
const PerStream = Type.Object({
  streamId: Type.String(),
  asOf: Type.Union([Type.Literal('end'), Type.Literal('now'), Type.Null()], {
    description: "`end`: the stream's viewers by their tier when it ended; `now`: a live stream's viewers by their tier now; null: it ended before ends were recorded (the counts are null)",
  }),
  high: TierCount('viewers of the stream in the high tier'),
  mid: TierCount('… in the mid tier'),
  potential: TierCount('… in the potential tier'),
  movedUp: TierCount('viewers whose tier is higher than at the end of the previous stream they watched in the channel'),
  movedDown: TierCount('… lower than then (a viewer with no earlier stream counts in neither)'),
});

const Overview = Type.Object({
  channel: Type.String(),
  currency: Nullable(Type.String(), "the channel's currency (ISO 4217); null until a stream or a purchase set it"),
  streams: Type.Array(StreamItem, { description: 'newest first' }),
  tiers: Type.Object({
    now: Type.Object({ high: Count, mid: Count, potential: Count }, { description: "the channel's viewers by their tier now" }),
    perStream: Type.Array(PerStream, { description: 'one per stream, in the order of `streams`' }),
  }),
});

const STREAM_EXAMPLE = {
  id: 'spring-sale', title: 'Spring sale live', startedAt: 1746102600000, endedAt: 1746109800000, lengthMs: 7200000,
  audience: 1200, peak: 430, gmv: 9000000, orders: 48, gpm: 7500000, uvValue: 7500, conversion: 0.0375, returningShare: 0.4167,
  offers: { issued: 380, redeemed: 31 },
  uplift: { campaigns: 2, absolute: 0.0412, ci95: [0.0088, 0.0736], n: { treated: 412, control: 46 }, conversions: { treated: 31, control: 1 }, enoughData: true },
};

const OVERVIEW_EXAMPLE = {
  channel: 'shop-1',
  currency: 'CNY',
  streams: [STREAM_EXAMPLE],
  tiers: {
    now: { high: 64, mid: 310, potential: 2950 },
    perStream: [{ streamId: 'spring-sale', asOf: 'end', high: 41, mid: 190, potential: 969, movedUp: 37, movedDown: 12 }],
  },
};

const Rotated = Type.Object({
  channel: Type.String(),
  channelKey: Type.String({ description: 'the new read-only key: shown only here (stored as a digest)' }),
  graceSeconds: Type.Integer(),
  previousValidUntil: Nullable(Type.Integer(), 'until when the replaced key keeps working; null: it stopped at once'),
});

/** the most streams one overview compares, and how many without `?limit` */
export const OVERVIEW_MAX_STREAMS = 100;
export const OVERVIEW_DEFAULT_STREAMS = 20;

export const channelOverviewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const unknownChannel = errorReply(404, 'not_found', 'unknown channel shop-1');

  app.get(
    '/v1/channels/:channel/overview',
    {
      preHandler: requireChannelReader,
      schema: {
        tags: ['channels'],
        operationId: 'channelOverview',
        summary: "A channel's streams compared, and its viewers by tier",
        description:
          "The channel's newest streams (`limit` 1–100, default 20), newest first: when, how long, audience, peak, GMV, orders, GPM, UV value, conversion, returning share, offers and the pooled uplift of its campaigns with a holdout; and its viewers by tier, now and per stream (at its end, or now while it is live), with how many moved up or down since their previous stream. With the admin key or the channel's read-only key (`POST /v1/channels/{channel}/keys/rotate`). Other query parameters are ignored.",
        params: Params,
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–100, default 20' })) }),
        security: [{ adminKey: [] }, { channelKey: [] }],
        response: {
          200: documented(Overview, "The channel's overview", OVERVIEW_EXAMPLE),
          400: errorReply(400, 'bad_request', 'querystring.limit must be 1–100', 'A bad parameter: the message names it'),
          403: errorReply(403, 'forbidden', "this key is another channel's key", "A valid key that does not read this channel's overview: another channel's key, a stream key"),
          404: unknownChannel,
        },
      },
    },
    async (req) => {
      const { channel } = req.params;
      const limit = req.query.limit === undefined ? OVERVIEW_DEFAULT_STREAMS : Number(req.query.limit);
      if (limit < 1 || limit > OVERVIEW_MAX_STREAMS) throw new HttpError(400, 'bad_request', `querystring.limit must be 1–${OVERVIEW_MAX_STREAMS}`);
      if (!(await app.store.channelExists(channel))) throw notFound(`unknown channel ${channel}`);
      const dashboard = app.realtime.hosts.dashboard;
      return channelOverview(
        {
          store: app.store,
          now: app.engine.now(),
          // as the stream's report reads it
          livePeak: async (s: ChannelStreamRow) => {
            const summary = await app.engine.summary(s.id);
            await dashboard.ready(s.id);
            return Math.max(dashboard.peakConnected(s.id), summary?.connected ?? 0);
          },
        },
        channel,
        limit,
      );
    },
  );

  app.post(
    '/v1/channels/:channel/keys/rotate',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['channels'],
        operationId: 'rotateChannelKey',
        summary: "Issue or rotate a channel's read-only key",
        description:
          "A new `lt_channel_…` key that reads only this channel's overview (and its page, /channel/{channel}); shown only in this answer. The key it replaces keeps working for `graceSeconds` (0–604800, default 0: it stops at once), then answers 401; a second rotation during a grace period ends the older key's grace. No body is the same as `{}`.",
        params: Params,
        body: Type.Union([RotateBody, Type.Null()]),
        response: {
          200: documented(Rotated, 'The new key (shown only here)', {
            channel: 'shop-1', channelKey: 'lt_channel_5Hq2nV8cX1mZ7kP0wR4tY9bL', graceSeconds: 3600, previousValidUntil: 1746106200000,
          }),
          404: unknownChannel,
        },
      },
    },
    async (req) => {
      const { channel } = req.params;
      const graceSeconds = req.body?.graceSeconds ?? 0;
      const r = await rotateChannelKey(app.store, channel, graceSeconds);
      if (!r) throw notFound(`unknown channel ${channel}`);
      return { channel, channelKey: r.channelKey, graceSeconds, previousValidUntil: r.previousValidUntil };
    },
  );
};
