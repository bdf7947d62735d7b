/**
 * Streams: creation (admin) and what hosts read (host key).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { generateKey, hashKey } from '../auth/keys.js';
import { CreateStreamBody, ErrorReply, StreamCreated, StreamParams } from './schemas.js';
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

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply };

export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/streams',
    {
      preHandler: requireAdmin,
      schema: { body: CreateStreamBody, response: { 201: StreamCreated, 409: ErrorReply, ...errors } },
    },
    async (req, reply) => {
      const now = Date.now();
      const channel = req.body.channel ?? 'default';
      const id = req.body.id ?? randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
      const hostKey = generateKey('host');
      const ingestKey = generateKey('ingest');
      const allowedOrigins = req.body.allowedOrigins ?? [];
      const created = await app.store.createStream(
        { id, channel, title: req.body.title, allowedOrigins, hostKeyHash: hashKey(hostKey), ingestKeyHash: hashKey(ingestKey), createdAt: now },
        randomBytes(32).toString('base64url'),
      );
      if (!created) throw new HttpError(409, 'conflict', `stream ${id} already exists`);
      reply.code(201);
      return { id, title: req.body.title, channel, allowedOrigins, hostKey, ingestKey };
    },
  );

  app.get(
    '/v1/streams/:id/summary',
    { preHandler: requireHost, schema: { params: StreamParams, response: { 200: Summary, ...errors } } },
    async (req) => {
      const summary = await app.engine.summary(req.params.id);
      if (!summary) throw notFound(`unknown stream ${req.params.id}`);
      return summary;
    },
  );
  // the viewer list is in routes/viewers.ts (filters, sort, cursor)
};
