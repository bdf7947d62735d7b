/**
 * Streams: creation (admin) and what hosts read (host key).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { generateKey, hashKey } from '../auth/keys.js';
import { checkCurrency, CreateStreamBody, documented, errorReply, StreamCreated, StreamParams } from './schemas.js';
import { HttpError, notFound, requireAdmin, requireHost } from './guards.js';

const Counts = Type.Object({ high: Type.Integer(), mid: Type.Integer(), potential: Type.Integer() });
const Summary = Type.Object({
  streamId: Type.String(),
  title: Type.String(),
  channel: Type.String(),
  tiers: Counts,
  connected: Type.Integer(),
  audience: Type.Integer(),
  orders: Type.Integer(),
  gmv: Type.Integer(),
  offers: Type.Object({ issued: Type.Integer(), delivered: Type.Integer(), redeemed: Type.Integer() }),
  // connected viewers by lifecycle
  lifecycle: Type.Object({ new: Type.Integer(), active: Type.Integer(), at_risk: Type.Integer(), lapsed: Type.Integer() }),
  updatedAt: Type.Integer(),
});

const SUMMARY_EXAMPLE = {
  streamId: 'spring-sale',
  title: 'Spring sale live',
  channel: 'shop-1',
  tiers: { high: 12, mid: 85, potential: 640 },
  connected: 737,
  audience: 1204,
  orders: 41,
  gmv: 5326000,
  offers: { issued: 310, delivered: 298, redeemed: 37 },
  lifecycle: { new: 402, active: 280, at_risk: 40, lapsed: 15 },
  updatedAt: 1746102600000,
};

export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/streams',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['streams'],
        operationId: 'createStream',
        summary: 'Create a stream (and its host and ingest keys)',
        description:
          'The keys are in this answer only: LiveTier keeps their SHA-256 digests. `channel` (default `default`) groups streams whose viewers share tiers, tokens and coupons; `allowedOrigins` limits the browsers that may use the stream (none: any).',
        body: CreateStreamBody,
        response: {
          201: StreamCreated,
          400: errorReply(400, 'bad_request', "body.currency USD is not channel shop-1's currency CNY (a channel keeps one currency)", 'A bad body: the message names the field'),
          409: errorReply(409, 'conflict', 'stream spring-sale already exists', 'A stream with this `id` exists'),
        },
      },
    },
    async (req, reply) => {
      const now = Date.now();
      const channel = req.body.channel ?? 'default';
      const id = req.body.id ?? randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
      const hostKey = generateKey('host');
      const ingestKey = generateKey('ingest');
      const allowedOrigins = req.body.allowedOrigins ?? [];
      const currency = req.body.currency;
      if (currency !== undefined) {
        checkCurrency(currency, 'body.currency');
        const has = await app.store.getChannelCurrency(channel);
        if (has !== null && has !== currency) throw new HttpError(400, 'bad_request', `body.currency ${currency} is not channel ${channel}'s currency ${has} (a channel keeps one currency)`);
      }
      const created = await app.store.createStream(
        { id, channel, title: req.body.title, allowedOrigins, hostKeyHash: hashKey(hostKey), ingestKeyHash: hashKey(ingestKey), createdAt: now },
        randomBytes(32).toString('base64url'),
      );
      if (!created) throw new HttpError(409, 'conflict', `stream ${id} already exists`);
      if (currency !== undefined) await app.store.claimChannelCurrency(channel, currency);
      reply.code(201);
      return { id, title: req.body.title, channel, allowedOrigins, hostKey, ingestKey };
    },
  );

  app.get(
    '/v1/streams/:id/summary',
    {
      preHandler: requireHost,
      schema: {
        tags: ['streams'],
        operationId: 'streamSummary',
        summary: "The stream's live summary",
        description: '`tiers` and `lifecycle` count the viewers connected now; `audience` the unique viewers seen in this stream so far. The `/host` socket sends the same shape (`snapshot`, `update`).',
        params: StreamParams,
        response: { 200: documented(Summary, 'The summary', SUMMARY_EXAMPLE), 404: errorReply(404, 'not_found', 'unknown stream spring-sale') },
      },
    },
    async (req) => {
      const summary = await app.engine.summary(req.params.id);
      if (!summary) throw notFound(`unknown stream ${req.params.id}`);
      return summary;
    },
  );
  // the viewer list is in routes/viewers.ts (filters, sort, cursor)
};
