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

const SendReply = Type.Object({ sent: Type.Integer(), held: Type.Integer(), skipped: Skipped });

const CAMPAIGN_EXAMPLE = {
  name: 'Thank our best viewers',
  trigger: { type: 'tier_entered', tier: 'high' },
  audience: { tiers: ['high'] },
  offer: { title: '10% off tonight', discount: { kind: 'percent', value: 10 }, maxDiscount: 5000, ttlSeconds: 1800 },
  limits: { perViewer: 1, maxIssued: 500 },
  holdoutPercent: 10,
  attributionHours: 24,
};

const VIEW_EXAMPLE = {
  id: 'c-thank-best', name: 'Thank our best viewers', status: 'active', adhoc: false,
  trigger: { type: 'tier_entered', tier: 'high' }, audience: { tiers: ['high'] },
  offer: { title: '10% off tonight', discount: { kind: 'percent', value: 10 }, maxDiscount: 5000, ttlSeconds: 1800 },
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
        description: 'Trigger, audience, offer, limits and holdout: see docs/offers.md. Checks a schema cannot express (e.g. a `tier_entered` trigger needs `tier`) answer 400 naming the field.',
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
        description: 'The four defaults first, then the stream\'s own, host pushes last (`adhoc: true`).',
        params: StreamParams,
        response: { 200: documented(Type.Object({ campaigns: Type.Array(View) }), 'The campaigns', { campaigns: [VIEW_EXAMPLE] }) },
      },
    },
    async (req) => ({ campaigns: await app.engine.campaigns.list(req.keyStream!) }),
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
        description: 'Top-level parts replace the old ones.',
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
