/**
 * TypeBox schemas of the REST bodies and the host push: one definition gives the JSON schema
 * Fastify validates with and the TypeScript type the handler sees.
 */
import Type from 'typebox';
import { HttpError } from './guards.js';

export const ErrorReply = Type.Object({
  statusCode: Type.Integer({ description: 'the HTTP status again' }),
  error: Type.String({
    description:
      'a code: bad_request, unauthorized, forbidden, not_found, conflict, gone, payload_too_large, unsupported_media_type, rate_limited, unavailable, internal',
  }),
  message: Type.String({ description: 'what went wrong, for people; a 400 names the field (`body.title`, `querystring.cursor`…)' }),
});

/**
 * `schema` with a description and examples, for the OpenAPI document (server/openapi.ts). The
 * keywords that validate or serialize are the same objects, so Fastify treats it exactly as `schema`.
 */
export function documented<T extends object>(schema: T, description: string, ...examples: unknown[]): T {
  return { ...schema, description, ...(examples.length ? { examples } : {}) };
}

/** ErrorReply as one route answers it with `statusCode`: what it means there, with an example. */
export function errorReply(statusCode: number, error: string, message: string, description = message) {
  return documented(ErrorReply, description, { statusCode, error, message });
}

const Origin = Type.String({ pattern: '^https?://[^/\\s]+$', maxLength: 255, description: 'scheme://host[:port], no path' });
export const Slug = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
export const ViewerId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:@-]+$' });
export const Minor = Type.Integer({ minimum: 0, maximum: 1e12, description: 'money in minor units (fen, cents)' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });

/** the ISO 4217 codes in use (the runtime's Intl list): a channel's money is in one of these */
const ISO_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** 400 naming the field when `code` has the shape of a currency code but is none */
export function checkCurrency(code: string, field: string): void {
  if (!ISO_CURRENCIES.has(code)) throw new HttpError(400, 'bad_request', `${field} ${code} is not an ISO 4217 currency code`);
}

export const CreateStreamBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    channel: Type.Optional(Slug),
    id: Type.Optional(Slug),
    allowedOrigins: Type.Optional(Type.Array(Origin, { maxItems: 50 })),
    currency: Type.Optional({ ...Currency, description: "the channel's one currency (ISO 4217); absent: the first verified purchase's" }),
  },
  { additionalProperties: false, examples: [{ title: 'Spring sale live', channel: 'shop-1', id: 'spring-sale', allowedOrigins: ['https://shop.example'] }] },
);

export const StreamCreated = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    channel: Type.String(),
    allowedOrigins: Type.Array(Type.String()),
    hostKey: Type.String({ description: "the stream's host key: shown only here (stored as a digest)" }),
    ingestKey: Type.String({ description: "the stream's ingest key, for the merchant's backend: shown only here" }),
  },
  {
    description: 'The stream, with its keys',
    examples: [
      {
        id: 'spring-sale',
        title: 'Spring sale live',
        channel: 'shop-1',
        allowedOrigins: ['https://shop.example'],
        hostKey: 'lt_host_9bV1kq0wX7cZs3Jd2pR8tY4u',
        ingestKey: 'lt_ingest_Q2m7Lx0bN5vC8kT1rW6yE3sA',
      },
    ],
  },
);

export const ViewerTokenBody = Type.Object(
  { viewerId: ViewerId, ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400, description: 'default 86400 (24 h)' })) },
  { additionalProperties: false, examples: [{ viewerId: 'user-42', ttlSeconds: 3600 }] },
);

export const PurchaseBody = Type.Object(
  {
    orderId: Type.String({ minLength: 1, maxLength: 128 }),
    viewerId: ViewerId,
    amount: Minor,
    currency: Currency,
    items: Type.Optional(
      Type.Array(
        Type.Object(
          { sku: Type.String({ minLength: 1, maxLength: 64 }), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), price: Type.Optional(Minor) },
          { additionalProperties: false },
        ),
        { maxItems: 200 },
      ),
    ),
    couponCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    at: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })], { description: 'when the order was placed: ms since epoch or ISO 8601' })),
  },
  {
    additionalProperties: false,
    examples: [
      { orderId: 'o-1001', viewerId: 'user-42', amount: 129900, currency: 'CNY', items: [{ sku: 'sku-7', quantity: 1, price: 129900 }], couponCode: 'K7Q2M9XWPA', at: '2025-05-01T12:30:00Z' },
    ],
  },
);

export const RedeemBody = Type.Object(
  { orderId: Type.String({ minLength: 1, maxLength: 128 }), viewerId: ViewerId },
  { additionalProperties: false, examples: [{ orderId: 'o-1001', viewerId: 'user-42' }] },
);

const Discount = Type.Object(
  {
    kind: Type.Union([Type.Literal('percent'), Type.Literal('amount')]),
    value: Type.Integer({ minimum: 1, maximum: 1e9 }),
  },
  { additionalProperties: false },
);

export const TierName = Type.Union([Type.Literal('high'), Type.Literal('mid'), Type.Literal('potential')]);

export const HostPushBody = Type.Object(
  {
    tier: TierName,
    offer: Type.Object(
      {
        title: Type.String({ minLength: 1, maxLength: 120 }),
        description: Type.Optional(Type.String({ maxLength: 500 })),
        discount: Discount,
        ttlSeconds: Type.Integer({ minimum: 10, maximum: 30 * 86400 }),
        minSpend: Type.Optional(Minor),
      },
      { additionalProperties: false },
    ),
    holdoutPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 50 })),
  },
  { additionalProperties: false },
);

export const StreamParams = Type.Object({ id: Slug });
