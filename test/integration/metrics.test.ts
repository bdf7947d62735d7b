/**
 * Prometheus metrics and readiness (issue 17) on a real server: `GET /metrics` needs the admin key
 * on the main port; after tracked events (stored, a resend, a malformed one, some over the rate),
 * a purchase that issues an offer, its ack and its redemption, the scrape's counters moved by
 * exactly what the acks and the host's summary say, the HTTP histogram is labelled with route
 * patterns, and no viewer id, key, stream id, channel or coupon code appears anywhere in it.
 * `--metrics-port` (the built server as a process) answers without a key; `/readyz` is 200 when
 * the store (and Redis) answer and 503, naming the dependency, when one does not.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  startServer, createStream, viewerToken, connectViewer, collect, until, closeAllClients, eid, testDatabase, ADMIN_KEY, TEST_STORE,
  type TestServer, type StreamKeys,
} from '../helpers/server.js';
import { spawnServer, haveBuild, CHILD_ADMIN_KEY, type Child } from '../helpers/process.js';
import { tcpProxy } from '../helpers/proxy.js';
import { createDatabase } from '../helpers/pg.js';
import { REDIS_URL, redisUnreachable } from '../helpers/redis.js';
import { connectRedis } from '../../server/app.js';

/** cluster mode needs PostgreSQL and Redis: those tests run on the PostgreSQL half when Redis answers */
const pgHalf = TEST_STORE === 'postgres' && inject('pgAvailable');
const clusterable = pgHalf && (await redisUnreachable()) === null;
if (pgHalf && !clusterable) console.log(`metrics cluster-mode tests skipped: no Redis at ${REDIS_URL}`);

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  closeAllClients();
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** the samples of a Prometheus text exposition (comments skipped) */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** the sum of the samples named `name` whose labels include `labels` (0 when there are none) */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

async function scrape(url: string, key?: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

describe('GET /metrics on the main port', () => {
  let srv: TestServer;
  let stream: StreamKeys;

  it('needs the admin key', async () => {
    srv = await startServer();
    cleanup.push(() => srv.close());
    stream = await createStream(srv);
    expect((await scrape(`${srv.url}/metrics`)).status).toBe(401);
    const wrong = await scrape(`${srv.url}/metrics`, stream.hostKey);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text)).toMatchObject({ error: 'unauthorized' });
    const ok = await scrape(`${srv.url}/metrics`, ADMIN_KEY);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    // the default process metrics, event-loop lag among them, are there from the start
    const s = parse(ok.text);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(s.some((x) => x.name === name), name).toBe(true);
    }
  });

  it('counts events, offers, connections, tiers, commits and requests, with no id, key or code in any label', async () => {
    // a slow refill: the third call is over the burst whatever the machine's speed
    srv = await startServer({ app: { limits: { eventsPerSecond: 0.01, eventsBurst: 5 } } });
    cleanup.push(() => srv.close());
    stream = await createStream(srv, { title: 'Metrics', channel: 'shop-metrics-x' });
    const viewerId = 'viewer-metrics-q7z';
    const token = await viewerToken(srv, stream.ingestKey, viewerId);
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'v_anon_m1', token });
    const offers = collect<any>(socket, 'offer');

    const first = [
      { id: eid('m'), type: 'comment', ts: Date.now(), data: { text: 'hello' } },
      { id: eid('m'), type: 'like', ts: Date.now() },
      { id: eid('m'), type: 'product_view', ts: Date.now(), data: { sku: 'SKU-1' } },
    ];
    const acks: any[] = [];
    acks.push(await socket.emitWithAck('track', first));
    // a resend of one (a duplicate) and a malformed event
    acks.push(await socket.emitWithAck('track', [first[0], { id: eid('m'), type: 'teleport', ts: Date.now() }]));
    // over the burst: refused with rate_limited
    acks.push(await socket.emitWithAck('track', [{ id: eid('m'), type: 'like', ts: Date.now() }, { id: eid('m'), type: 'like', ts: Date.now() }]));
    const total = (f: (a: any) => number) => acks.reduce((n, a) => n + f(a), 0);
    const accepted = total((a) => a.accepted);
    const duplicates = total((a) => a.duplicates);
    const limited = total((a) => a.rejected.filter((r: any) => r.reason.startsWith('rate_limited')).length);
    const invalid = total((a) => a.rejected.length) - limited;
    expect(accepted).toBe(3);
    expect(duplicates).toBe(1);
    expect(invalid).toBe(1);
    expect(limited).toBe(2);
    // a call that is not an array is refused as a whole
    expect((await socket.emitWithAck('track', 'nope')).error.code).toBe('bad_request');

    // a verified purchase moves the viewer up: an offer is issued and pushed, the client acks it
    const buy = await srv.api('POST', '/v1/purchases', { orderId: 'm-1', viewerId, amount: 60_000, currency: 'CNY' }, stream.ingestKey);
    expect(buy.status).toBe(201);
    await until(() => offers.length >= 1, 5000, 'the offer');
    const summary = () => srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    await until(async () => (await summary()).body.offers.delivered >= 1, 5000, 'the delivery');
    // the merchant redeems the code, then repeats the call (idempotent: counted once)
    const code = offers[0].code as string;
    for (let i = 0; i < 2; i++) {
      const r = await srv.api('POST', `/v1/coupons/${code}/redeem`, { orderId: 'm-2', viewerId }, stream.ingestKey);
      expect(r.status).toBe(200);
    }
    // purchases carrying a code: the spent one is not counted again; the VIP code the second purchase earned is
    const second = await srv.api('POST', '/v1/purchases', { orderId: 'm-3', viewerId, amount: 60_000, currency: 'CNY', couponCode: code }, stream.ingestKey);
    expect(second.status).toBe(201);
    expect(second.body.coupon.status).not.toBe('redeemed');
    await until(() => offers.length >= 2, 5000, 'the VIP offer');
    const vip = offers[1].code as string;
    const third = await srv.api('POST', '/v1/purchases', { orderId: 'm-4', viewerId, amount: 1000, currency: 'CNY', couponCode: vip }, stream.ingestKey);
    expect(third.body.coupon).toMatchObject({ status: 'redeemed' });
    await until(async () => (await summary()).body.offers.delivered >= 2, 5000, 'the second delivery');
    const host = (await summary()).body;
    expect(host.offers).toMatchObject({ redeemed: 2 });
    expect(host.tiers.high).toBe(1);
    expect(await srv.api('GET', '/no/such/path')).toMatchObject({ status: 404 });

    const { status, text } = await scrape(`${srv.url}/metrics`, ADMIN_KEY);
    expect(status).toBe(200);
    const s = parse(text);
    expect(value(s, 'livetier_events_accepted_total')).toBe(accepted);
    expect(value(s, 'livetier_events_duplicate_total')).toBe(duplicates);
    expect(value(s, 'livetier_events_rejected_total', { reason: 'invalid' })).toBe(invalid);
    expect(value(s, 'livetier_events_rejected_total', { reason: 'rate_limited' })).toBe(limited);
    expect(value(s, 'livetier_events_rejected_total', { reason: 'bad_request' })).toBe(1);
    expect(value(s, 'livetier_events_rejected_total', { reason: 'unavailable' })).toBe(0);
    // the same counts the host sees for this (the only) stream
    expect(value(s, 'livetier_offers_issued_total')).toBe(host.offers.issued);
    expect(value(s, 'livetier_offers_issued_total')).toBeGreaterThanOrEqual(2);
    expect(value(s, 'livetier_offers_delivered_total')).toBe(host.offers.delivered);
    expect(value(s, 'livetier_offers_redeemed_total')).toBe(2);
    expect(value(s, 'livetier_viewers_connected', { tier: 'high' })).toBe(1);
    expect(value(s, 'livetier_viewers_connected', { tier: 'mid' })).toBe(0);
    expect(value(s, 'livetier_viewers_connected', { tier: 'potential' })).toBe(0);
    expect(value(s, 'livetier_socketio_connections', { namespace: '/viewer' })).toBe(1);
    expect(value(s, 'livetier_socketio_connections', { namespace: '/host' })).toBe(0);
    // group commit: the join, three track calls that stored something, the delivery, the tier change…
    expect(value(s, 'livetier_ingest_batch_size_count')).toBeGreaterThanOrEqual(3);
    expect(value(s, 'livetier_ingest_batch_size_sum')).toBeGreaterThanOrEqual(value(s, 'livetier_ingest_batch_size_count'));
    expect(value(s, 'livetier_ingest_commit_duration_seconds_count')).toBe(value(s, 'livetier_ingest_batch_size_count'));
    expect(value(s, 'livetier_ingest_commit_errors_total')).toBe(0);
    // requests by route pattern and status, never by raw URL
    const http = s.filter((x) => x.name === 'livetier_http_request_duration_seconds_count');
    expect(value(s, 'livetier_http_request_duration_seconds_count', { method: 'GET', route: '/v1/streams/:id/summary', status_code: '200' })).toBeGreaterThanOrEqual(2);
    expect(value(s, 'livetier_http_request_duration_seconds_count', { method: 'POST', route: '/v1/coupons/:code/redeem', status_code: '200' })).toBe(2);
    expect(value(s, 'livetier_http_request_duration_seconds_count', { method: 'POST', route: '/v1/purchases', status_code: '201' })).toBe(3);
    expect(value(s, 'livetier_http_request_duration_seconds_count', { route: '(unmatched)', status_code: '404' })).toBe(1);
    expect(http.every((x) => !x.labels.route!.includes(stream.id))).toBe(true);
    expect(s.some((x) => x.name === 'livetier_http_request_duration_seconds_bucket' && x.labels.le === '+Inf')).toBe(true);

    // nothing that names a viewer, a stream, a channel, a key or a code
    for (const secret of [viewerId, 'v_anon_m1', stream.id, stream.channel, stream.hostKey, stream.ingestKey, ADMIN_KEY, token, code, vip, 'm-1', 'm-2', 'm-3', 'm-4', 'SKU-1', '/no/such/path']) {
      expect(text.includes(secret), secret).toBe(false);
    }
    // every label name is one of a known few (no per-stream or per-viewer label could slip in)
    const known = new Set(['method', 'route', 'status_code', 'le', 'reason', 'tier', 'namespace', 'kind', 'type', 'space', 'version', 'major', 'minor', 'patch', 'quantile']);
    for (const x of s) for (const k of Object.keys(x.labels)) expect(known.has(k), `${x.name} label ${k}`).toBe(true);
  });
});

describe('the Grafana dashboard (ops/grafana/livetier.json)', () => {
  it('uses the ${DS_PROMETHEUS} datasource variable and only metrics the server exposes', async () => {
    const dash = JSON.parse(readFileSync(new URL('../../ops/grafana/livetier.json', import.meta.url), 'utf8'));
    expect(dash.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const panels = dash.panels.filter((p: any) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const exprs: string[] = panels.flatMap((p: any) => {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      return p.targets.map((t: any) => t.expr as string);
    });
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:livetier|nodejs|process)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))));
    const srv = await startServer();
    cleanup.push(() => srv.close());
    const { text } = await scrape(`${srv.url}/metrics`, ADMIN_KEY);
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    for (const name of used) expect(exposed.has(name), name).toBe(true);
    // every LiveTier metric has a panel
    for (const name of exposed) if (name.startsWith('livetier_')) expect(used.has(name), `a panel for ${name}`).toBe(true);
  });
});

describe('/readyz', () => {
  it('answers 200 when the store answers; /healthz is unchanged', async () => {
    const srv = await startServer();
    cleanup.push(() => srv.close());
    expect(await srv.api('GET', '/readyz')).toEqual({ status: 200, body: { ok: true } });
    expect(await srv.api('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it.skipIf(TEST_STORE !== 'postgres')('answers 503 with Retry-After naming the store while PostgreSQL is away, and 200 again after', async () => {
    const url = await createDatabase(inject('pgRun') || undefined);
    const direct = new URL(url);
    const proxy = await tcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    cleanup.push(() => proxy.close());
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const srv = await startServer({ db: proxied.toString() });
    cleanup.push(() => srv.close());
    expect((await srv.api('GET', '/readyz')).status).toBe(200);
    await proxy.cut();
    const res = await fetch(`${srv.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ ok: false, error: 'unavailable', failed: ['store'] });
    await proxy.restore();
    await until(async () => (await srv.api('GET', '/readyz')).status === 200, 10_000, 'ready again');
  });

  it.skipIf(!clusterable)('in cluster mode answers 503 naming Redis while Redis is away', async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await tcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    cleanup.push(() => proxy.close());
    const proxied = new URL(REDIS_URL);
    proxied.port = String(proxy.port);
    const srv = await startServer({ app: { redis: proxied.toString() } });
    cleanup.push(() => srv.close());
    expect((await srv.api('GET', '/readyz')).status).toBe(200);
    await proxy.cut();
    const started = Date.now();
    const r = await srv.api('GET', '/readyz');
    expect(Date.now() - started).toBeLessThan(3000); // a short timeout, not ioredis's retries
    expect(r).toMatchObject({ status: 503, body: { ok: false, failed: ['redis'] } });
    expect(r.body.message).toContain('Redis');
    await proxy.restore();
    await until(async () => (await srv.api('GET', '/readyz')).status === 200, 15_000, 'ready again');
  });

  it.skipIf(!clusterable)('a shutdown while Redis is coming back leaves no promise rejected unhandled', async () => {
    // ioredis subscribes again on reconnecting, with promises nobody holds; quitting before Redis
    // answered them used to reject all six (three namespaces, two channels each) unhandled
    const redis = new URL(REDIS_URL);
    const proxy = await tcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    cleanup.push(() => proxy.close());
    const proxied = new URL(REDIS_URL);
    proxied.port = String(proxy.port);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanup.push(() => void process.off('unhandledRejection', onUnhandled));
    const { pub, sub } = await connectRedis(proxied.toString());
    await Promise.all(['lt-a#', 'lt-b#'].map((c) => sub.ssubscribe(c)));
    await proxy.cut();
    // the moment it is ready again its SSUBSCRIBEs are on the wire: cut again before Redis answers
    const resubscribed = new Promise<void>((resolve) => sub.once('ready', () => void proxy.cut().then(resolve)));
    await proxy.restore();
    await resubscribed;
    await Promise.all([pub.quit().catch(() => {}), sub.quit().catch(() => {})]);
    await new Promise((r) => setTimeout(r, 100)); // unhandled rejections are reported a turn later
    expect(unhandled).toEqual([]);
  });
});

describe.skipIf(!haveBuild())('--metrics-port (the built server; npm run build first)', () => {
  async function start(args: string[]): Promise<{ child: Child; metricsUrl: string }> {
    const target = await testDatabase();
    cleanup.push(() => target.remove());
    const child = await spawnServer({ db: target.db, args });
    cleanup.push(async () => {
      if (child.proc.exitCode === null && child.proc.signalCode === null) {
        child.proc.kill('SIGTERM');
        await child.exited;
      }
    });
    const m = /metrics on (http:\/\/\S+)/.exec(child.output());
    if (!m) throw new Error(`no metrics URL printed:\n${child.output()}`);
    return { child, metricsUrl: m[1]!.replace('localhost', '127.0.0.1') };
  }

  it('serves /metrics without a key on its own loopback port; the main port still needs the admin key', async () => {
    const { child, metricsUrl } = await start(['--metrics-port', '0']);
    const u = new URL(metricsUrl);
    expect(u.hostname).toBe('127.0.0.1');
    expect(u.pathname).toBe('/metrics');
    expect(Number(u.port)).not.toBe(child.port);
    const r = await scrape(metricsUrl);
    expect(r.status).toBe(200);
    expect(parse(r.text).some((x) => x.name === 'livetier_events_accepted_total')).toBe(true);
    expect((await fetch(`${u.origin}/other`)).status).toBe(404);
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(405);
    expect((await scrape(`${child.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${child.url}/metrics`, CHILD_ADMIN_KEY)).status).toBe(200);
    expect(child.output()).not.toContain(CHILD_ADMIN_KEY);
  });

  it.skipIf(!clusterable)('with --workers 2 sums every worker on the metrics port', async () => {
    const { child, metricsUrl } = await start(['--workers', '2', '--redis', REDIS_URL, '--metrics-port', '0']);
    const stream = (await child.api('POST', '/v1/streams', { title: 'Workers' }, CHILD_ADMIN_KEY)).body;
    // least-connection balancing: two viewers land on two workers
    const { io } = await import('socket.io-client');
    const viewers = [1, 2].map((i) => io(`${child.url}/viewer`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { streamId: stream.id, viewerId: `w${i}` } }));
    cleanup.push(() => viewers.forEach((v) => v.close()));
    await Promise.all(viewers.map((v) => new Promise((resolve, reject) => (v.once('hello', resolve), v.once('connect_error', reject)))));
    await until(async () => value(parse((await scrape(metricsUrl)).text), 'livetier_socketio_connections', { namespace: '/viewer' }) === 2, 10_000, 'both viewers in the sum');
    await Promise.all(viewers.map((v) => v.emitWithAck('track', [{ id: eid('w'), type: 'like', ts: Date.now() }])));
    const s = parse((await scrape(metricsUrl)).text);
    expect(value(s, 'livetier_events_accepted_total')).toBe(2);
    expect(value(s, 'livetier_viewers_connected', { tier: 'potential' })).toBe(2);
  });
});
