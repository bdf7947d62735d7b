/**
 * Webhooks end to end: a real HTTP receiver on loopback (the servers run with
 * `--webhooks-allow-http`), signatures verified with the standardwebhooks package, retries after
 * a 500, an endpoint disabled after failing, a slow receiver given up on while ingest goes on,
 * a kill -9 between the change and its delivery (the outbox delivers after the restart), the
 * refusal of private targets, and the end of a stream. Both stores.
 */
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { ADMIN_KEY, connectViewer, createStream, eid, startServer, testDatabase, until, closeAllClients, type TestServer } from '../helpers/server.js';
import { CHILD_ADMIN_KEY, haveBuild, spawnServer, type Child } from '../helpers/process.js';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  json: { id: string; type: string; timestamp: string; channel: string; data: Record<string, any> };
}

/** a receiver on 127.0.0.1: records every request; `answers[path]` says what to answer next (a code, or 'hang') */
let receiver: http.Server;
let base = '';
const received: Received[] = [];
const answers: Record<string, (number | 'hang')[]> = {};

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers as Record<string, string>, body, json: JSON.parse(body) });
      const a = answers[path]?.length ? answers[path]!.shift()! : 200;
      if (a === 'hang') return;
      res.writeHead(a, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

const servers: TestServer[] = [];
const children: Child[] = [];
afterEach(async () => {
  closeAllClients();
  for (const s of servers.splice(0)) await s.close();
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

async function server(app: Record<string, unknown> = {}) {
  const s = await startServer({ app: { ...app, webhooks: { allowHttp: true, ...(app.webhooks as object) } } });
  servers.push(s);
  return s;
}

let pathSeq = 0;
const newPath = () => `/hook-${pathSeq++}`;
const at = (path: string) => received.filter((r) => r.path === path);

async function register(s: { api: TestServer['api'] }, channel: string, path: string, events: string[], key = ADMIN_KEY) {
  const r = await s.api('POST', `/v1/channels/${channel}/webhooks`, { url: base + path, events, description: 'test receiver' }, key);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; secret: string };
}

describe('webhooks', () => {
  it('registers an endpoint (its secret shown once), lists, changes and removes it; refuses private, loopback and plain-http targets', async () => {
    const s = await server();
    await createStream(s, { channel: 'wh-crud' });
    const path = newPath();
    const made = await register(s, 'wh-crud', path, ['purchase.recorded']);
    expect(made.secret).toMatch(/^whsec_/);
    const list = await s.api('GET', '/v1/channels/wh-crud/webhooks', undefined, ADMIN_KEY);
    expect(list.body.webhooks).toHaveLength(1);
    expect(list.body.webhooks[0]).toMatchObject({ id: made.id, url: base + path, events: ['purchase.recorded'], enabled: true, disabledReason: null });
    expect(list.body.webhooks[0].secret).toBeUndefined();

    const off = await s.api('PATCH', `/v1/channels/wh-crud/webhooks/${made.id}`, { enabled: false }, ADMIN_KEY);
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'disabled by the admin' });
    const on = await s.api('PATCH', `/v1/channels/wh-crud/webhooks/${made.id}`, { enabled: true, events: ['purchase.recorded', 'purchase.refunded'] }, ADMIN_KEY);
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, events: ['purchase.recorded', 'purchase.refunded'] });

    // bad input: 400 naming the field, nothing stored
    const bad = [
      [{ url: 'http://10.0.0.5/hook', events: ['purchase.recorded'] }, /body\.url: 10\.0\.0\.5 is a private/],
      [{ url: 'http://169.254.169.254/latest', events: ['purchase.recorded'] }, /body\.url: 169\.254\.169\.254 is a private, link-local/],
      [{ url: 'ftp://shop.example/hook', events: ['purchase.recorded'] }, /body\.url: url must be http\(s\)/],
      [{ url: 'https://user:pw@shop.example/hook', events: ['purchase.recorded'] }, /body\.url: url must not carry credentials/],
      [{ url: base, events: ['tier.changed'] }, /body\.events/],
      [{ url: base, events: [] }, /body\.events/],
      [{ url: base }, /events/],
    ] as const;
    for (const [body, message] of bad) {
      const r = await s.api('POST', '/v1/channels/wh-crud/webhooks', body, ADMIN_KEY);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.message).toMatch(message);
    }
    expect((await s.api('POST', '/v1/channels/no-such/webhooks', { url: base, events: ['purchase.recorded'] }, ADMIN_KEY)).status).toBe(404);
    expect((await s.api('PATCH', `/v1/channels/wh-crud/webhooks/${made.id}`, { url: 'http://192.168.1.1/x' }, ADMIN_KEY)).body.message).toMatch(/body\.url: 192\.168\.1\.1/);
    expect((await s.api('GET', '/v1/channels/wh-crud/webhooks', undefined, ADMIN_KEY)).body.webhooks).toHaveLength(1);

    // another channel cannot reach it; deleting removes it
    await createStream(s, { channel: 'wh-other' });
    expect((await s.api('DELETE', `/v1/channels/wh-other/webhooks/${made.id}`, undefined, ADMIN_KEY)).status).toBe(404);
    expect((await s.api('GET', `/v1/channels/wh-other/webhooks/${made.id}/deliveries`, undefined, ADMIN_KEY)).status).toBe(404);
    expect((await s.api('DELETE', `/v1/channels/wh-crud/webhooks/${made.id}`, undefined, ADMIN_KEY)).status).toBe(204);
    expect((await s.api('DELETE', `/v1/channels/wh-crud/webhooks/${made.id}`, undefined, ADMIN_KEY)).status).toBe(404);

    // without --webhooks-allow-http: https only, and no loopback
    const strict = await startServer({ app: { webhooks: { allowHttp: false } } });
    servers.push(strict);
    await createStream(strict, { channel: 'wh-strict' });
    const plain = await strict.api('POST', '/v1/channels/wh-strict/webhooks', { url: base, events: ['purchase.recorded'] }, ADMIN_KEY);
    expect(plain.body.message).toMatch(/body\.url: url must use https \(http needs --webhooks-allow-http\)/);
    const loop = await strict.api('POST', '/v1/channels/wh-strict/webhooks', { url: 'https://127.0.0.1/hook', events: ['purchase.recorded'] }, ADMIN_KEY);
    expect(loop.body.message).toMatch(/body\.url: 127\.0\.0\.1 is a loopback address/);
    // a name checked on what it resolves to (a stub resolver: no DNS traffic)
    const named = await startServer({ app: { webhooks: { allowHttp: false, resolve: async () => [{ address: '10.9.8.7', family: 4 }] } } });
    servers.push(named);
    await createStream(named, { channel: 'wh-named' });
    const inside = await named.api('POST', '/v1/channels/wh-named/webhooks', { url: 'https://crm.shop.example/hook', events: ['purchase.recorded'] }, ADMIN_KEY);
    expect(inside.status).toBe(400);
    expect(inside.body.message).toMatch(/body\.url: 10\.9\.8\.7 is a private/);
  });

  it('delivers a purchase, its offer and the tier change, signed (standardwebhooks verifies), each event once with its own id and no keys', async () => {
    const s = await server();
    const stream = await createStream(s, { channel: 'wh-flow' });
    const path = newPath();
    const hook = await register(s, 'wh-flow', path, ['purchase.recorded', 'purchase.refunded', 'offer.issued', 'viewer.tier_changed', 'viewer.lifecycle_changed', 'offer.redeemed']);
    // the viewer's first purchase (¥250) moves them up to mid, which earns the default deal
    expect((await s.api('POST', '/v1/purchases', { orderId: 'wh-o1', viewerId: 'buyer', amount: 25_000, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    await until(() => ['purchase.recorded', 'viewer.tier_changed', 'offer.issued'].every((t) => at(path).some((r) => r.json.type === t)), 10_000, () => `the three events (got ${at(path).map((r) => r.json.type)})`);
    const wh = new Webhook(hook.secret);
    for (const r of at(path)) {
      expect(wh.verify(r.body, r.headers)).toEqual(r.json);
      expect(r.headers['webhook-id']).toBe(r.json.id);
      for (const secret of [stream.ingestKey, stream.hostKey, hook.secret, ADMIN_KEY]) expect(r.body).not.toContain(secret);
    }
    const byType = Object.fromEntries(at(path).map((r) => [r.json.type, r.json]));
    expect(byType['purchase.recorded']!.data).toMatchObject({ orderId: 'wh-o1', viewerId: 'buyer', amount: 25_000, currency: 'CNY', streamId: stream.id });
    expect(byType['viewer.tier_changed']!.data).toMatchObject({ viewerId: 'buyer', from: 'potential', to: 'mid' });
    expect(byType['offer.issued']!.data).toMatchObject({ viewerId: 'buyer', campaign: 'default:deal' });
    const code = byType['offer.issued']!.data.code as string;

    // the code redeemed by the next order, and a refund: two more events
    expect((await s.api('POST', '/v1/purchases', { orderId: 'wh-o2', viewerId: 'buyer', amount: 30_000, currency: 'CNY', couponCode: code }, stream.ingestKey)).status).toBe(201);
    expect((await s.api('POST', '/v1/refunds', { orderId: 'wh-o1' }, stream.ingestKey)).status).toBe(200);
    await until(() => at(path).some((r) => r.json.type === 'offer.redeemed') && at(path).some((r) => r.json.type === 'purchase.refunded'), 10_000, 'the redemption and the refund');
    expect(at(path).find((r) => r.json.type === 'purchase.refunded')!.json.data).toMatchObject({ orderId: 'wh-o1', refunded: 25_000 });
    // a repeated order and a repeated refund report nothing new
    expect((await s.api('POST', '/v1/purchases', { orderId: 'wh-o2', viewerId: 'buyer', amount: 30_000, currency: 'CNY', couponCode: code }, stream.ingestKey)).status).toBe(200);
    expect((await s.api('POST', '/v1/refunds', { orderId: 'wh-o1' }, stream.ingestKey)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const ids = at(path).map((r) => r.json.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(at(path).filter((r) => r.json.type === 'purchase.recorded').map((r) => r.json.data.orderId).sort()).toEqual(['wh-o1', 'wh-o2']);
    expect(at(path).filter((r) => r.json.type === 'purchase.refunded')).toHaveLength(1);

    // the listing says what happened
    const deliveries = await s.api('GET', `/v1/channels/wh-flow/webhooks/${hook.id}/deliveries`, undefined, ADMIN_KEY);
    expect(deliveries.body.deliveries.length).toBe(ids.length);
    expect(deliveries.body.deliveries.every((d: any) => d.status === 'delivered' && d.lastCode === 200 && d.attempts === 1 && d.nextAttemptAt === null)).toBe(true);
    expect((await s.api('GET', `/v1/channels/wh-flow/webhooks/${hook.id}/deliveries?limit=0`, undefined, ADMIN_KEY)).body.message).toMatch(/querystring\.limit/);

    // the metric moved
    const metrics = await s.api('GET', '/metrics', undefined, ADMIN_KEY);
    expect(metrics.body).toMatch(/livetier_webhook_delivery_seconds_count\{outcome="delivered"\} [1-9]/);
  }, 30_000);

  it('retries a 500 and then delivers; disables an endpoint that keeps failing and says so; a test event goes to one endpoint', async () => {
    const s = await server({ webhooks: { disableAfterMs: 3_000 } });
    const stream = await createStream(s, { channel: 'wh-retry' });
    const flaky = newPath();
    const broken = newPath();
    answers[flaky] = [500];
    answers[broken] = [500, 500, 500, 500];
    const a = await register(s, 'wh-retry', flaky, ['purchase.recorded']);
    const b = await register(s, 'wh-retry', broken, ['purchase.recorded']);
    expect((await s.api('POST', '/v1/purchases', { orderId: 'wh-r1', viewerId: 'v', amount: 100, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    await until(() => at(flaky).length === 1 && at(broken).length === 1, 5000, 'the first attempts');
    // the receiver answered; the attempt is recorded just after
    const listing = () => s.api('GET', `/v1/channels/wh-retry/webhooks/${a.id}/deliveries`, undefined, ADMIN_KEY);
    await until(async () => (await listing()).body.deliveries[0]?.attempts === 1, 3000, 'the first attempt recorded');
    const first = await listing();
    expect(first.body.deliveries[0]).toMatchObject({ status: 'pending', attempts: 1, lastCode: 500, lastError: 'answered 500' });
    expect(first.body.deliveries[0].nextAttemptAt - first.body.deliveries[0].lastAttemptAt).toBeGreaterThanOrEqual(4_900); // the schedule's first wait: 5 s
    // the retry, 5 s later: the same event id
    await until(() => at(flaky).length === 2, 12_000, 'the retry');
    expect(at(flaky)[1]!.json.id).toBe(at(flaky)[0]!.json.id);
    await until(async () => (await s.api('GET', `/v1/channels/wh-retry/webhooks/${a.id}/deliveries`, undefined, ADMIN_KEY)).body.deliveries[0].status === 'delivered', 3000, 'delivered');
    // the broken one failed twice across more than 3 s: disabled, and its listing says why
    await until(async () => (await s.api('GET', '/v1/channels/wh-retry/webhooks', undefined, ADMIN_KEY)).body.webhooks.find((w: any) => w.id === b.id).enabled === false, 5000, 'disabled');
    const listed = (await s.api('GET', '/v1/channels/wh-retry/webhooks', undefined, ADMIN_KEY)).body.webhooks;
    expect(listed.find((w: any) => w.id === b.id)).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^disabled after failing for .* h \(last: answered 500\)$/) });
    expect(listed.find((w: any) => w.id === a.id)).toMatchObject({ enabled: true, failingSince: null });
    // a test event: to that endpoint only
    const t = await s.api('POST', `/v1/channels/wh-retry/webhooks/${a.id}/test`, undefined, ADMIN_KEY);
    expect(t.status).toBe(202);
    await until(() => at(flaky).some((r) => r.json.id === t.body.eventId), 5000, 'the test event');
    expect(at(flaky).find((r) => r.json.id === t.body.eventId)!.json.type).toBe('webhook.test');
    expect(at(broken).some((r) => r.json.type === 'webhook.test')).toBe(false);
  }, 30_000);

  it('a receiver that does not answer is given up on after the timeout, and ingest goes on meanwhile', async () => {
    const s = await server({ webhooks: { timeoutMs: 1500 } });
    const stream = await createStream(s, { channel: 'wh-slow' });
    const slow = newPath();
    answers[slow] = ['hang'];
    const hook = await register(s, 'wh-slow', slow, ['purchase.recorded']);
    expect((await s.api('POST', '/v1/purchases', { orderId: 'wh-s1', viewerId: 'v', amount: 100, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    await until(() => at(slow).length === 1, 5000, 'the attempt');
    // while the receiver holds the request: a viewer's events are stored and acknowledged
    const { socket: v } = await connectViewer(s, { streamId: stream.id, viewerId: 'w' });
    const ack = await v.emitWithAck('track', [{ id: eid(), type: 'comment', ts: Date.now(), data: { text: 'still here' } }]);
    expect(ack).toMatchObject({ accepted: 1 });
    await until(async () => (await s.api('GET', `/v1/channels/wh-slow/webhooks/${hook.id}/deliveries`, undefined, ADMIN_KEY)).body.deliveries[0].attempts === 1, 5000, 'the timed-out attempt');
    const d = (await s.api('GET', `/v1/channels/wh-slow/webhooks/${hook.id}/deliveries`, undefined, ADMIN_KEY)).body.deliveries[0];
    expect(d).toMatchObject({ status: 'pending', lastCode: null, lastError: 'no answer within 1.5 s' });
  }, 20_000);

  it('ends a stream once (by its host, or idle) and sends stream.ended with its report', async () => {
    const s = await server({ streamIdleEndMs: 60_000 });
    const a = await createStream(s, { channel: 'wh-end' });
    const b = await createStream(s, { channel: 'wh-end' });
    const path = newPath();
    await register(s, 'wh-end', path, ['stream.ended']);
    const ended = await s.api('POST', `/v1/streams/${a.id}/end`, undefined, a.hostKey);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ streamId: a.id, ended: true });
    const again = await s.api('POST', `/v1/streams/${a.id}/end`, undefined, a.hostKey);
    expect(again.body).toEqual({ streamId: a.id, endedAt: ended.body.endedAt, ended: false });
    expect((await s.api('POST', `/v1/streams/${a.id}/end`, undefined, b.hostKey)).status).toBe(403);
    await until(() => at(path).length === 1, 5000, 'stream.ended');
    expect(at(path)[0]!.json).toMatchObject({ type: 'stream.ended', data: { streamId: a.id, endedBy: 'host', report: { streamId: a.id, endedAt: ended.body.endedAt, audience: 0 } } });
    expect((await s.api('GET', `/v1/streams/${a.id}/report`, undefined, a.hostKey)).body.endedAt).toBe(ended.body.endedAt);

    // b: a viewer connected keeps it live; a minute after the last one left, it ends by itself
    const { socket: v } = await connectViewer(s, { streamId: b.id, viewerId: 'late' });
    const t0 = Date.now();
    await s.app.ending.round(t0 + 120_000);
    expect((await s.api('GET', `/v1/streams/${b.id}/report`, undefined, b.hostKey)).body.endedAt).toBeNull();
    v.close();
    await until(async () => (await s.api('GET', `/v1/streams/${b.id}/summary`, undefined, b.hostKey)).body.connected === 0, 3000, 'the viewer gone');
    await s.app.ending.round(t0 + 150_000); // marked active at +120 s; idle from +180 s
    expect((await s.api('GET', `/v1/streams/${b.id}/report`, undefined, b.hostKey)).body.endedAt).toBeNull();
    await s.app.ending.round(t0 + 181_000);
    expect((await s.api('GET', `/v1/streams/${b.id}/report`, undefined, b.hostKey)).body.endedAt).toBe(t0 + 181_000);
    // (in the outbox, due at the round's time, 3 minutes from now: the listing shows it)
    const hooks = (await s.api('GET', '/v1/channels/wh-end/webhooks', undefined, ADMIN_KEY)).body.webhooks;
    const listed = (await s.api('GET', `/v1/channels/wh-end/webhooks/${hooks[0].id}/deliveries`, undefined, ADMIN_KEY)).body.deliveries;
    expect(listed.map((d: any) => [d.type, d.status])).toEqual([['stream.ended', 'pending'], ['stream.ended', 'delivered']]);
    expect(listed[0].nextAttemptAt).toBe(t0 + 181_000);
    // a late purchase still counts in an ended stream
    expect((await s.api('POST', '/v1/purchases', { orderId: 'late-1', viewerId: 'late', amount: 500, currency: 'CNY' }, b.ingestKey)).status).toBe(201);
  }, 20_000);

  it('a buyer who stops coming turns at_risk by time alone: the sweep stores it and reports it once', async () => {
    const s = await server();
    const stream = await createStream(s, { channel: 'wh-sweep' });
    const path = newPath();
    const hook = await register(s, 'wh-sweep', path, ['viewer.lifecycle_changed']);
    expect((await s.api('POST', '/v1/purchases', { orderId: 'sw-1', viewerId: 'quiet', amount: 1_000, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    await s.app.engine.tiering.written('wh-sweep', 'quiet');
    const lifecycleEvents = async () =>
      (await s.api('GET', `/v1/channels/wh-sweep/webhooks/${hook.id}/deliveries`, undefined, ADMIN_KEY)).body.deliveries.filter((d: any) => d.type === 'viewer.lifecycle_changed');
    const before = (await lifecycleEvents()).length;
    // 31 days later (default atRiskDays 30), with no visit
    const later = Date.now() + 31 * 86_400_000;
    expect(await s.app.lifecycleSweep.round(later)).toBe(1);
    await s.app.engine.tiering.written('wh-sweep', 'quiet');
    await until(async () => (await lifecycleEvents()).length === before + 1, 5000, 'the swept change in the outbox');
    // the next round finds nothing to move
    expect(await s.app.lifecycleSweep.round(later + 60_000)).toBe(0);
    expect((await lifecycleEvents()).length).toBe(before + 1);
  }, 20_000);

  it('a kill -9 between the purchase commit and its delivery: delivered after the restart (the outbox)', async () => {
    if (!haveBuild()) throw new Error('dist/server is not built: run `npx tsc -p tsconfig.build.json` (npm test builds first)');
    const d = await testDatabase({ prefix: 'livetier-webhooks-' });
    try {
      const args = ['--webhooks-allow-http'];
      let child = await spawnServer({ db: d.db, args, env: { LIVETIER_FAULT: 'after-purchase-commit' } });
      children.push(child);
      const made = await child.api('POST', '/v1/streams', { title: 'Outbox', channel: 'wh-kill' }, CHILD_ADMIN_KEY);
      const stream = made.body as { id: string; ingestKey: string };
      const path = newPath();
      const hook = await register(child, 'wh-kill', path, ['purchase.recorded'], CHILD_ADMIN_KEY);
      await expect(child.api('POST', '/v1/purchases', { orderId: 'k-1', viewerId: 'kb', amount: 100, currency: 'CNY' }, stream.ingestKey)).rejects.toThrow();
      expect(await child.exited).toBe('SIGKILL');
      expect(at(path)).toHaveLength(0);
      child = await spawnServer({ db: d.db, args });
      children.push(child);
      await until(() => at(path).length === 1, 15_000, () => `the purchase delivered after the restart\n${child.output()}`);
      expect(at(path)[0]!.json).toMatchObject({ type: 'purchase.recorded', data: { orderId: 'k-1' } });
      expect(new Webhook(hook.secret).verify(at(path)[0]!.body, at(path)[0]!.headers)).toBeTruthy();
    } finally {
      for (const c of children.splice(0)) {
        if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
        await c.exited;
      }
      await d.remove();
    }
  }, 60_000);
});
