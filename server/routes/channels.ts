/**
 * A channel's tier rules (admin key): read them, or replace them; a new document is
 * validated (400 naming the field) and re-tiers the channel live. And its viewer-token secret
 * (admin key): `POST /v1/channels/:channel/token-secret/rotate` signs new tokens with a new
 * secret at once; tokens signed with the old one keep verifying for `graceSeconds` (default 0),
 * so a merchant can roll the secret without logging viewers out.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { documented, errorReply, Minor, Slug } from './schemas.js';
import { HttpError, notFound, requireAdmin } from './guards.js';
import { DEFAULT_TIER_RULES, type TierRulesDoc } from '../tiering/rules.js';
import { RotateBody } from './keys.js';
import { newChannelSecret } from '../auth/tokens.js';
import { graceUntil } from '../auth/keys.js';

const SecretRotated = Type.Object({
  channel: Type.String(),
  previousValidUntil: Type.Union([Type.Integer(), Type.Null()]),
});

const Days = Type.Integer({ minimum: 1, maximum: 3650 });
const Score = Type.Integer({ minimum: 1, maximum: 5 });
const ScoreRule = Type.Object(
  {
    minRecency: Type.Optional(Score),
    minFrequency: Type.Optional(Score),
    minMonetary: Type.Optional(Score),
    minFrequencyPlusMonetary: Type.Optional(Type.Integer({ minimum: 2, maximum: 10 })),
    minEngagement: Type.Optional(Score),
    topPredictedPercent: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: "the viewer is among the top N% of the channel's buyers by predicted 12-month value (its model); without a fitted model, never met" }),
    ),
  },
  { additionalProperties: false },
);

/** The rules document. Sections left out take the defaults. */
export const TierRulesBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('absolute'), Type.Literal('scores')]),
    absolute: Type.Optional(
      Type.Object(
        {
          high: Type.Object({ minOrders: Type.Integer({ minimum: 1, maximum: 10_000 }), minSpend: Minor, windowDays: Days }, { additionalProperties: false }),
          mid: Type.Object({ minOrders: Type.Integer({ minimum: 1, maximum: 10_000 }), windowDays: Days }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
    scores: Type.Optional(Type.Object({ high: ScoreRule, mid: ScoreRule }, { additionalProperties: false })),
    lookbackDays: Type.Optional(Days),
    minBuyers: Type.Optional(Type.Integer({ minimum: 5, maximum: 1_000_000 })),
    lifecycle: Type.Optional(
      Type.Object(
        {
          newDays: Days,
          atRiskDays: Days,
          abandonedCheckouts: Type.Integer({ minimum: 1, maximum: 5 }),
          ignoredOffers: Type.Integer({ minimum: 1, maximum: 5 }),
          lapsedDays: Days,
          atRiskPAlive: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "at_risk also when a buyer's chance of still being active (the channel's model) is below this; 0: never. Default 0.5" })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const TierRulesReply = Type.Object({
  mode: Type.String({ description: '`absolute` or `scores`' }),
  absolute: Type.Unknown({ description: 'as in the request body of PUT, defaults filled' }),
  scores: Type.Unknown({ description: 'as in the request body of PUT, defaults filled' }),
  lookbackDays: Type.Integer(),
  minBuyers: Type.Integer(),
  lifecycle: Type.Unknown({ description: 'as in the request body of PUT, defaults filled' }),
});

/** the defaults every channel starts with */
const RULES_EXAMPLE = DEFAULT_TIER_RULES;

/** Fills the defaults and checks what a schema cannot say; the message names the field. */
export function completeRules(body: Static<typeof TierRulesBody>): TierRulesDoc {
  const doc: TierRulesDoc = {
    mode: body.mode,
    absolute: body.absolute ?? DEFAULT_TIER_RULES.absolute,
    scores: body.scores ?? DEFAULT_TIER_RULES.scores,
    lookbackDays: body.lookbackDays ?? DEFAULT_TIER_RULES.lookbackDays,
    minBuyers: body.minBuyers ?? DEFAULT_TIER_RULES.minBuyers,
    lifecycle: { ...DEFAULT_TIER_RULES.lifecycle, ...body.lifecycle },
  };
  if (doc.absolute.high.minOrders < doc.absolute.mid.minOrders) {
    throw new HttpError(400, 'bad_request', 'body.absolute.high.minOrders must be at least body.absolute.mid.minOrders');
  }
  for (const t of ['high', 'mid'] as const) {
    if (Object.keys(doc.scores[t]).length === 0) {
      throw new HttpError(400, 'bad_request', `body.scores.${t} needs at least one condition (an empty rule would put every viewer in ${t})`);
    }
  }
  return doc;
}

export const channelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const Params = Type.Object({ channel: Slug });
  const unknownChannel = errorReply(404, 'not_found', 'unknown channel shop-1');

  app.get(
    '/v1/channels/:channel/tier-rules',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['channels'],
        operationId: 'getTierRules',
        summary: "A channel's tier rules",
        description: 'See docs/tiers.md.',
        params: Params,
        response: { 200: documented(TierRulesReply, 'The rules document', RULES_EXAMPLE), 404: unknownChannel },
      },
    },
    async (req) => {
      if (!(await app.store.channelExists(req.params.channel))) throw notFound(`unknown channel ${req.params.channel}`);
      return app.engine.tierRules(req.params.channel);
    },
  );

  app.put(
    '/v1/channels/:channel/tier-rules',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['channels'],
        operationId: 'setTierRules',
        summary: "Replace a channel's tier rules",
        description:
          "Left-out sections take the defaults. Re-tiers the channel's connected viewers before the answer (hosts get an `update`; a viewer who changes tier fires `tier_entered` campaigns) and its other viewers in the background.",
        params: Params,
        body: documented(TierRulesBody, 'The rules document (docs/tiers.md)', { mode: 'absolute', absolute: RULES_EXAMPLE.absolute }),
        response: {
          200: documented(TierRulesReply, 'The stored document', RULES_EXAMPLE),
          400: errorReply(400, 'bad_request', 'body.absolute.high.minOrders must be at least body.absolute.mid.minOrders', 'A bad document: the message names the field'),
          404: unknownChannel,
        },
      },
    },
    async (req) => {
      const { channel } = req.params;
      if (!(await app.store.channelExists(channel))) throw notFound(`unknown channel ${channel}`);
      const doc = completeRules(req.body);
      // connected viewers are re-tiered before the answer; the rest of the channel follows in the background
      const { background } = await app.engine.setTierRules(channel, doc);
      background.catch((err) => app.log.error({ err }, 're-tiering the channel failed'));
      return doc;
    },
  );

  app.post(
    '/v1/channels/:channel/token-secret/rotate',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['channels'],
        operationId: 'rotateTokenSecret',
        summary: "Rotate a channel's viewer-token secret",
        description:
          'New tokens are signed with the new secret at once; tokens signed with the old one keep verifying for `graceSeconds` (0–604800, default 0). No body is the same as `{}`.',
        params: Params,
        // the same body as a key rotation: { graceSeconds? }, or none at all
        body: Type.Union([RotateBody, Type.Null()]),
        response: {
          200: documented(SecretRotated, 'Rotated: `previousValidUntil` is when the old secret stops (null: now)', { channel: 'shop-1', previousValidUntil: 1746106200000 }),
          404: unknownChannel,
        },
      },
    },
    async (req) => {
      const { channel } = req.params;
      const graceSeconds = req.body?.graceSeconds ?? 0;
      const now = Date.now();
      const previousValidUntil = graceUntil(graceSeconds, now);
      if (!(await app.store.rotateChannelSecret(channel, newChannelSecret(), previousValidUntil, now))) {
        throw notFound(`unknown channel ${channel}`);
      }
      return { channel, previousValidUntil };
    },
  );
};
