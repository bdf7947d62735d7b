/**
 * Campaigns, all with the stream's host key: create, list, read with stats, pause /
 * resume / edit, and send a manual campaign to the viewers connected now.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { CampaignDoc, CampaignError, CampaignPatch, checkCampaign } from '../offers/campaign.js';
import { ErrorReply, StreamParams } from './schemas.js';
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

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply };

/** a document that passed the schema but not the cross-field checks: 400 naming the field */
function badDocument(err: unknown): never {
  if (err instanceof CampaignError) throw new HttpError(400, 'bad_request', `body.${err.message}`);
  throw err;
}

export const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/streams/:id/campaigns',
    { preHandler: requireHost, schema: { params: StreamParams, body: CampaignDoc, response: { 201: View, ...errors } } },
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
      schema: { params: StreamParams, response: { 200: Type.Object({ campaigns: Type.Array(View) }), ...errors } },
    },
    async (req) => ({ campaigns: await app.engine.campaigns.list(req.keyStream!) }),
  );

  app.get(
    '/v1/streams/:id/campaigns/:cid',
    { preHandler: requireHost, schema: { params: CampaignParams, response: { 200: View, ...errors } } },
    async (req) => {
      const view = await app.engine.campaigns.get(req.keyStream!, req.params.cid);
      if (!view) throw notFound(`unknown campaign ${req.params.cid}`);
      return view;
    },
  );

  app.patch(
    '/v1/streams/:id/campaigns/:cid',
    { preHandler: requireHost, schema: { params: CampaignParams, body: CampaignPatch, response: { 200: View, ...errors } } },
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
    { preHandler: requireHost, schema: { params: CampaignParams, response: { 200: SendReply, 409: ErrorReply, ...errors } } },
    async (req) => {
      const r = await app.engine.campaigns.send(req.keyStream!, req.params.cid);
      if (!r) throw notFound(`unknown campaign ${req.params.cid}`);
      if (r === 'not_manual') throw new HttpError(409, 'conflict', `campaign ${req.params.cid} fires by its trigger; only manual campaigns are sent`);
      if (r === 'paused') throw new HttpError(409, 'conflict', `campaign ${req.params.cid} is paused; resume it first`);
      return r;
    },
  );
};
