/**
 * `livetier migrate-db`: a SQLite database with every table populated is copied into an empty
 * PostgreSQL database, and a server on PostgreSQL then answers exactly as the SQLite one did
 * (summary, viewers, export, campaigns, report), with the same keys. The copy refuses a target
 * that holds anything and is all or nothing. PostgreSQL half only (it needs both stores).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import {
  ADMIN_KEY, startServer, createStream, connectViewer, client, connect, collect, closeAllClients, eid, until, viewerToken, TEST_STORE, type TestServer,
} from '../helpers/server.js';
import { createDatabase, dropDatabase } from '../helpers/pg.js';
import { cli } from '../../server/main.js';
import { createPostgresStore } from '../../server/store/postgres/index.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  closeAllClients();
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** runs the CLI in-process; returns its exit code and what it wrote */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  const log = console.error;
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  process.exitCode = 0;
  try {
    await cli(args);
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    console.error = log;
  }
  const code = process.exitCode ?? 0;
  process.exitCode = 0;
  return { code, out: out.join(''), err: err.join('') };
}

/** drops what varies between two reads of the same data (clocks, the live socket count) */
function stable<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, x) => (['updatedAt', 'generatedAt', 'exportedAt', 'connected', 'peakConnected'].includes(k) ? undefined : x)));
}

/**
 * The report's minute-by-minute series holds the live current minute: read on both sides of a
 * minute boundary, the same orders fall in one minute or two. Compared as their totals.
 */
function minuteTotals<T extends { minutes?: { gmv?: number; orders?: number }[] }>(report: T): T {
  const m = report.minutes ?? [];
  return { ...report, minutes: { gmv: m.reduce((a, x) => a + (x.gmv ?? 0), 0), orders: m.reduce((a, x) => a + (x.orders ?? 0), 0) } };
}

async function tableCounts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, number> = {};
    const { rows } = await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'events\\_%'");
    for (const { t } of rows) out[t] = Number((await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${pg.escapeIdentifier(t)}`)).rows[0]!.n);
    return out;
  } finally {
    await c.end();
  }
}

describe.skipIf(TEST_STORE !== 'postgres')('migrate-db (the PostgreSQL half only: it needs both stores)', () => {
  it('copies every table, and the server on PostgreSQL answers as the one on SQLite did', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'livetier-migrate-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'shop.db');
    // webhooks to a loopback port nothing listens on (deliveries fail and wait: no traffic leaves the machine)
    const a: TestServer = await startServer({ db: file, app: { webhooks: { allowHttp: true } } });
    cleanup.push(() => a.stop());

    // every table gets rows: channels, streams, viewers, viewer_streams, events, purchases, offers,
    // campaigns, campaign_assignments, polls, retired_keys, channel_rules, viewer_aliases, jobs (carts
    // waiting for a cart campaign), job_effects (the offers purchases earned), webhooks and
    // webhook_deliveries (the events of all that), stream_tiers (the viewers' tiers at the stream's end)
    const stream = await createStream(a, { title: 'Moving house', channel: 'mover' });
    const hook = await a.api('POST', '/v1/channels/mover/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['purchase.recorded', 'offer.issued'] }, ADMIN_KEY);
    expect(hook.status).toBe(201);
    const cartCampaign = await a.api('POST', `/v1/streams/${stream.id}/campaigns`, {
      name: 'Carts', trigger: { type: 'cart_abandoned', afterSeconds: 3600 }, offer: { title: 'Still thinking?', discount: { kind: 'amount', value: 800 }, ttlSeconds: 600 },
    }, stream.hostKey);
    expect(cartCampaign.status).toBe(201);
    const rules = await a.api('GET', '/v1/channels/mover/tier-rules', undefined, ADMIN_KEY);
    expect((await a.api('PUT', '/v1/channels/mover/tier-rules', { ...rules.body, lookbackDays: 120 }, ADMIN_KEY)).status).toBe(200);
    const host = client(a, '/host', { streamId: stream.id, hostKey: stream.hostKey });
    await connect(host);
    const viewers = await Promise.all(['ann', 'bob', 'cy'].map((v) => connectViewer(a, { streamId: stream.id, viewerId: v })));
    const offers = viewers.map((v) => collect<any>(v.socket, 'offer'));
    for (const { socket } of viewers) {
      const ack = await socket.emitWithAck('track', [
        { id: eid('c'), type: 'comment', ts: Date.now(), data: { text: 'hello' } },
        { id: eid('p'), type: 'product_view', ts: Date.now(), data: { sku: 'mug' } },
        { id: eid('a'), type: 'add_to_cart', ts: Date.now(), data: { sku: 'mug' } },
        { id: eid('k'), type: 'checkout', ts: Date.now(), data: {} },
      ]);
      expect(ack.accepted).toBe(4);
    }
    const poll = await host.emitWithAck('poll:open', { question: 'Ship it?' });
    expect(poll.id).toBeTruthy();
    expect((await viewers[0]!.socket.emitWithAck('track', [{ id: eid('q'), type: 'poll_answer', ts: Date.now(), data: { pollId: poll.id, value: 4 } }])).accepted).toBe(1);
    // a verified buyer (their anonymous visit is aliased to them), a coupon redeemed, a refund
    const token = await viewerToken(a, stream.ingestKey, 'dora');
    const anon = await connectViewer(a, { streamId: stream.id, viewerId: 'dora' });
    expect((await anon.socket.emitWithAck('track', [{ id: eid('d'), type: 'like', ts: Date.now() }])).accepted).toBe(1);
    anon.socket.close();
    const dora = await connectViewer(a, { streamId: stream.id, viewerId: 'x', token, alias: 'dora' });
    const doraOffers = collect<any>(dora.socket, 'offer');
    expect((await a.api('POST', '/v1/purchases', { orderId: 'm1', viewerId: 'dora', amount: 60_000, currency: 'CNY', items: [{ sku: 'mug' }] }, stream.ingestKey)).status).toBe(201);
    await until(() => doraOffers.length > 0, 5000, "dora's offer");
    expect((await a.api('POST', '/v1/purchases', { orderId: 'm2', viewerId: 'dora', amount: 30_000, currency: 'CNY', couponCode: doraOffers[0].code }, stream.ingestKey)).body.coupon.status).toBe('redeemed');
    expect((await a.api('POST', '/v1/refunds', { orderId: 'm2', amount: 5_000 }, stream.ingestKey)).status).toBe(200);
    // the channel's model (channel_models): too few buyers for one, stored as such
    await a.app.models.refit('mover'); // (null if the server's own first fit of it holds the lease: then that one stores it)
    await until(async () => (await a.app.store.getModel('mover', Date.now())).model?.status === 'insufficient_data', 10_000, "the channel's model");
    // a host push with a holdout-free campaign, and a campaign of the merchant's with a holdout
    const created = await a.api('POST', `/v1/streams/${stream.id}/campaigns`, {
      name: 'Mug lovers', trigger: { type: 'manual' }, holdoutPercent: 50, offer: { title: '5% off', discount: { kind: 'percent', value: 5 }, ttlSeconds: 3600 },
    }, stream.hostKey);
    expect(created.status).toBe(201);
    expect((await a.api('POST', `/v1/streams/${stream.id}/campaigns/${created.body.id}/send`, undefined, stream.hostKey)).status).toBe(200);
    expect(await host.emitWithAck('push', { tier: 'potential', offer: { title: 'Flash deal', discount: { kind: 'amount', value: 500 }, ttlSeconds: 600 } })).toMatchObject({ sent: expect.any(Number) });
    await until(() => offers.some((o) => o.length > 0), 5000, 'an offer to the anonymous viewers');
    // a key rotation with a grace period leaves the old keys in retired_keys
    const rotated = await a.api('POST', `/v1/streams/${stream.id}/keys/rotate`, { graceSeconds: 3600 }, ADMIN_KEY);
    expect(rotated.status).toBe(200);
    const keys = { host: rotated.body.hostKey as string, ingest: rotated.body.ingestKey as string };

    const read = async (srv: TestServer) => ({
      summary: stable((await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, keys.host)).body),
      viewers: stable((await srv.api('GET', `/v1/streams/${stream.id}/viewers?sort=value`, undefined, keys.host)).body),
      dora: stable((await srv.api('GET', `/v1/streams/${stream.id}/viewers/dora`, undefined, keys.host)).body),
      export: stable((await srv.api('GET', '/v1/viewers/dora/export?channel=mover', undefined, ADMIN_KEY)).body),
      campaigns: stable((await srv.api('GET', `/v1/streams/${stream.id}/campaigns`, undefined, keys.host)).body),
      report: minuteTotals(stable((await srv.api('GET', `/v1/streams/${stream.id}/report`, undefined, keys.host)).body)),
      rules: (await srv.api('GET', '/v1/channels/mover/tier-rules', undefined, ADMIN_KEY)).body,
      model: (await srv.api('GET', `/v1/streams/${stream.id}/model`, undefined, keys.host)).body,
      overview: stable((await srv.api('GET', '/v1/channels/mover/overview', undefined, channelKey)).body),
    });
    // the stream ends (its viewers' tiers then are recorded), and the channel gets a read-only key
    expect((await a.api('POST', `/v1/streams/${stream.id}/end`, undefined, keys.host)).status).toBe(200);
    const channelKey = (await a.api('POST', '/v1/channels/mover/keys/rotate', {}, ADMIN_KEY)).body.channelKey as string;
    closeAllClients();
    await until(async () => (await a.api('GET', `/v1/streams/${stream.id}/summary`, undefined, keys.host)).body.connected === 0, 5000, 'viewers gone');
    const before = await read(a);
    await a.stop();
    const src = new Database(file, { readonly: true });
    const tables = (src.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    const sqliteCounts = Object.fromEntries(tables.map((t) => [t, (src.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n]));
    src.close();
    // every table holds something worth moving
    expect(Object.entries(sqliteCounts).filter(([, n]) => n === 0)).toEqual([]);

    const url = await createDatabase(inject('pgRun') || undefined);
    cleanup.push(() => dropDatabase(url));
    const moved = await run(['migrate-db', '--from', file, '--to', url]);
    expect(moved.err).toMatch(/copying events: \d+ \/ \d+ rows/);
    expect(moved.out).toMatch(/copied to .*row counts verified/);
    expect(moved.code).toBe(0);
    expect(await tableCounts(url)).toEqual(sqliteCounts);

    const b = await startServer({ db: url });
    cleanup.push(() => b.stop());
    const after = await read(b);
    expect(after).toEqual(before);
    // the old keys still work in their grace period, the channel's viewer tokens still verify
    expect((await b.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).status).toBe(200);
    const again = await connectViewer(b, { streamId: stream.id, viewerId: 'x', token: await viewerToken(b, keys.ingest, 'dora') });
    expect(again.hello.viewerId).toBe('dora');
    // new events continue after the copied ones, and a resent copied event is a duplicate
    expect((await again.socket.emitWithAck('track', [{ id: eid('n'), type: 'comment', ts: Date.now(), data: { text: 'moved!' } }])).accepted).toBe(1);

    // a target that holds anything is refused, and left as it was
    const refused = await run(['migrate-db', '--from', file, '--to', url]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not empty/);
  }, 60_000);

  it('is all or nothing: a copy that fails part-way leaves the target empty', async () => {
    const a: TestServer = await startServer({ db: path.join(mkdtempSync(path.join(tmpdir(), 'livetier-migrate-')), 'shop.db') });
    cleanup.push(() => a.close());
    const stream = await createStream(a);
    const { socket } = await connectViewer(a, { streamId: stream.id, viewerId: 'v1' });
    expect((await socket.emitWithAck('track', [{ id: eid('c'), type: 'comment', ts: Date.now(), data: { text: 'hi' } }])).accepted).toBe(1);
    expect((await a.api('POST', '/v1/purchases', { orderId: 'o1', viewerId: 'v1', amount: 100, currency: 'CNY' }, stream.ingestKey)).status).toBe(201);
    closeAllClients();
    await a.stop();

    const url = await createDatabase(inject('pgRun') || undefined);
    cleanup.push(() => dropDatabase(url));
    await (await createPostgresStore(url)).close(); // the schema, so the test can plant a failure in it
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'planted failure'; END $$`);
    await c.query('CREATE TRIGGER refuse BEFORE INSERT ON viewers FOR EACH ROW EXECUTE FUNCTION refuse()');
    await c.end();

    const r = await run(['migrate-db', '--from', a.db, '--to', url]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/planted failure/);
    // tables copied before the failure (channels, events, purchases …) were rolled back with it
    expect(Object.values(await tableCounts(url)).every((n) => n === 0)).toBe(true);
  }, 60_000);

  it('says what is wrong with its arguments', async () => {
    expect((await run(['migrate-db', '--from', 'x.db'])).code).toBe(2);
    expect((await run(['migrate-db', '--from', 'x.db', '--to', './other.db'])).err).toMatch(/--to must be a postgres/);
    const missing = await run(['migrate-db', '--from', '/nonexistent/x.db', '--to', 'postgres://postgres@127.0.0.1:5432/nope']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no SQLite database/);
  });
});
