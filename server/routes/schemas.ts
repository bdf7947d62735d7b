/**
 * TypeBox schemas of the REST bodies and the host push: one definition gives the JSON schema
 * Fastify validates with and the TypeScript type the handler sees.
 */
import Type from 'typebox';

export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String({ description: 'a code: bad_request, unauthorized, forbidden, not_found, conflict, gone, payload_too_large, internal' }),
  message: Type.String(),
});

const Origin = Type.String({ pattern: '^https?://[^/\\s]+$', maxLength: 255, description: 'scheme://host[:port], no path' });
export const Slug = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
export const ViewerId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:@-]+$' });
export const Minor = Type.Integer({ minimum: 0, maximum: 1e12, description: 'money in minor units (fen, cents)' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });

export const CreateStreamBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    channel: Type.Optional(Slug),
    id: Type.Optional(Slug),
    allowedOrigins: Type.Optional(Type.Array(Origin, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export const StreamCreated = Type.Object({
  id: Type.String(),
  title: Type.String(),
  channel: Type.String(),
  allowedOrigins: Type.Array(Type.String()),
  hostKey: Type.String(),
  ingestKey: Type.String(),
});

export const ViewerTokenBody = Type.Object(
  { viewerId: ViewerId, ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400 })) },
  { additionalProperties: false },
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
  { additionalProperties: false },
);

export const RedeemBody = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 128 }), viewerId: ViewerId }, { additionalProperties: false });

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
  },
  { additionalProperties: false },
);

export const StreamParams = Type.Object({ id: Slug });
