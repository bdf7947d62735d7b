/**
 * Webhooks on SQLite: the endpoints, the fan-out of events into the outbox (one delivery per
 * enabled endpoint of the channel subscribed to the type, inside the caller's transaction), the
 * claim with a lease, the attempts, and the end of streams. One process owns a SQLite file, so a
 * claim is a plain UPDATE in a transaction.
 */
import { randomBytes } from 'node:crypto';
import type { DB } from './db.js';
import type { ClaimedDelivery, DeliveryAttempt, DeliveryRow, StreamRow, WebhookEvent, WebhookPatch, WebhookRow } from '../types.js';
import { webhookBody } from '../../webhooks/events.js';

const webhookFrom = (r: any): WebhookRow => ({
  id: r.id, channel: r.channel, url: r.url, events: JSON.parse(r.events), description: r.description ?? null, secret: r.secret,
  enabled: r.enabled === 1, disabledReason: r.disabled_reason ?? null, failingSince: r.failing_since ?? null, createdAt: r.created_at, updatedAt: r.updated_at,
});

const deliveryFrom = (r: any): DeliveryRow => ({
  id: r.id, webhookId: r.webhook_id, eventId: r.event_id, type: r.type, viewerId: r.viewer_id ?? null, body: r.body, status: r.status,
  attempts: r.attempts, nextAt: r.next_at ?? null, firstTriedAt: r.first_tried_at ?? null, lastAttemptAt: r.last_attempt_at ?? null,
  lastCode: r.last_code ?? null, lastError: r.last_error ?? null, durationMs: r.duration_ms ?? null, createdAt: r.created_at, deliveredAt: r.delivered_at ?? null,
});

export const deliveryId = () => `msg_${randomBytes(12).toString('base64url')}`;

export type WebhookStore = ReturnType<typeof createWebhookStore>;

export function createWebhookStore(db: DB) {
  const s = {
    insert: db.prepare(`INSERT INTO webhooks (id, channel, url, events, description, secret, enabled, disabled_reason, failing_since, created_at, updated_at)
      VALUES (@id, @channel, @url, @events, @description, @secret, @enabled, @disabledReason, @failingSince, @createdAt, @updatedAt)`),
    list: db.prepare('SELECT * FROM webhooks WHERE channel = ? ORDER BY created_at, id'),
    get: db.prepare('SELECT * FROM webhooks WHERE channel = ? AND id = ?'),
    update: db.prepare(`UPDATE webhooks SET url = @url, events = @events, description = @description, enabled = @enabled,
      disabled_reason = @disabledReason, failing_since = @failingSince, updated_at = @updatedAt WHERE channel = @channel AND id = @id`),
    remove: db.prepare('DELETE FROM webhooks WHERE channel = ? AND id = ?'),
    removeDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE webhook_id = ?'),
    subscribed: db.prepare('SELECT id, events FROM webhooks WHERE channel = ? AND enabled = 1'),
    byId: db.prepare('SELECT id FROM webhooks WHERE id = ?'),
    deliver: db.prepare(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, viewer_id, body, status, attempts, next_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING`),
    due: db.prepare(`SELECT d.*, w.channel, w.url, w.secret, w.failing_since AS endpoint_failing_since
      FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.status = 'pending' AND d.next_at <= ? AND w.enabled = 1 ORDER BY d.next_at, d.created_at, d.id LIMIT ?`),
    hold: db.prepare('UPDATE webhook_deliveries SET next_at = ? WHERE id IN (SELECT value FROM json_each(?))'),
    finishOk: db.prepare(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, next_at = NULL, delivered_at = @at,
      last_attempt_at = @at, first_tried_at = COALESCE(first_tried_at, @at), last_code = @code, last_error = NULL, duration_ms = @durationMs WHERE id = @id RETURNING webhook_id`),
    finishFailed: db.prepare(`UPDATE webhook_deliveries SET status = @status, attempts = attempts + 1, next_at = @nextAt,
      last_attempt_at = @at, first_tried_at = COALESCE(first_tried_at, @at), last_code = @code, last_error = @error, duration_ms = @durationMs WHERE id = @id RETURNING webhook_id`),
    healthy: db.prepare('UPDATE webhooks SET failing_since = NULL WHERE id = ?'),
    failing: db.prepare('UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?'),
    deliveries: db.prepare(`SELECT d.* FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE w.channel = ? AND d.webhook_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?`),
    // also a delivery whose endpoint is gone (deleted while its change committed): never claimed
    prune: db.prepare(`DELETE FROM webhook_deliveries WHERE (status <> 'pending' AND last_attempt_at < ?) OR webhook_id NOT IN (SELECT id FROM webhooks)`),
    eraseViewer: db.prepare(`DELETE FROM webhook_deliveries WHERE viewer_id = ? AND status <> 'delivered'
      AND webhook_id IN (SELECT id FROM webhooks WHERE channel = ?)`),
    touch: db.prepare('UPDATE streams SET active_at = MAX(COALESCE(active_at, 0), ?) WHERE id IN (SELECT value FROM json_each(?))'),
    idle: db.prepare('SELECT * FROM streams WHERE ended_at IS NULL AND COALESCE(active_at, created_at) < ? ORDER BY COALESCE(active_at, created_at) LIMIT ?'),
    end: db.prepare('UPDATE streams SET ended_at = ? WHERE id = ? AND ended_at IS NULL'),
    stream: db.prepare('SELECT ended_at FROM streams WHERE id = ?'),
  };

  /** writes each event's deliveries (due at `now`, or at the event's time): one query for the endpoints per channel; returns how many were written */
  function fanOut(events: readonly WebhookEvent[], now?: number): number {
    if (!events.length) return 0;
    const endpoints = new Map<string, { id: string; events: string[] }[]>();
    let n = 0;
    for (const e of events) {
      let list = endpoints.get(e.channel);
      if (!list) {
        list = (s.subscribed.all(e.channel) as { id: string; events: string }[]).map((r) => ({ id: r.id, events: JSON.parse(r.events) as string[] }));
        endpoints.set(e.channel, list);
      }
      if (!list.length) continue;
      let body: string | undefined;
      for (const w of list) {
        if (!w.events.includes(e.type)) continue;
        body ??= webhookBody(e);
        n += s.deliver.run(deliveryId(), w.id, e.id, e.type, e.viewerId, body, now ?? e.at, now ?? e.at).changes;
      }
    }
    return n;
  }

  return {
    fanOut,
    /** to one endpoint, whatever its state or subscription (webhook.test) */
    fanOutTo(webhookId: string, events: readonly WebhookEvent[], now: number): number {
      if (!s.byId.get(webhookId)) return 0;
      let n = 0;
      for (const e of events) n += s.deliver.run(deliveryId(), webhookId, e.id, e.type, e.viewerId, webhookBody(e), now, now).changes;
      return n;
    },
    create(w: WebhookRow) {
      s.insert.run({ ...w, events: JSON.stringify(w.events), enabled: w.enabled ? 1 : 0 });
    },
    list: (channel: string) => (s.list.all(channel) as any[]).map(webhookFrom),
    get(channel: string, id: string): WebhookRow | null {
      const r = s.get.get(channel, id);
      return r ? webhookFrom(r) : null;
    },
    update(channel: string, id: string, patch: WebhookPatch, now: number): WebhookRow | null {
      const r = s.get.get(channel, id);
      if (!r) return null;
      const w = { ...webhookFrom(r), ...patch };
      if (patch.enabled === true && patch.disabledReason === undefined) {
        w.disabledReason = null;
        w.failingSince = null;
      }
      s.update.run({ channel, id, url: w.url, events: JSON.stringify(w.events), description: w.description, enabled: w.enabled ? 1 : 0, disabledReason: w.disabledReason, failingSince: w.failingSince, updatedAt: now });
      return webhookFrom(s.get.get(channel, id));
    },
    remove(channel: string, id: string): boolean {
      if (!s.remove.run(channel, id).changes) return false;
      s.removeDeliveries.run(id);
      return true;
    },
    /** inside the caller's transaction: the due rows, oldest first, then held until now + leaseMs */
    claim(now: number, limit: number, leaseMs: number): ClaimedDelivery[] {
      const rows = s.due.all(now, limit) as any[];
      if (!rows.length) return [];
      const until = now + leaseMs;
      s.hold.run(until, JSON.stringify(rows.map((r) => r.id)));
      return rows.map((r) => ({
        ...deliveryFrom({ ...r, next_at: until }), channel: r.channel, url: r.url, secret: r.secret, failingSince: r.endpoint_failing_since ?? null,
      }));
    },
    finish(id: string, a: DeliveryAttempt) {
      if (a.ok) {
        const r = s.finishOk.get({ id, at: a.at, code: a.code, durationMs: Math.round(a.durationMs) }) as { webhook_id: string } | undefined;
        if (r) s.healthy.run(r.webhook_id);
        return;
      }
      const r = s.finishFailed.get({ id, at: a.at, code: a.code, error: a.error, durationMs: Math.round(a.durationMs), nextAt: a.nextAt, status: a.nextAt === null ? 'failed' : 'pending' }) as { webhook_id: string } | undefined;
      if (r) s.failing.run(a.at, r.webhook_id);
    },
    deliveries: (channel: string, webhookId: string, limit: number) => (s.deliveries.all(channel, webhookId, limit) as any[]).map(deliveryFrom),
    prune: (before: number) => s.prune.run(before).changes,
    eraseViewer(channel: string, viewerId: string) {
      s.eraseViewer.run(viewerId, channel);
    },
    /** one statement; a late mark never moves a stream's activity back */
    touchStreams(ids: string[], now: number) {
      if (ids.length) s.touch.run(now, JSON.stringify(ids));
    },
    idleStreams: (before: number, limit: number, from: (r: any) => StreamRow) => (s.idle.all(before, limit) as any[]).map(from),
    /** the conditional end; the caller fans the event out when it won */
    end(streamId: string, now: number): { endedAt: number; now: boolean } | null {
      if (s.end.run(now, streamId).changes) return { endedAt: now, now: true };
      const r = s.stream.get(streamId) as { ended_at: number | null } | undefined;
      return r ? { endedAt: r.ended_at!, now: false } : null;
    },
  };
}
