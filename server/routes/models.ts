/**
 * The channel's predictive model (issue 15), read with the stream's host key:
 *   GET  /v1/streams/:id/model        the model: status, when fitted, buyers, BG/NBD and Gamma-Gamma parameters
 *   POST /v1/streams/:id/model/refit  fits it again now (202; the fit runs in a worker thread)
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { documented, errorReply, StreamParams } from './schemas.js';
import { answerLang, ExplainSchema, LangQuery } from './lang.js';
import { explainText, reason } from '../tiering/explain.js';
import { requireHost } from './guards.js';
import { CROSS_SELL_MIN_CONFIDENCE, CROSS_SELL_MIN_SUPPORT } from '../predict/channel-model.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ModelOut = Type.Object({
  status: Type.Union([Type.Literal('fitted'), Type.Literal('insufficient_data'), Type.Literal('fitting')], {
    description: '`insufficient_data`: fewer buyers than `minBuyers`, or fewer than 20 of them bought twice; the channel then runs on its RFM rules only. `fitting`: the first fit is under way',
  }),
  fittedAt: Nullable(Type.Integer()),
  buyers: Type.Integer({ description: 'buyers with a verified purchase (net of refunds) at the fit' }),
  repeatBuyers: Type.Integer({ description: 'of them, those who bought on two or more days' }),
  bgnbd: Nullable(Type.Object({ r: Type.Number(), alpha: Type.Number(), a: Type.Number(), b: Type.Number(), logLikelihood: Type.Number() }, { description: 'BG/NBD, in weeks' })),
  gammaGamma: Nullable(Type.Object({ p: Type.Number(), q: Type.Number(), v: Type.Number() }, { description: 'Gamma-Gamma spend per order, in minor units; null with fewer than 20 repeat buyers' })),
  minBuyers: Type.Integer(),
  refitting: Type.Boolean({ description: 'a refit is under way; the values are the last fit\'s' }),
});

const EXAMPLE = {
  status: 'fitted', fittedAt: 1746106200000, buyers: 2357, repeatBuyers: 1189,
  bgnbd: { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258, logLikelihood: -9582.43 }, gammaGamma: { p: 6.25, q: 3.74, v: 15.44 },
  minBuyers: 200, refitting: false,
};

const CrossSellOut = Type.Object({
  fittedAt: Nullable(Type.Integer()),
  orders: Type.Integer({ description: 'verified orders with SKUs that were mined' }),
  minSupport: Type.Number(),
  minConfidence: Type.Number(),
  rules: Type.Array(
    Type.Object({
      if: Type.Array(Type.String()),
      then: Type.Array(Type.String()),
      support: Type.Number({ description: 'share of the orders with items holding both' }),
      confidence: Type.Number({ description: 'share of the orders holding `if` that also hold `then`' }),
      lift: Type.Number({ description: 'confidence ÷ the share of orders holding `then`' }),
      orders: Type.Integer({ description: 'orders holding both' }),
    }),
  ),
});

const SegmentsOut = Type.Object({
  fittedAt: Nullable(Type.Integer()),
  buyers: Type.Integer(),
  k: Type.Integer({ description: 'segments found (2–8, by the silhouette); 0 before a fit or with fewer than 30 buyers' }),
  silhouette: Nullable(Type.Number()),
  segments: Type.Array(
    Type.Object({
      id: Type.Integer(),
      buyers: Type.Integer(),
      share: Type.Number({ description: 'share of the buyers' }),
      gmvShare: Type.Number({ description: 'share of the GMV of the last 365 days' }),
      ordersPerMonth: Type.Number({ description: 'the typical member: purchase days a month' }),
      spend: Type.Integer({ description: 'the typical member: spend in 365 days, minor units' }),
      spendRatio: Type.Number({ description: 'mean spend of the segment ÷ mean spend of all buyers' }),
      recencyDays: Type.Integer({ description: 'the typical member: days since the last purchase' }),
      engagement: Type.Number({ description: 'the typical member: recency-weighted engagement points' }),
      description: Type.String({ description: 'the traits in words, in the language asked' }),
      explain: ExplainSchema,
    }),
  ),
});

export const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/streams/:id/segments',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'getSegments',
        summary: 'The segments of buyers the data finds',
        description:
          "K-means over each buyer's log-scaled recency, frequency, monetary value and engagement in the last 365 days, K from 2 to 8 chosen by the silhouette (sampled), found with each model fit; each segment with its shares and traits in words (`?lang=en|zh-CN` or `Accept-Language`). Largest first.",
        params: StreamParams,
        querystring: Type.Object({ lang: LangQuery }),
        response: {
          200: documented(SegmentsOut, 'The segments of the last fit (none before one)', {
            fittedAt: 1746106200000, buyers: 2357, k: 3, silhouette: 0.41,
            segments: [{
              id: 0, buyers: 354, share: 0.15, gmvShare: 0.4, ordersPerMonth: 2.5, spend: 480000, spendRatio: 2, recencyDays: 12, engagement: 35,
              description: '15% of buyers, 40% of GMV: buy 2.5 times a month, spend 2× the average, last bought 12 days ago',
              explain: [{ code: 'segment.traits', params: { share: 0.15, gmvShare: 0.4, ordersPerMonth: 2.5, spendRatio: 2, recencyDays: 12 } }],
            }],
          }),
          400: errorReply(400, 'bad_request', 'querystring.lang must be one of en, zh-CN'),
        },
      },
    },
    async (req, reply) => {
      const lang = answerLang(req, reply);
      const s = (await app.models.get(req.keyStream!.channel))?.segments;
      if (!s) return { fittedAt: null, buyers: 0, k: 0, silhouette: null, segments: [] };
      return {
        ...s,
        segments: s.segments.map((g) => {
          const e = reason('segment.traits', { share: g.share, gmvShare: g.gmvShare, ordersPerMonth: g.ordersPerMonth, spendRatio: g.spendRatio, recencyDays: g.recencyDays });
          return { ...g, description: explainText(e, lang), explain: [e] };
        }),
      };
    },
  );

  app.get(
    '/v1/streams/:id/cross-sell',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'getCrossSellRules',
        summary: "What the channel's buyers buy together",
        description:
          'Frequently-bought-together rules mined (FP-growth) from the verified orders\' SKUs with each model fit: itemsets in at least 1% of the orders with items and at least 5 orders, up to 3 items; rules of confidence 0.3 or more and lift above 1, the 200 most confident, most confident first.',
        params: StreamParams,
        response: {
          200: documented(CrossSellOut, 'The rules of the last fit (none before one)', {
            fittedAt: 1746106200000, orders: 1840, minSupport: 0.01, minConfidence: 0.3,
            rules: [{ if: ['TEA-01'], then: ['CUP-02'], support: 0.12, confidence: 0.65, lift: 2.9, orders: 221 }],
          }),
        },
      },
    },
    async (req) => {
      const m = await app.models.get(req.keyStream!.channel);
      return m?.crossSell ?? { fittedAt: null, orders: 0, minSupport: CROSS_SELL_MIN_SUPPORT, minConfidence: CROSS_SELL_MIN_CONFIDENCE, rules: [] };
    },
  );

  app.get(
    '/v1/streams/:id/model',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'getChannelModel',
        summary: "The channel's predictive model (who will buy again, how much)",
        description:
          'BG/NBD (repeat purchases, the chance a buyer is still active) and Gamma-Gamma (value per order), fitted per channel on its verified purchases net of refunds, at start, every `--model-refit-hours` (default 6) and on demand. Viewers\' `predicted` values come from it.',
        params: StreamParams,
        response: { 200: documented(ModelOut, "The stream's channel's model", EXAMPLE) },
      },
    },
    async (req) => app.models.status(req.keyStream!.channel),
  );

  app.post(
    '/v1/streams/:id/model/refit',
    {
      preHandler: requireHost,
      schema: {
        tags: ['viewers'],
        operationId: 'refitChannelModel',
        summary: "Fit the channel's model again now",
        description: 'Answers at once; the fit runs in a worker thread (never on the server\'s event loop) and `GET …/model` shows it when stored. A fit already under way (on any server of the cluster) is not started twice.',
        params: StreamParams,
        response: { 202: documented(Type.Object({ status: Type.Literal('fitting') }), 'The fit started (or was already running)', { status: 'fitting' }) },
      },
    },
    async (req, reply) => {
      const channel = req.keyStream!.channel;
      void app.models.refit(channel).catch((err) => req.log.error({ err, channel }, 'the model fit failed'));
      reply.code(202);
      return { status: 'fitting' as const };
    },
  );
};
