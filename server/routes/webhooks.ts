/**
 * A channel's webhooks (admin key): the merchant's endpoints that receive signed events
 * (docs/operations.md#webhooks).
 *   POST   /v1/channels/:channel/webhooks                   register { url, events, description? } → 201 with its secret (shown once)
 *   GET    /v1/channels/:channel/webhooks                   list them
 *   PATCH  /v1/channels/:channel/webhooks/:id               change or disable one (enabling clears why it was disabled)
 *   DELETE /v1/channels/:channel/webhooks/:id               remove it and its deliveries
 *   POST   /v1/channels/:channel/webhooks/:id/test          send it a `webhook.test` event
 *   GET    /v1/channels/:channel/webhooks/:id/deliveries    recent deliveries (status, code, duration, next retry)
 * The URL is checked at registration (https only unless --webhooks-allow-http; no private,
 * link-local or loopback address among those its name resolves to) and again before each connection.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { documented, errorReply, Slug } from './schemas.js';
import { HttpError, notFound, requireAdmin } from './guards.js';
import { WEBHOOK_EVENTS, testEvent } from '../webhooks/events.js';
import { checkTarget } from '../webhooks/address.js';
import { newSecret } from '../webhooks/sign.js';
import { systemResolve } from '../webhooks/deliver.js';
import type { DeliveryRow, WebhookRow } from '../store/types.js';

const EventName = Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)));
const Events = Type.Array(EventName, { minItems: 1, maxItems: WEBHOOK_EVENTS.length, uniqueItems: true, description: `any of ${WEBHOOK_EVENTS.join(', ')}` });
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https://… (http:// and loopback only with --webhooks-allow-http)' });
const Description = Type.String({ maxLength: 500 });

const CreateBody = Type.Object({ url: Url, events: Events, description: Type.Optional(Description) }, { additionalProperties: false });
const PatchBody = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Type.Union([Description, Type.Null()])), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

const Endpoint = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([Type.String(), Type.Null()], { description: 'why it is disabled: by the admin, or after failing for --webhooks-disable-after-hours' }),
  failingSince: Type.Union([Type.Integer(), Type.Null()], { description: 'first failed attempt since its last success (ms)' }),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const Created = Type.Object({ ...Endpoint.properties, secret: Type.String({ description: 'whsec_…: verifies the signatures (Standard Webhooks); shown only here' }) });
const Delivery = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'the `webhook-id` header: the same on every retry' }),
  type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastCode: Type.Union([Type.Integer(), Type.Null()], { description: "the receiver's HTTP status on the last attempt" }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  nextAttemptAt: Type.Union([Type.Integer(), Type.Null()], { description: 'pending: when it is tried next' }),
  createdAt: Type.Integer(),
  lastAttemptAt: Type.Union([Type.Integer(), Type.Null()]),
  deliveredAt: Type.Union([Type.Integer(), Type.Null()]),
});

const ENDPOINT_EXAMPLE = {
  id: 'wh_3kq9x2m1', channel: 'shop-1', url: 'https://crm.shop.example/hooks/livetier', events: ['viewer.lifecycle_changed', 'purchase.recorded'],
  description: 'win-back e-mails', enabled: true, disabledReason: null, failingSince: null, createdAt: 1746102600000, updatedAt: 1746102600000,
};

const show = ({ secret: _secret, ...w }: WebhookRow) => w;
const showDelivery = (d: DeliveryRow) => ({
  id: d.id, eventId: d.eventId, type: d.type, status: d.status, attempts: d.attempts, lastCode: d.lastCode, lastError: d.lastError,
  durationMs: d.durationMs, nextAttemptAt: d.status === 'pending' ? d.nextAt : null, createdAt: d.createdAt, lastAttemptAt: d.lastAttemptAt, deliveredAt: d.deliveredAt,
});

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const Params = Type.Object({ channel: Slug });
  const OneParams = Type.Object({ channel: Slug, id: Type.String({ minLength: 1, maxLength: 64 }) });
  const unknownChannel = errorReply(404, 'not_found', 'unknown channel shop-1');
  const unknownHook = errorReply(404, 'not_found', 'unknown webhook wh_3kq9x2m1 in channel shop-1');
  const badUrl = errorReply(400, 'bad_request', 'body.url: 10.0.0.5 is a private, link-local or reserved address', 'A bad body: the message names the field (a refused URL says why)');

  /** the URL's policy check on the addresses it resolves to now (400 naming body.url) */
  const checkUrl = async (url: string) => {
    const r = await checkTarget(url, app.webhooks.policy, app.webhooks.resolve ?? systemResolve);
    if (!r.ok) throw new HttpError(400, 'bad_request', `body.url: ${r.reason}`);
  };
  const requireChannel = async (channel: string) => {
    if (!(await app.store.channelExists(channel))) throw notFound(`unknown channel ${channel}`);
  };
  const requireHook = async (channel: string, id: string) => {
    const w = await app.store.getWebhook(channel, id);
    if (!w) throw notFound(`unknown webhook ${id} in channel ${channel}`);
    return w;
  };

  app.post(
    '/v1/channels/:channel/webhooks',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Register a webhook endpoint',
        description: 'Events are signed as Standard Webhooks specifies, with the `secret` of this answer (shown only here). See docs/operations.md#webhooks.',
        params: Params,
        body: documented(CreateBody, 'The endpoint', { url: 'https://crm.shop.example/hooks/livetier', events: ['viewer.lifecycle_changed', 'purchase.recorded'], description: 'win-back e-mails' }),
        response: { 201: documented(Created, 'Registered', { ...ENDPOINT_EXAMPLE, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }), 400: badUrl, 404: unknownChannel },
      },
    },
    async (req, reply) => {
      const { channel } = req.params;
      await requireChannel(channel);
      await checkUrl(req.body.url);
      const now = Date.now();
      const row: WebhookRow = {
        id: `wh_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`, channel, url: req.body.url, events: req.body.events,
        description: req.body.description ?? null, secret: newSecret(), enabled: true, disabledReason: null, failingSince: null, createdAt: now, updatedAt: now,
      };
      await app.store.createWebhook(row);
      reply.code(201);
      return row;
    },
  );

  app.get(
    '/v1/channels/:channel/webhooks',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhooks',
        summary: "The channel's webhook endpoints",
        params: Params,
        response: { 200: documented(Type.Object({ webhooks: Type.Array(Endpoint) }), 'Oldest first (no secrets)', { webhooks: [ENDPOINT_EXAMPLE] }), 404: unknownChannel },
      },
    },
    async (req) => {
      await requireChannel(req.params.channel);
      return { webhooks: (await app.store.listWebhooks(req.params.channel)).map(show) };
    },
  );

  app.patch(
    '/v1/channels/:channel/webhooks/:id',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change, disable or enable a webhook endpoint',
        description: '`enabled: false` stops its deliveries (they wait); `enabled: true` starts them again and clears why it was disabled.',
        params: OneParams,
        body: documented(PatchBody, 'The fields to change', { enabled: false }),
        response: { 200: documented(Endpoint, 'The endpoint', { ...ENDPOINT_EXAMPLE, enabled: false, disabledReason: 'disabled by the admin' }), 400: badUrl, 404: unknownHook },
      },
    },
    async (req) => {
      const { channel, id } = req.params;
      await requireHook(channel, id);
      if (req.body.url !== undefined) await checkUrl(req.body.url);
      const { enabled, ...rest } = req.body;
      const patch = { ...rest, ...(enabled === undefined ? {} : enabled ? { enabled } : { enabled, disabledReason: 'disabled by the admin' }) };
      const w = await app.store.updateWebhook(channel, id, patch, Date.now());
      if (!w) throw notFound(`unknown webhook ${id} in channel ${channel}`);
      return show(w);
    },
  );

  app.delete(
    '/v1/channels/:channel/webhooks/:id',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Remove a webhook endpoint and its deliveries',
        params: OneParams,
        response: { 204: Type.Null({ description: 'Removed' }), 404: unknownHook },
      },
    },
    async (req, reply) => {
      const { channel, id } = req.params;
      if (!(await app.store.deleteWebhook(channel, id))) throw notFound(`unknown webhook ${id} in channel ${channel}`);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/channels/:channel/webhooks/:id/test',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'testWebhook',
        summary: 'Send a test event to one endpoint',
        description: 'A `webhook.test` event through the outbox, like any other (see its deliveries for the outcome). Sent even to a disabled endpoint. No body.',
        params: OneParams,
        response: { 202: documented(Type.Object({ eventId: Type.String() }), 'Queued', { eventId: 'evt_5f1c0a9b2d7e4c3a8b6f0e1d2c3b4a59' }), 404: unknownHook },
      },
    },
    async (req, reply) => {
      const { channel, id } = req.params;
      await requireHook(channel, id);
      const event = testEvent(channel, id, Date.now());
      await app.store.enqueueWebhooks([event], event.at, id);
      void app.webhooks.service.tick();
      reply.code(202);
      return { eventId: event.id };
    },
  );

  app.get(
    '/v1/channels/:channel/webhooks/:id/deliveries',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['webhooks'],
        operationId: 'webhookDeliveries',
        summary: "An endpoint's recent deliveries",
        description: 'Newest first; delivered and failed ones are kept 7 days.',
        params: OneParams,
        // other query parameters are ignored (cache busters and the like)
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1–500, default 50' })) }),
        response: {
          200: documented(Type.Object({ deliveries: Type.Array(Delivery) }), 'Newest first', {
            deliveries: [{ id: 'msg_q8b2', eventId: 'evt_5f1c0a9b2d7e4c3a8b6f0e1d2c3b4a59', type: 'purchase.recorded', status: 'pending', attempts: 2, lastCode: 500, lastError: 'answered 500', durationMs: 41, nextAttemptAt: 1746102725000, createdAt: 1746102600000, lastAttemptAt: 1746102605000, deliveredAt: null }],
          }),
          400: errorReply(400, 'bad_request', 'querystring.limit must be 1–500'),
          404: unknownHook,
        },
      },
    },
    async (req) => {
      const { channel, id } = req.params;
      const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
      if (limit < 1 || limit > 500) throw new HttpError(400, 'bad_request', 'querystring.limit must be 1–500');
      await requireHook(channel, id);
      return { deliveries: (await app.store.listDeliveries(channel, id, limit)).map(showDelivery) };
    },
  );
};
