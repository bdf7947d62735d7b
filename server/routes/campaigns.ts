/**
 * Campaigns, all with the stream's host key: create, list, read with stats, pause /
 * resume / edit, and send a manual campaign to the viewers connected now.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { CampaignDoc, CampaignError, CampaignPatch, checkCampaign } from '../offers/campaign.js';
import { documented, errorReply, StreamParams } from './schemas.js';
import { HttpError, notFound, requireHost } from './guards.js';

const CampaignParams = Type.Object({
  id: StreamParams.properties.id,
  cid: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9_.:-]+$' }),
});

const Skipped = Type.Object({ capped: Type.Integer(), budget: Type.Integer(), quota: Type.Integer(), alreadyHas: Type.Integer() });
const Rate = Type.Union([Type.Number(), Type.Null()]);

const Stats = Type.Object({
  eligible: Type.Integer(),
  issued: Type.Integer(),
  delivered: Type.Integer(),
  seen: Type.Integer(),
  clicked: Type.Integer(),
  redeemed: Type.Integer(),
  control: Type.Integer(),
  treatedConversion: Rate,
  controlConversion: Rate,
  uplift: Type.Object({
    absolute: Rate,
    ci95: Type.Union([Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), Type.Null()]),
    n: Type.Object({ treated: Type.Integer(), control: Type.Integer() }),
    conversions: Type.Object({ treated: Type.Integer(), control: Type.Integer() }),
    enoughData: Type.Boolean(),
  }),
});

const View = Type.Object({
  id: Type.String(),
  name: Type.String(),
  i18n: Type.Optional(CampaignDoc.properties.i18n),
  status: Type.String(),
  adhoc: Type.Boolean(),
  trigger: CampaignDoc.properties.trigger,
  audience: CampaignDoc.properties.audience,
  offer: CampaignDoc.properties.offer,
  limits: Type.Object({ perViewer: Type.Integer(), maxIssued: Type.Optional(Type.Integer()), budget: Type.Optional(Type.Integer()) }),
  holdoutPercent: Type.Integer(),
  attributionHours: Type.Integer(),
  issued: Type.Integer(),
  committed: Type.Integer(),
  budgetLeft: Type.Union([Type.Integer(), Type.Null()]),
  skipped: Skipped,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  stats: Type.Optional(Stats),
});

const PushItem = Type.Object({
  id: Type.String(),
  at: Type.Integer({ description: 'when it was pushed (ms)' }),
  tier: Type.String(),
  offer: CampaignDoc.properties.offer,
  holdoutPercent: Type.Integer(),
  sent: Type.Integer(),
  held: Type.Integer({ description: 'viewers of the tier held back for measurement' }),
  skipped: Skipped,
  delivered: Type.Integer(),
  seen: Type.Integer(),
  clicked: Type.Integer(),
  redeemed: Type.Integer(),
  treatedConversion: Rate,
  controlConversion: Rate,
  uplift: Stats.properties.uplift,
});

const PUSH_EXAMPLE = {
  id: 'push:6f1d1a52-3c1e-4f7e-9a34-2b8b1d0c9e11', at: 1746102600000, tier: 'potential',
  offer: { title: '¥10 off, 10 minutes', discount: { kind: 'amount', value: 1000 }, ttlSeconds: 600 }, holdoutPercent: 10,
  sent: 412, held: 46, skipped: { capped: 3, budget: 0, quota: 0, alreadyHas: 0 }, delivered: 405, seen: 380, clicked: 122, redeemed: 31,
  treatedConversion: 0.0752, controlConversion: 0.0217,
  uplift: { absolute: 0.0535, ci95: [0.0101, 0.0969], n: { treated: 412, control: 46 }, conversions: { treated: 31, control: 1 }, enoughData: true },
};

const SendReply = Type.Object({ sent: Type.Integer(), held: Type.Integer(), skipped: Skipped });

const CAMPAIGN_EXAMPLE = {
  name: 'Thank our best viewers',
  i18n: { 'zh-CN': { name: '感谢铁粉' } },
  trigger: { type: 'tier_entered', tier: 'high' },
  audience: { tiers: ['high'] },
  offer: {
    title: '10% off tonight', discount: { kind: 'percent', value: 10 }, maxDiscount: 5000, ttlSeconds: 1800,
    i18n: { 'zh-CN': { title: '今晚 9 折', description: '感谢一直以来的支持' } },
  },
  limits: { perViewer: 1, maxIssued: 500 },
  holdoutPercent: 10,
  attributionHours: 24,
};

const VIEW_EXAMPLE = {
  id: 'c-thank-best', name: 'Thank our best viewers', i18n: { 'zh-CN': { name: '感谢铁粉' } }, status: 'active', adhoc: false,
  trigger: { type: 'tier_entered', tier: 'high' }, audience: { tiers: ['high'] },
  offer: {
    title: '10% off tonight', discount: { kind: 'percent', value: 10 }, maxDiscount: 5000, ttlSeconds: 1800,
    i18n: { 'zh-CN': { title: '今晚 9 折', description: '感谢一直以来的支持' } },
  },
  limits: { perViewer: 1, maxIssued: 500 }, holdoutPercent: 10, attributionHours: 24,
  issued: 0, committed: 0, budgetLeft: null, skipped: { capped: 0, budget: 0, quota: 0, alreadyHas: 0 },
  createdAt: 1746102600000, updatedAt: 1746102600000,
};

const unknownCampaign = errorReply(404, 'not_found', 'unknown campaign c-thank-best');
const badDocumentReply = errorReply(400, 'bad_request', 'body.trigger.tier is required for tier_entered', 'A bad parameter or document: the message names the field');

/** a document that passed the schema but not the cross-field checks: 400 naming the field */
function badDocument(err: unknown): never {
  if (err instanceof CampaignError) throw new HttpError(400, 'bad_request', `body.${err.message}`);
  throw err;
}

export const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/streams/:id/campaigns',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'createCampaign',
        summary: 'Create a campaign',
        description:
          'Trigger, audience, offer, limits and holdout: see docs/offers.md. The name (`i18n`) and the offer (`offer.i18n`: title, description) may carry translations, for `en` and `zh-CN` only; the offer pushed to a viewer carries them and the viewer\'s widget shows its language\'s. Checks a schema cannot express (e.g. a `tier_entered` trigger needs `tier`) answer 400 naming the field.',
        params: StreamParams,
        body: documented(CampaignDoc, 'A campaign document', CAMPAIGN_EXAMPLE),
        response: { 201: documented(View, 'The campaign', VIEW_EXAMPLE), 400: badDocumentReply },
      },
    },
    async (req, reply) => {
      let doc;
      try {
        doc = checkCampaign(req.body);
      } catch (err) {
        badDocument(err);
      }
      const view = await app.engine.campaigns.create(req.keyStream!, doc);
      reply.code(201);
      return view;
    },
  );

  app.get(
    '/v1/streams/:id/campaigns',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'listCampaigns',
        summary: "The stream's campaigns, with their stats",
        description:
          "The four defaults first, then the stream's own, host pushes last (`adhoc: true`). `?adhoc=false` leaves the pushes out (they have their own log: GET …/pushes), `?adhoc=true` lists only them. Other query parameters are ignored.",
        params: StreamParams,
        querystring: Type.Object({ adhoc: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }),
        response: {
          200: documented(Type.Object({ campaigns: Type.Array(View) }), 'The campaigns', { campaigns: [VIEW_EXAMPLE] }),
          400: errorReply(400, 'bad_request', 'querystring.adhoc must be equal to one of the allowed values', 'A bad parameter: the message names it'),
        },
      },
    },
    async (req) => {
      const adhoc = req.query.adhoc === undefined ? undefined : req.query.adhoc === 'true';
      return { campaigns: await app.engine.campaigns.list(req.keyStream!, true, { adhoc }) };
    },
  );

  app.get(
    '/v1/streams/:id/pushes',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'listPushes',
        summary: "The host's pushes, newest first",
        description:
          'Each push to a tier (the `/host` socket\'s `push`): when, to which tier, the offer, how many were sent and held back, and its funnel and uplift. `limit` 1–100 (default 20); `cursor`: the previous page\'s `nextCursor` (null on the last page). Other query parameters are ignored.',
        params: StreamParams,
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), cursor: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: {
          200: documented(Type.Object({ pushes: Type.Array(PushItem), nextCursor: Type.Union([Type.String(), Type.Null()]) }), 'A page of pushes', { pushes: [PUSH_EXAMPLE], nextCursor: null }),
          400: errorReply(400, 'bad_request', 'querystring.cursor is not a cursor of this list', 'A bad parameter or cursor: the message names it'),
        },
      },
    },
    async (req) => {
      const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
      if (limit < 1 || limit > 100) throw new HttpError(400, 'bad_request', 'querystring.limit must be 1–100');
      let after: { at: number; id: string } | null = null;
      if (req.query.cursor !== undefined) {
        const m = /^(\d{1,15}):(push:[0-9a-f-]{36})$/.exec(Buffer.from(req.query.cursor, 'base64url').toString());
        if (!m) throw new HttpError(400, 'bad_request', 'querystring.cursor is not a cursor of this list');
        after = { at: Number(m[1]), id: m[2]! };
      }
      const page = await app.engine.campaigns.pushes(req.keyStream!, limit, after);
      return { pushes: page.items, nextCursor: page.next ? Buffer.from(`${page.next.at}:${page.next.id}`).toString('base64url') : null };
    },
  );

  app.get(
    '/v1/streams/:id/campaigns/:cid',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'getCampaign',
        summary: 'One campaign, with its stats (funnel, holdout uplift)',
        params: CampaignParams,
        response: { 200: documented(View, 'The campaign with `stats`'), 404: unknownCampaign },
      },
    },
    async (req) => {
      const view = await app.engine.campaigns.get(req.keyStream!, req.params.cid);
      if (!view) throw notFound(`unknown campaign ${req.params.cid}`);
      return view;
    },
  );

  app.patch(
    '/v1/streams/:id/campaigns/:cid',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'updateCampaign',
        summary: 'Pause, resume or edit a campaign',
        description: 'Top-level parts replace the old ones (`offer` with its `i18n`); a new `name` without `i18n` drops the old name\'s translations, `i18n: {}` removes them.',
        params: CampaignParams,
        body: documented(CampaignPatch, 'The parts to change', { status: 'paused' }),
        response: { 200: documented(View, 'The campaign'), 400: badDocumentReply, 404: unknownCampaign },
      },
    },
    async (req) => {
      let view;
      try {
        view = await app.engine.campaigns.update(req.keyStream!, req.params.cid, req.body);
      } catch (err) {
        badDocument(err);
      }
      if (!view) throw notFound(`unknown campaign ${req.params.cid}`);
      return view;
    },
  );

  app.post(
    '/v1/streams/:id/campaigns/:cid/send',
    {
      preHandler: requireHost,
      schema: {
        tags: ['campaigns'],
        operationId: 'sendCampaign',
        summary: 'Send a manual campaign to the viewers of its audience connected now',
        params: CampaignParams,
        response: {
          200: documented(SendReply, 'Sent: `held` viewers are the holdout; `skipped` says why others got nothing', {
            sent: 120, held: 13, skipped: { capped: 4, budget: 0, quota: 0, alreadyHas: 2 },
          }),
          404: unknownCampaign,
          409: errorReply(409, 'conflict', 'campaign c-thank-best is paused; resume it first', 'A paused campaign, or one that fires by its trigger (not `manual`)'),
        },
      },
    },
    async (req) => {
      const r = await app.engine.campaigns.send(req.keyStream!, req.params.cid);
      if (!r) throw notFound(`unknown campaign ${req.params.cid}`);
      if (r === 'not_manual') throw new HttpError(409, 'conflict', `campaign ${req.params.cid} fires by its trigger; only manual campaigns are sent`);
      if (r === 'paused') throw new HttpError(409, 'conflict', `campaign ${req.params.cid} is paused; resume it first`);
      return r;
    },
  );
};
