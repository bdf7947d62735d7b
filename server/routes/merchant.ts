/**
 * What the merchant's backend calls with its ingest key: viewer tokens, verified purchases and
 * coupon redemptions. Money only ever enters LiveTier through here.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { firstError } from '../ingest/schema.js';
import { signViewerToken, TOKEN_TTL_SECONDS } from '../auth/tokens.js';
import { normalizeCode } from '../offers/codes.js';
import { checkCurrency, Currency, documented, errorReply, PurchaseBody, RedeemBody, ViewerTokenBody } from './schemas.js';
import { HttpError, requireIngest } from './guards.js';
import type { PurchaseInput, PurchaseResult } from '../services/commerce.js';

/** purchases dated more than this far in the future are refused (clock skew allowance) */
const FUTURE_SKEW_MS = 10 * 60_000;
/** orders per POST /v1/purchases/batch */
export const MAX_BATCH = 1000;
/** a batch's body: 1,000 orders of a few hundred bytes each, with room for items */
const BATCH_BODY_LIMIT = 4 * 1024 * 1024;
const checkPurchase = Compile(PurchaseBody);

const Purchase = Type.Object({
  orderId: Type.String(),
  viewerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  items: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
  couponCode: Type.Union([Type.String(), Type.Null()]),
  at: Type.Integer(),
  streamId: Type.String(),
  coupon: Type.Optional(
    Type.Object(
      { code: Type.String(), status: Type.String() },
      { description: 'with `couponCode`: how the code was taken (`redeemed`, `not_found`, `other_viewer`, `already_redeemed`, `expired`); the purchase is recorded either way' },
    ),
  ),
});

const PURCHASE_EXAMPLE = {
  orderId: 'o-1001', viewerId: 'user-42', amount: 129900, currency: 'CNY', items: [{ sku: 'sku-7', quantity: 1, price: 129900 }],
  couponCode: 'K7Q2M9XWPA', at: 1746102600000, streamId: 'spring-sale', coupon: { code: 'K7Q2M9XWPA', status: 'redeemed' },
};

export const merchantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** one order, as POST /v1/purchases takes it; `prefix` names its fields in messages (`body`, `body.orders.3`) */
  type One = { status: 400 | 409; message: string } | { status: 200 | 201; purchase: Static<typeof Purchase> };
  /** an order's body as the engine takes it; a bad `at` or currency is a 400 naming the field */
  function inputOf(b: Static<typeof PurchaseBody>, prefix: string, history: boolean): PurchaseInput {
    let at: number | undefined;
    if (b.at !== undefined) {
      at = typeof b.at === 'number' ? b.at : Date.parse(b.at);
      if (!Number.isFinite(at)) throw new HttpError(400, 'bad_request', `${prefix}.at must be ms since epoch or an ISO 8601 date`);
      if (at > Date.now() + FUTURE_SKEW_MS) throw new HttpError(400, 'bad_request', `${prefix}.at is in the future`);
    }
    checkCurrency(b.currency, `${prefix}.currency`);
    return {
      orderId: b.orderId,
      viewerId: b.viewerId,
      amount: b.amount,
      currency: b.currency,
      items: b.items,
      couponCode: b.couponCode ? normalizeCode(b.couponCode) : undefined,
      at,
      history,
    };
  }

  /** the engine's answer for one order, its messages naming the order's fields */
  function answerOf(r: PurchaseResult, prefix: string): One {
    if ('message' in r) return { status: r.status, message: r.message.replace(/^body\./, `${prefix}.`) };
    const p = r.purchase;
    return {
      status: r.status,
      purchase: {
        orderId: p.orderId, viewerId: p.viewerId, amount: p.amount, currency: p.currency, items: p.items,
        couponCode: p.couponCode, at: p.at, streamId: p.streamId, ...(r.coupon ? { coupon: r.coupon } : {}),
      },
    };
  }

  async function recordOne(streamId: string, b: Static<typeof PurchaseBody>, prefix: string, history: boolean): Promise<One> {
    return answerOf(await app.engine.recordPurchase(streamId, inputOf(b, prefix, history)), prefix);
  }

  app.post(
    '/v1/viewer-tokens',
    {
      preHandler: requireIngest,
      schema: {
        tags: ['merchant'],
        operationId: 'createViewerToken',
        summary: 'Sign a viewer token for a logged-in viewer',
        description:
          "An HS256 JWT signed with the channel's secret, for the widget's `/viewer` handshake and the `/v1/collect` beacon: the viewer is then verified (their purchases count, their coupons reach them). Call it from your backend, never from the page.",
        body: ViewerTokenBody,
        response: {
          200: documented(
            Type.Object({ token: Type.String(), expiresAt: Type.Integer({ description: 'ms since epoch' }) }),
            'The token',
            { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl', expiresAt: 1746189000000 },
          ),
        },
      },
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
    {
      preHandler: requireIngest,
      schema: {
        tags: ['merchant'],
        operationId: 'recordPurchase',
        summary: 'Record a verified purchase',
        description:
          "Attributed to the stream whose ingest key reports it; it tiers the viewer across the channel. Idempotent by `orderId`. A `couponCode` is redeemed with it. `at` more than 10 minutes in the future is refused (400).",
        body: PurchaseBody,
        response: {
          200: documented(Purchase, 'Already recorded (the same order again): the stored purchase', PURCHASE_EXAMPLE),
          201: documented(Purchase, 'Recorded', PURCHASE_EXAMPLE),
          409: errorReply(409, 'conflict', 'order o-1001 was already recorded with a different viewer, amount or currency', 'The same `orderId` with another viewer, amount or currency'),
        },
      },
    },
    async (req, reply) => {
      const r = await recordOne(req.keyStream!.id, req.body, 'body', false);
      if ('message' in r) throw new HttpError(r.status, r.status === 400 ? 'bad_request' : 'conflict', r.message);
      reply.code(r.status);
      return r.purchase;
    },
  );

  app.post(
    '/v1/purchases/batch',
    {
      preHandler: requireIngest,
      bodyLimit: BATCH_BODY_LIMIT,
      schema: {
        tags: ['merchant'],
        operationId: 'recordPurchaseBatch',
        summary: "Record up to 1,000 verified purchases at once (a shop's order history)",
        description:
          "Each order as `POST /v1/purchases` takes it (`at` in the past allowed), answered one by one, in order: `201` recorded, `200` the same order again, `409` the order id with another viewer, amount or currency, `400` a bad order, its message naming the field (`body.orders.3.amount …`). One bad order never loses the others. An order of history tiers its viewer and feeds the channel's model but fires no campaign and adds nothing to the live activity; its stream is the key's (import history with a stream made for it, so a live stream's numbers stay its own). Idempotent: sending a file again records nothing twice (`livetier import-orders` does).",
        body: Type.Object(
          { orders: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH, description: 'each a `POST /v1/purchases` body, checked one by one' }) },
          { additionalProperties: false, examples: [{ orders: [{ orderId: 'o-1001', viewerId: 'user-42', amount: 129900, currency: 'CNY', at: '2024-11-11T20:15:00Z' }] }] },
        ),
        response: {
          200: documented(
            Type.Object({
              results: Type.Array(
                Type.Object({
                  index: Type.Integer(),
                  orderId: Type.Union([Type.String(), Type.Null()]),
                  status: Type.Union([Type.Literal(201), Type.Literal(200), Type.Literal(409), Type.Literal(400)]),
                  message: Type.Optional(Type.String()),
                }),
              ),
              recorded: Type.Integer(),
              duplicates: Type.Integer(),
              conflicts: Type.Integer(),
              rejected: Type.Integer(),
            }),
            'One result per order, in order',
            {
              results: [{ index: 0, orderId: 'o-1001', status: 201 }, { index: 1, orderId: 'o-1002', status: 400, message: 'body.orders.1.amount must be >= 0' }],
              recorded: 1, duplicates: 0, conflicts: 0, rejected: 1,
            },
          ),
        },
      },
    },
    async (req) => {
      const streamId = req.keyStream!.id;
      const results: { index: number; orderId: string | null; status: 200 | 201 | 400 | 409; message?: string }[] = [];
      const count = { recorded: 0, duplicates: 0, conflicts: 0, rejected: 0 };
      // each order checked on its own; the good ones committed together (services/commerce.ts
      // recordHistory: in order, so an order's viewer may be the next one's), answered in order
      const answers: (One | null)[] = [];
      const valid: { index: number; input: PurchaseInput }[] = [];
      for (const [index, raw] of req.body.orders.entries()) {
        const prefix = `body.orders.${index}`;
        if (!checkPurchase.Check(raw)) {
          answers.push({ status: 400, message: firstError(checkPurchase.Errors(raw), prefix) });
          continue;
        }
        try {
          valid.push({ index, input: inputOf(raw, prefix, true) });
          answers.push(null);
        } catch (err) {
          if (!(err instanceof HttpError) || err.statusCode !== 400) throw err;
          answers.push({ status: 400, message: err.message });
        }
      }
      const recorded = await app.engine.commerce.recordHistory(streamId, valid.map((v) => v.input));
      for (const [i, r] of recorded.entries()) {
        // the store is out of reach: the whole call fails (nothing half-answered; sending it again records nothing twice)
        if ('failed' in r) throw r.failed;
        answers[valid[i]!.index] = answerOf(r, `body.orders.${valid[i]!.index}`);
      }
      for (const [index, raw] of req.body.orders.entries()) {
        const r = answers[index]!;
        const orderId = raw && typeof raw === 'object' && typeof (raw as { orderId?: unknown }).orderId === 'string' ? ((raw as { orderId: string }).orderId).slice(0, 128) : null;
        if ('message' in r) {
          results.push({ index, orderId, status: r.status, message: r.message });
          if (r.status === 409) count.conflicts++;
          else count.rejected++;
        } else {
          results.push({ index, orderId, status: r.status });
          if (r.status === 201) count.recorded++;
          else count.duplicates++;
        }
      }
      return { results, ...count };
    },
  );

  // refunds lower the viewer's spend (and can move them down) and the stream's GMV
  app.post(
    '/v1/refunds',
    {
      preHandler: requireIngest,
      schema: {
        tags: ['merchant'],
        operationId: 'recordRefund',
        summary: 'Report a refund of an order',
        description:
          "`amount` is the order's total refunded so far (absent: all of it), so reporting the same refund twice changes nothing. Lowers the viewer's spend (and maybe tier) and the stream's GMV.",
        body: Type.Object(
          {
            orderId: Type.String({ minLength: 1, maxLength: 128 }),
            amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e12, description: 'the total refunded for this order so far (minor units); absent: the whole order' })),
            currency: Type.Optional({ ...Currency, description: "the refund's currency, if the merchant says it: it must be the order's" }),
          },
          { additionalProperties: false, examples: [{ orderId: 'o-1001', amount: 50000 }] },
        ),
        response: {
          200: documented(
            Type.Object({ orderId: Type.String(), viewerId: Type.String(), amount: Type.Integer(), refunded: Type.Integer(), currency: Type.String() }),
            'The order with its refunded total',
            { orderId: 'o-1001', viewerId: 'user-42', amount: 129900, refunded: 50000, currency: 'CNY' },
          ),
          400: errorReply(400, 'bad_request', "body.amount 150000 is more than the order's amount 129900", 'A bad body, or more than the order'),
          404: errorReply(404, 'not_found', 'unknown order o-1001', "An order unknown in the key's channel"),
          409: errorReply(409, 'conflict', 'order o-1001 already has 60000 refunded; a refund cannot be undone', 'Less than already refunded'),
        },
      },
    },
    async (req) => {
      const r = await app.engine.refund(req.keyStream!.channel, req.body.orderId, req.body.amount, req.body.currency);
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
        tags: ['merchant'],
        operationId: 'redeemCoupon',
        summary: 'Redeem a coupon code for an order',
        description: 'The same order again answers 200 again (idempotent). Codes are case-insensitive.',
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: RedeemBody,
        response: {
          200: documented(
            Type.Object({ code: Type.String(), offerId: Type.String(), viewerId: Type.String(), orderId: Type.String(), redeemedAt: Type.Integer(), discount: Type.Object({ kind: Type.String(), value: Type.Integer() }) }),
            'Redeemed (now, or before by the same order)',
            { code: 'K7Q2M9XWPA', offerId: 'of-5x2', viewerId: 'user-42', orderId: 'o-1001', redeemedAt: 1746102600000, discount: { kind: 'percent', value: 10 } },
          ),
          403: errorReply(403, 'forbidden', 'this code belongs to another viewer', "Another viewer's code (or a host or admin key)"),
          404: errorReply(404, 'not_found', 'unknown coupon code', 'A code unknown in the channel'),
          409: errorReply(409, 'conflict', 'code already redeemed by order o-0999', 'Already redeemed by another order'),
          410: errorReply(410, 'gone', 'this code has expired', 'The offer expired'),
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
