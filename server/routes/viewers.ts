/**
 * Viewers: the host's list with filters, sort and cursor, one viewer's detail with
 * scores and reasons, and the admin's export and erasure of a viewer's data in a channel.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { documented, errorReply, Slug, StreamParams, TierName, ViewerId } from './schemas.js';
import { HttpError, notFound, requireAdmin, requireHost } from './guards.js';
import { viewerRoom } from '../realtime/rooms.js';
import type { ViewerSort } from '../store/types.js';
import { answerLang, ExplainSchema, LangQuery } from './lang.js';
import { explainAll, type ReasonLang } from '../tiering/explain.js';

export const LifecycleName = Type.Union([Type.Literal('new'), Type.Literal('active'), Type.Literal('at_risk'), Type.Literal('lapsed')]);
const Score = Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()]);
const Scores = Type.Object({ recency: Score, frequency: Score, monetary: Score, engagement: Type.Integer({ minimum: 1, maximum: 5 }) });
const Stats = Type.Object({
  watchSeconds: Type.Integer(),
  comments: Type.Integer(),
  likes: Type.Integer(),
  productViews: Type.Integer(),
  addToCarts: Type.Integer(),
  purchases: Type.Integer(),
  spend: Type.Integer(),
  firstSeenAt: Type.Integer(),
  lastSeenAt: Type.Integer(),
  lastPurchaseAt: Type.Union([Type.Integer(), Type.Null()]),
});
const ThisStream = Type.Object({
  watchSeconds: Type.Integer(),
  comments: Type.Integer(),
  likes: Type.Integer(),
  productViews: Type.Integer(),
  addToCarts: Type.Integer(),
  checkouts: Type.Integer(),
});
export const Predicted = Type.Union(
  [
    Type.Object({
      pAlive: Type.Number({ minimum: 0, maximum: 1, description: 'the chance this buyer still buys (BG/NBD)' }),
      expectedOrders90d: Type.Number({ minimum: 0, description: 'purchase days expected in the next 90 days' }),
      expectedOrderValue: Type.Integer({ description: 'expected value of one order, minor units (Gamma-Gamma; the channel mean without one)' }),
      clv365d: Type.Integer({ description: 'expected value of the next 365 days, minor units, discounted 1% a month' }),
      currency: Type.String(),
    }),
    Type.Null(),
  ],
  { description: "From the channel's model (GET /v1/streams/:id/model); null until it is fitted, or for a viewer with no verified purchase" },
);

const Viewer = Type.Object({
  id: Type.String(),
  tier: TierName,
  lifecycle: LifecycleName,
  reasons: Type.Array(Type.String(), { description: 'Why the tier and lifecycle, in the language asked (`?lang`, `Accept-Language`)' }),
  explain: ExplainSchema,
  predicted: Predicted,
  verified: Type.Boolean(),
  connected: Type.Boolean(),
  scores: Scores,
  stats: Stats,
  thisStream: ThisStream,
});

const VIEWER_EXAMPLE = {
  id: 'user-42',
  tier: 'high',
  lifecycle: 'active',
  reasons: ['3 verified orders, ¥3,897 in 90 days (high needs 2+ orders and ¥1,000+)', 'active: last seen today'],
  explain: [
    { code: 'tier.high', params: { orders: 3, spend: 389700, currency: 'CNY', windowDays: 90, minOrders: 2, minSpend: 100000 } },
    { code: 'lifecycle.active', params: { days: 0 } },
  ],
  predicted: { pAlive: 0.87, expectedOrders90d: 1.42, expectedOrderValue: 121300, clv365d: 498000, currency: 'CNY' },
  verified: true,
  connected: true,
  scores: { recency: 5, frequency: 4, monetary: 5, engagement: 3 },
  stats: {
    watchSeconds: 5400, comments: 12, likes: 40, productViews: 9, addToCarts: 3, purchases: 3, spend: 389700,
    firstSeenAt: 1743510600000, lastSeenAt: 1746102600000, lastPurchaseAt: 1746102000000,
  },
  thisStream: { watchSeconds: 1800, comments: 4, likes: 15, productViews: 3, addToCarts: 1, checkouts: 1 },
};

const unknownViewer = errorReply(404, 'not_found', 'unknown viewer user-42 in channel shop-1', 'A viewer unknown in the channel');

/** cursor: base64url of [sort, key, id] of the last row of the previous page */
function encodeCursor(sort: ViewerSort, key: number, id: string): string {
  return Buffer.from(JSON.stringify([sort, key, id])).toString('base64url');
}
function decodeCursor(cursor: string, sort: ViewerSort): { key: number; id: string } {
  try {
    const [s, key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (s === sort && typeof key === 'number' && typeof id === 'string') return { key, id };
  } catch {}
  throw new HttpError(400, 'bad_request', 'querystring.cursor is not a cursor of this list (take nextCursor from the previous page, same sort)');
}

export const viewerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** the answer for one viewer; null when unknown in the channel */
  async function viewerOut(channel: string, streamId: string, viewerId: string, lang: ReasonLang) {
    const d = await app.engine.viewerDetail(channel, viewerId);
    if (!d) return null;
    const [row, vs] = await Promise.all([app.store.getViewer(channel, viewerId), app.store.getViewerStream(streamId, viewerId)]);
    return {
      id: viewerId,
      tier: d.tier,
      lifecycle: d.lifecycle,
      reasons: explainAll(d.explain, lang),
      explain: d.explain,
      predicted: await app.models.predict(channel, d.purchases, d.currency),
      verified: !!row?.verified,
      connected: !!app.engine.streams.get(streamId)?.present.has(viewerId),
      scores: d.scores,
      stats: {
        watchSeconds: Math.floor(d.stats.watchMs / 1000),
        comments: d.stats.comments,
        likes: d.stats.likes,
        productViews: d.stats.productViews,
        addToCarts: d.stats.addToCarts,
        purchases: d.stats.purchases,
        spend: d.stats.spend,
        firstSeenAt: d.stats.firstSeenAt,
        lastSeenAt: d.stats.lastSeenAt,
        lastPurchaseAt: d.stats.lastPurchaseAt,
      },
      thisStream: {
        watchSeconds: Math.floor((vs?.watchMs ?? 0) / 1000),
        comments: vs?.comments ?? 0,
        likes: vs?.likes ?? 0,
        productViews: vs?.productViews ?? 0,
        addToCarts: vs?.addToCarts ?? 0,
        checkouts: vs?.checkouts ?? 0,
      },
    };
  }

  app.get(
    '/v1/streams/:id/viewers',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'listViewers',
        summary: "The stream's audience, filtered, sorted and paged",
        description:
          '`sort`: `recent` (default: last seen in this stream), `value` (net verified spend in the channel), `engagement` (recency-weighted), `predicted` (the 12-month value as of the channel’s last model fit; viewers without one last). `limit` 1–1000 (default 500). `cursor`: the previous page\'s `nextCursor` (same `sort`); `nextCursor` is null on the last page. Other query parameters are ignored.',
        params: StreamParams,
        querystring: Type.Object(
          {
            tier: Type.Optional(TierName),
            lifecycle: Type.Optional(LifecycleName),
            sort: Type.Optional(Type.Union([Type.Literal('value'), Type.Literal('engagement'), Type.Literal('recent'), Type.Literal('predicted')])),
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
            cursor: Type.Optional(Type.String({ maxLength: 600 })),
            lang: LangQuery,
          },
          // other parameters are ignored (cache busters and the like)
        ),
        response: {
          200: documented(Type.Object({ viewers: Type.Array(Viewer), nextCursor: Type.Union([Type.String(), Type.Null()]) }), 'A page of viewers', {
            viewers: [VIEWER_EXAMPLE], nextCursor: null,
          }),
          400: errorReply(400, 'bad_request', 'querystring.cursor is not a cursor of this list (take nextCursor from the previous page, same sort)', 'A bad parameter or cursor: the message names it'),
        },
      },
    },
    async (req, reply) => {
      const stream = req.keyStream!;
      const lang = answerLang(req, reply);
      const sort: ViewerSort = req.query.sort ?? 'recent';
      const limit = Math.min(Math.max(Number(req.query.limit ?? 500), 1), 1000);
      const after = req.query.cursor ? decodeCursor(req.query.cursor, sort) : null;
      const rows = await app.store.listViewers({
        channel: stream.channel, streamId: stream.id, tier: req.query.tier ?? null, lifecycle: req.query.lifecycle ?? null, sort, limit, after,
      });
      const last = rows[rows.length - 1];
      // the stored tier and lifecycle select the rows; the live profile has the last word
      const viewers = (await Promise.all(rows.map((r) => viewerOut(stream.channel, stream.id, r.id, lang))))
        .filter((v): v is NonNullable<typeof v> => !!v && (!req.query.tier || v.tier === req.query.tier) && (!req.query.lifecycle || v.lifecycle === req.query.lifecycle));
      return { viewers, nextCursor: rows.length === limit && last ? encodeCursor(sort, last.sortKey, last.id) : null };
    },
  );

  app.get(
    '/v1/streams/:id/viewers/:viewerId',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'getViewer',
        summary: 'One viewer: tier, lifecycle, scores and the reasons for them',
        description: 'Scores are 1–5; `recency`, `frequency` and `monetary` are null without a verified purchase in the lookback.',
        params: Type.Object({ id: Slug, viewerId: ViewerId }),
        querystring: Type.Object({ lang: LangQuery }),
        response: {
          200: documented(Viewer, 'The viewer', VIEWER_EXAMPLE),
          400: errorReply(400, 'bad_request', 'querystring.lang must be one of en, zh-CN', 'A language this server has no words for'),
          404: unknownViewer,
        },
      },
    },
    async (req, reply) => {
      const stream = req.keyStream!;
      const lang = answerLang(req, reply);
      const v = await viewerOut(stream.channel, stream.id, req.params.viewerId, lang);
      if (!v) throw notFound(`unknown viewer ${req.params.viewerId} in channel ${stream.channel}`);
      return v;
    },
  );

  const ChannelQuery = Type.Object({ channel: Slug }, { additionalProperties: false });
  const ViewerParams = Type.Object({ viewerId: ViewerId });

  app.get(
    '/v1/viewers/:viewerId/export',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['viewers'],
        operationId: 'exportViewer',
        summary: "Export every row stored about a viewer in a channel (the data subject's copy)",
        params: ViewerParams,
        querystring: ChannelQuery,
        response: {
          200: documented(Type.Object({
            channel: Type.String(),
            viewerId: Type.String(),
            exportedAt: Type.Integer(),
            tier: TierName,
            lifecycle: LifecycleName,
            reasons: Type.Array(Type.String(), { description: 'In English' }),
            explain: ExplainSchema,
            scores: Scores,
            predicted: Predicted,
            viewer: Type.Unknown(),
            streams: Type.Array(Type.Unknown()),
            events: Type.Array(Type.Unknown()),
            purchases: Type.Array(Type.Unknown()),
            offers: Type.Array(Type.Unknown()),
            aliases: Type.Array(Type.Unknown()),
          }), 'What is stored: the viewer row, per-stream rows, events, purchases, offers and aliases'),
          404: unknownViewer,
        },
      },
    },
    async (req) => {
      const data = await app.engine.exportViewer(req.query.channel, req.params.viewerId);
      if (!data) throw notFound(`unknown viewer ${req.params.viewerId} in channel ${req.query.channel}`);
      const d = await app.engine.viewerDetail(req.query.channel, req.params.viewerId);
      return { ...data, predicted: d ? await app.models.predict(req.query.channel, d.purchases, d.currency) : null };
    },
  );

  app.delete(
    '/v1/viewers/:viewerId',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['viewers'],
        operationId: 'eraseViewer',
        summary: "Erase a viewer's data in a channel",
        description:
          "Closes the viewer's sockets, deletes their viewer and per-stream rows, events and aliases; their purchases and offers stay for the merchant's accounting under an anonymous id (`erased:…`, items removed). Afterwards requests for them get 404.",
        params: ViewerParams,
        querystring: ChannelQuery,
        response: {
          200: documented(Type.Object({ erased: Type.Boolean(), channel: Type.String(), viewerId: Type.String() }), 'Erased', {
            erased: true, channel: 'shop-1', viewerId: 'user-42',
          }),
          404: unknownViewer,
        },
      },
    },
    async (req) => {
      const { channel } = req.query;
      const { viewerId } = req.params;
      // their open sockets go first, so the live counts drop them through the normal leave path
      app.io.of('/viewer').in(viewerRoom(channel, viewerId)).disconnectSockets(true);
      if (!(await app.engine.erase(channel, viewerId))) throw notFound(`unknown viewer ${viewerId} in channel ${channel}`);
      return { erased: true, channel, viewerId };
    },
  );
};
