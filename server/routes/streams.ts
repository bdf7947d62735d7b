/**
 * Streams: creation (admin) and what hosts read (host key).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { generateKey, hashKey } from '../auth/keys.js';
import { CreateStreamBody, ErrorReply, StreamCreated, StreamParams, TierName } from './schemas.js';
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
  updatedAt: Type.Integer(),
});

const Viewer = Type.Object({
  id: Type.String(),
  tier: TierName,
  reasons: Type.Array(Type.String()),
  verified: Type.Boolean(),
  connected: Type.Boolean(),
  stats: Type.Object({
    watchSeconds: Type.Integer(),
    comments: Type.Integer(),
    likes: Type.Integer(),
    productViews: Type.Integer(),
    addToCarts: Type.Integer(),
    firstSeenAt: Type.Integer(),
    lastSeenAt: Type.Integer(),
  }),
  thisStream: Type.Object({
    watchSeconds: Type.Integer(),
    comments: Type.Integer(),
    likes: Type.Integer(),
    productViews: Type.Integer(),
    addToCarts: Type.Integer(),
  }),
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
      if (app.repo.getStream(id)) throw new HttpError(409, 'conflict', `stream ${id} already exists`);
      const hostKey = generateKey('host');
      const ingestKey = generateKey('ingest');
      const allowedOrigins = req.body.allowedOrigins ?? [];
      app.repo.db.transaction(() => {
        app.repo.ensureChannel(channel, randomBytes(32).toString('base64url'), now);
        app.repo.insertStream({ id, channel, title: req.body.title, allowedOrigins, hostKeyHash: hashKey(hostKey), ingestKeyHash: hashKey(ingestKey), createdAt: now });
      })();
      reply.code(201);
      return { id, title: req.body.title, channel, allowedOrigins, hostKey, ingestKey };
    },
  );

  app.get(
    '/v1/streams/:id/summary',
    { preHandler: requireHost, schema: { params: StreamParams, response: { 200: Summary, ...errors } } },
    async (req) => {
      const summary = app.engine.summary(req.params.id);
      if (!summary) throw notFound(`unknown stream ${req.params.id}`);
      return summary;
    },
  );

  app.get(
    '/v1/streams/:id/viewers',
    {
      preHandler: requireHost,
      schema: {
        params: StreamParams,
        querystring: Type.Object({
          tier: Type.Optional(TierName),
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
        }),
        response: { 200: Type.Object({ viewers: Type.Array(Viewer) }), ...errors },
      },
    },
    async (req) => {
      const stream = req.keyStream!;
      const limit = Math.min(Math.max(Number(req.query.limit ?? 500), 1), 1000);
      const rows = app.repo.listViewers(stream.channel, stream.id, req.query.tier ?? null, limit);
      const live = app.engine.live(stream.id);
      return {
        viewers: rows.map((v) => {
          // the in-memory profile is the freshest view of tier and reasons
          const t = app.engine.tierOf(stream.channel, v.id);
          return {
            id: v.id,
            tier: t.tier,
            reasons: t.reasons,
            verified: v.verified,
            connected: !!live?.present.has(v.id),
            stats: {
              watchSeconds: Math.floor(v.watchMs / 1000),
              comments: v.comments,
              likes: v.likes,
              productViews: v.productViews,
              addToCarts: v.addToCarts,
              firstSeenAt: v.firstSeenAt,
              lastSeenAt: v.lastSeenAt,
            },
            thisStream: {
              watchSeconds: Math.floor(v.thisStream.watchMs / 1000),
              comments: v.thisStream.comments,
              likes: v.thisStream.likes,
              productViews: v.thisStream.productViews,
              addToCarts: v.thisStream.addToCarts,
            },
          };
        }).filter((v) => !req.query.tier || v.tier === req.query.tier),
      };
    },
  );
};
