/**
 * What the merchant's backend calls with its ingest key: viewer tokens, verified purchases and
 * coupon redemptions. Money only ever enters LiveTier through here.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { signViewerToken, TOKEN_TTL_SECONDS } from '../auth/tokens.js';
import { normalizeCode } from '../offers/codes.js';
import { ErrorReply, PurchaseBody, RedeemBody, ViewerTokenBody } from './schemas.js';
import { HttpError, requireIngest } from './guards.js';

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply };
/** purchases dated more than this far in the future are refused (clock skew allowance) */
const FUTURE_SKEW_MS = 10 * 60_000;

const Purchase = Type.Object({
  orderId: Type.String(),
  viewerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  items: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
  couponCode: Type.Union([Type.String(), Type.Null()]),
  at: Type.Integer(),
  streamId: Type.String(),
  coupon: Type.Optional(Type.Object({ code: Type.String(), status: Type.String() })),
});

export const merchantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/viewer-tokens',
    {
      preHandler: requireIngest,
      schema: { body: ViewerTokenBody, response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer() }), ...errors } },
    },
    async (req) => {
      const stream = req.keyStream!;
      const secret = (await app.store.getChannelSecret(stream.channel))!;
      const now = Date.now();
      const ttl = req.body.ttlSeconds ?? TOKEN_TTL_SECONDS;
      return { token: signViewerToken(secret, stream.channel, req.body.viewerId, now, ttl), expiresAt: now + ttl * 1000 };
    },
  );

  app.post(
    '/v1/purchases',
    { preHandler: requireIngest, schema: { body: PurchaseBody, response: { 200: Purchase, 201: Purchase, 409: ErrorReply, ...errors } } },
    async (req, reply) => {
      const stream = req.keyStream!;
      const b = req.body;
      let at: number | undefined;
      if (b.at !== undefined) {
        at = typeof b.at === 'number' ? b.at : Date.parse(b.at);
        if (!Number.isFinite(at)) throw new HttpError(400, 'bad_request', 'body.at must be ms since epoch or an ISO 8601 date');
        if (at > Date.now() + FUTURE_SKEW_MS) throw new HttpError(400, 'bad_request', 'body.at is in the future');
      }
      const r = await app.engine.recordPurchase(stream.id, {
        orderId: b.orderId,
        viewerId: b.viewerId,
        amount: b.amount,
        currency: b.currency,
        items: b.items,
        couponCode: b.couponCode ? normalizeCode(b.couponCode) : undefined,
        at,
      });
      if (r.status === 409) throw new HttpError(409, 'conflict', r.message);
      reply.code(r.status);
      const p = r.purchase;
      return {
        orderId: p.orderId, viewerId: p.viewerId, amount: p.amount, currency: p.currency, items: p.items,
        couponCode: p.couponCode, at: p.at, streamId: p.streamId, ...(r.coupon ? { coupon: r.coupon } : {}),
      };
    },
  );

  // refunds lower the viewer's spend (and can move them down) and the stream's GMV
  app.post(
    '/v1/refunds',
    {
      preHandler: requireIngest,
      schema: {
        body: Type.Object(
          {
            orderId: Type.String({ minLength: 1, maxLength: 128 }),
            amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e12, description: 'the total refunded for this order so far (minor units); absent: the whole order' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ orderId: Type.String(), viewerId: Type.String(), amount: Type.Integer(), refunded: Type.Integer(), currency: Type.String() }),
          404: ErrorReply, 409: ErrorReply, ...errors,
        },
      },
    },
    async (req) => {
      const r = await app.engine.refund(req.keyStream!.channel, req.body.orderId, req.body.amount);
      if (r.status !== 200) throw new HttpError(r.status, { 400: 'bad_request', 404: 'not_found', 409: 'conflict' }[r.status], r.message);
      const { status: _s, ...body } = r;
      return body;
    },
  );

  app.post(
    '/v1/coupons/:code/redeem',
    {
      preHandler: requireIngest,
      schema: {
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: RedeemBody,
        response: {
          200: Type.Object({ code: Type.String(), offerId: Type.String(), viewerId: Type.String(), orderId: Type.String(), redeemedAt: Type.Integer(), discount: Type.Object({ kind: Type.String(), value: Type.Integer() }) }),
          404: ErrorReply, 409: ErrorReply, 410: ErrorReply, ...errors,
        },
      },
    },
    async (req) => {
      const stream = req.keyStream!;
      const r = await app.engine.redeem(stream.channel, normalizeCode(req.params.code), req.body.orderId, req.body.viewerId);
      if (r.status !== 200) {
        const code = { 403: 'forbidden', 404: 'not_found', 409: 'conflict', 410: 'gone' }[r.status];
        throw new HttpError(r.status, code, r.message);
      }
      const o = r.offer;
      return { code: o.code, offerId: o.id, viewerId: o.viewerId, orderId: o.redeemedOrder!, redeemedAt: o.redeemedAt!, discount: { kind: o.discountKind, value: o.discountValue } };
    },
  );
};
