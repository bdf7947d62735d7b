/**
 * Webhooks on PostgreSQL: the endpoints, the fan-out of events into the outbox (one INSERT …
 * SELECT inside the caller's transaction: a delivery per enabled endpoint of the event's channel
 * subscribed to its type, nothing when there is none), the claim any server may make
 * (`FOR UPDATE SKIP LOCKED`: servers claiming at once take different deliveries), the lease that
 * hands a delivery to another server when its holder dies, the attempts, and the end of streams
 * (a conditional UPDATE: of servers ending one stream at once, one wins and writes the event).
 */
import { randomBytes } from 'node:crypto';
import type { ClaimedDelivery, DeliveryRow, Store, WebhookEvent, WebhookRow } from '../types.js';
import { webhookBody } from '../../webhooks/events.js';
import type { Db, Sql } from './pool.js';
import { columns, streamFrom } from './rows.js';
import { recordEnd } from './overview.js';

type Row = Record<string, any>;

const webhookFrom = (r: Row): WebhookRow => ({
  id: r.id, channel: r.channel, url: r.url, events: r.events, description: r.description ?? null, secret: r.secret, enabled: r.enabled,
  disabledReason: r.disabled_reason ?? null, failingSince: r.failing_since ?? null, createdAt: r.created_at, updatedAt: r.updated_at,
});

const deliveryFrom = (r: Row): DeliveryRow => ({
  id: r.id, webhookId: r.webhook_id, eventId: r.event_id, type: r.type, viewerId: r.viewer_id ?? null, body: r.body, status: r.status,
  attempts: r.attempts, nextAt: r.next_at ?? null, firstTriedAt: r.first_tried_at ?? null, lastAttemptAt: r.last_attempt_at ?? null,
  lastCode: r.last_code ?? null, lastError: r.last_error ?? null, durationMs: r.duration_ms ?? null, createdAt: r.created_at, deliveredAt: r.delivered_at ?? null,
});

export const deliveryId = () => `msg_${randomBytes(12).toString('base64url')}`;

/**
 * Writes the events' deliveries inside the caller's transaction (due at `now`, or at each
 * event's time); returns how many. One query finds the endpoints of every channel in the call
 * (a push of thousands of offers to a channel without webhooks costs that one query, and no
 * event body is built); the deliveries are one INSERT, a repeat of an event id writing nothing.
 * The endpoints are held FOR KEY SHARE until the commit, so a concurrent `deleteWebhook` waits
 * and then deletes these deliveries too (or, deleting first, leaves nothing to write to).
 * `only`: to that endpoint alone, whatever its state or subscription (webhook.test).
 */
export async function fanOut(c: Sql, events: readonly WebhookEvent[], now?: number, only?: string): Promise<number> {
  if (!events.length) return 0;
  const { rows: endpoints } = only
    ? await c.query<{ id: string; channel: string; events: string[] }>('SELECT id, channel, events FROM webhooks WHERE id = $1 FOR KEY SHARE', [only])
    : await c.query<{ id: string; channel: string; events: string[] }>(
        'SELECT id, channel, events FROM webhooks WHERE channel = ANY ($1::text[]) AND enabled FOR KEY SHARE',
        [[...new Set(events.map((e) => e.channel))]],
      );
  if (!endpoints.length) return 0;
  const byChannel = new Map<string, { id: string; events: string[] }[]>();
  for (const w of endpoints) byChannel.set(w.channel, [...(byChannel.get(w.channel) ?? []), w]);
  const cells: unknown[][] = [];
  for (const e of events) {
    const to = only ? endpoints : (byChannel.get(e.channel) ?? []).filter((w) => w.events.includes(e.type));
    if (!to.length) continue;
    const body = webhookBody(e);
    for (const w of to) cells.push([deliveryId(), w.id, e.id, e.type, e.viewerId, body, now ?? e.at]);
  }
  if (!cells.length) return 0;
  const r = await c.query(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, viewer_id, body, status, attempts, next_at, created_at)
     SELECT u.id, u.webhook_id, u.event_id, u.type, u.viewer_id, u.body, 'pending', 0, u.at, u.at
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
       AS u(id, webhook_id, event_id, type, viewer_id, body, at)
     ON CONFLICT (webhook_id, event_id) DO NOTHING`,
    columns(cells, 7),
  );
  return r.rowCount ?? 0;
}

type WebhookOps = Pick<
  Store,
  | 'touchStreams' | 'idleStreams' | 'endStream' | 'createWebhook' | 'listWebhooks' | 'getWebhook' | 'updateWebhook' | 'deleteWebhook'
  | 'enqueueWebhooks' | 'claimDeliveries' | 'finishDelivery' | 'listDeliveries' | 'pruneDeliveries'
>;

export function webhookOps(db: Db): WebhookOps {
  return {
    async touchStreams(ids, now) {
      if (!ids.length) return;
      await db.query('UPDATE streams SET active_at = GREATEST(COALESCE(active_at, 0), $2) WHERE id = ANY ($1::text[])', [ids, now]);
    },
    async idleStreams(before, limit) {
      const { rows } = await db.query(
        'SELECT * FROM streams WHERE ended_at IS NULL AND COALESCE(active_at, created_at) < $1 ORDER BY COALESCE(active_at, created_at) LIMIT $2',
        [before, limit],
      );
      return rows.map(streamFrom);
    },
    endStream(streamId, now, event, peakConnected) {
      return db.tx(async (c) => {
        const won = await c.query('UPDATE streams SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING *', [streamId, now]);
        if (won.rows.length) {
          await recordEnd(c, streamId, won.rows[0].channel, now, peakConnected ?? null);
          await fanOut(c, [event(streamFrom(won.rows[0]))], now);
          return { endedAt: now, now: true };
        }
        const { rows } = await c.query('SELECT ended_at FROM streams WHERE id = $1', [streamId]);
        return rows.length ? { endedAt: Number(rows[0].ended_at), now: false } : null;
      });
    },
    async createWebhook(w) {
      await db.query(
        `INSERT INTO webhooks (id, channel, url, events, description, secret, enabled, disabled_reason, failing_since, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [w.id, w.channel, w.url, JSON.stringify(w.events), w.description, w.secret, w.enabled, w.disabledReason, w.failingSince, w.createdAt, w.updatedAt],
      );
    },
    async listWebhooks(channel) {
      return (await db.query('SELECT * FROM webhooks WHERE channel = $1 ORDER BY created_at, id', [channel])).rows.map(webhookFrom);
    },
    async getWebhook(channel, id) {
      const { rows } = await db.query('SELECT * FROM webhooks WHERE channel = $1 AND id = $2', [channel, id]);
      return rows.length ? webhookFrom(rows[0]) : null;
    },
    updateWebhook(channel, id, patch, now) {
      return db.tx(async (c) => {
        const { rows } = await c.query('SELECT * FROM webhooks WHERE channel = $1 AND id = $2 FOR UPDATE', [channel, id]);
        if (!rows.length) return null;
        const w = { ...webhookFrom(rows[0]), ...patch };
        if (patch.enabled === true && patch.disabledReason === undefined) {
          w.disabledReason = null;
          w.failingSince = null;
        }
        const upd = await c.query(
          `UPDATE webhooks SET url = $3, events = $4, description = $5, enabled = $6, disabled_reason = $7, failing_since = $8, updated_at = $9
           WHERE channel = $1 AND id = $2 RETURNING *`,
          [channel, id, w.url, JSON.stringify(w.events), w.description, w.enabled, w.disabledReason, w.failingSince, now],
        );
        return webhookFrom(upd.rows[0]);
      });
    },
    deleteWebhook(channel, id) {
      return db.tx(async (c) => {
        const gone = ((await c.query('DELETE FROM webhooks WHERE channel = $1 AND id = $2', [channel, id])).rowCount ?? 0) > 0;
        if (gone) await c.query('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [id]);
        return gone;
      });
    },
    enqueueWebhooks(events, now, only) {
      return db.tx((c) => fanOut(c, events, now, only));
    },
    claimDeliveries(now, limit, leaseMs) {
      return db.tx(async (c) => {
        const { rows } = await c.query(
          `WITH due AS (
             SELECT d.id, d.next_at AS due_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_at <= $1 AND w.enabled
             ORDER BY d.next_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_deliveries d SET next_at = $2 FROM due, webhooks w
           WHERE d.id = due.id AND w.id = d.webhook_id
           RETURNING d.*, due.due_at, w.channel, w.url, w.secret, w.failing_since`,
          [now, now + leaseMs, limit],
        );
        // RETURNING keeps no order: the oldest due first, as claimed
        return rows
          .sort((a, b) => a.due_at - b.due_at || a.created_at - b.created_at || (a.id < b.id ? -1 : 1))
          .map((r): ClaimedDelivery => ({ ...deliveryFrom(r), channel: r.channel, url: r.url, secret: r.secret, failingSince: r.failing_since ?? null }));
      });
    },
    finishDelivery(id, a) {
      return db.tx(async (c) => {
        const { rows } = await c.query(
          `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_at = $3, delivered_at = $4, last_attempt_at = $5,
             first_tried_at = COALESCE(first_tried_at, $5), last_code = $6, last_error = $7, duration_ms = $8
           WHERE id = $1 RETURNING webhook_id`,
          [id, a.ok ? 'delivered' : a.nextAt === null ? 'failed' : 'pending', a.ok ? null : a.nextAt, a.ok ? a.at : null, a.at, a.code, a.ok ? null : a.error, Math.round(a.durationMs)],
        );
        if (!rows.length) return;
        await c.query(
          a.ok ? 'UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL' : 'UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) WHERE id = $1',
          a.ok ? [rows[0].webhook_id] : [rows[0].webhook_id, a.at],
        );
      });
    },
    async listDeliveries(channel, webhookId, limit) {
      const { rows } = await db.query(
        `SELECT d.* FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE w.channel = $1 AND d.webhook_id = $2 ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
        [channel, webhookId, limit],
      );
      return rows.map(deliveryFrom);
    },
    async pruneDeliveries(before) {
      // also a delivery whose endpoint is gone (deleted while its change committed): never claimed
      return (await db.query(
        `DELETE FROM webhook_deliveries d WHERE (d.status <> 'pending' AND d.last_attempt_at < $1) OR NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)`,
        [before],
      )).rowCount ?? 0;
    },
  };
}

/** a viewer's undelivered events go with their erasure (inside eraseViewer's transaction) */
export async function eraseViewerDeliveries(c: Sql, channel: string, viewerId: string) {
  await c.query(
    `DELETE FROM webhook_deliveries WHERE viewer_id = $2 AND status <> 'delivered' AND webhook_id IN (SELECT id FROM webhooks WHERE channel = $1)`,
    [channel, viewerId],
  );
}
