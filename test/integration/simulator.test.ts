/**
 * The audience simulator (demo/simulator.ts) against a real server: its viewers, purchases and
 * coupon redemptions go through the public contract and leave the traces a host would see
 * (orders, tiers, offers). Nothing here measures speed; the simulator runs time-compressed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, createStream, until, type TestServer, type StreamKeys } from '../helpers/server.js';
import { withSql } from '../helpers/sql.js';
import { parseOptions, Simulator } from '../../demo/simulator.js';

let srv: TestServer;
let stream: StreamKeys;
let sim: Simulator | undefined;

beforeEach(async () => {
  srv = await startServer();
  stream = await createStream(srv, { title: 'Simulated', channel: 'sim-shop' });
});
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  await srv.close();
});

describe('simulator against a real server', () => {
  it('drives purchases, tiers, offers and coupon redemptions, and every acknowledged event is stored', async () => {
    sim = new Simulator({
      server: srv.url, stream: stream.id, ingestKey: stream.ingestKey, hostKey: stream.hostKey,
      viewers: 12, minutes: 0, speed: 20, mix: { loyal: 0.4, deal: 0.4 }, quiet: true,
    });
    await sim.start();
    const s = sim.stats;
    await until(() => s.purchases >= 4 && s.offers >= 3 && s.redeemed >= 1 && s.pushes >= 1, 25_000, 'purchases, offers and a redemption');
    await sim.stop();

    expect(s.errors).toBe(0);
    expect(s.joined).toBeGreaterThanOrEqual(12);
    const summary = (await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey)).body;
    expect(summary.orders).toBe(s.purchases);
    expect(summary.gmv).toBe(s.gmv);
    expect(summary.offers.issued).toBeGreaterThanOrEqual(s.offers);
    expect(summary.offers.delivered).toBeGreaterThanOrEqual(1);
    expect(summary.offers.redeemed).toBe(s.redeemed);
    expect(summary.audience).toBeGreaterThanOrEqual(12);
    expect(summary.audience).toBeLessThanOrEqual(s.joined - s.returning);

    // buyers left potential: at least one viewer is mid or high, with reasons that say why
    const viewers = (await srv.api('GET', `/v1/streams/${stream.id}/viewers?limit=500`, undefined, stream.hostKey)).body.viewers as any[];
    const tiered = viewers.filter((v) => v.tier !== 'potential');
    expect(tiered.length).toBeGreaterThan(0);
    expect(tiered[0].reasons.join(' ')).toMatch(/verified order/);

    // no loss: every event the server acknowledged is in the database
    await srv.stop();
    const { n } = (await withSql(srv, (q) => q.get<{ n: number }>('SELECT count(*) AS n FROM events WHERE stream_id = ?', stream.id)))!;
    expect(s.acked).toBeGreaterThan(0);
    expect(n).toBe(s.acked);
  });

  it('a refused ingest key shows up as errors, not as purchases', async () => {
    sim = new Simulator({
      server: srv.url, stream: stream.id, ingestKey: 'lt_ingest_not-a-real-key', viewers: 3, minutes: 0, speed: 20,
      mix: { loyal: 1, deal: 0 }, quiet: true,
    });
    await sim.start();
    await until(() => sim!.stats.errors >= 3, 10_000, 'three refused viewers');
    expect(sim.stats.joined).toBe(0);
    expect(sim.stats.purchases).toBe(0);
  });
});

describe('simulator flags', () => {
  const base = ['--ingest-key', 'k'];
  it('parses the documented flags', () => {
    const o = parseOptions(['--server', 'http://example.test:9000/', '--stream', 's1', '--viewers', '500', '--minutes', '10', '--speed', '5', '--mix', '0.1,0.2', '--host-key', 'h', '--holdout', '30', ...base], {});
    expect(o).toMatchObject({ server: 'http://example.test:9000', stream: 's1', viewers: 500, minutes: 10, speed: 5, mix: { loyal: 0.1, deal: 0.2 }, hostKey: 'h', ingestKey: 'k', holdout: 30 });
    expect(parseOptions(base, {})).toMatchObject({ server: 'http://127.0.0.1:8080', stream: 'demo', viewers: 40, minutes: 0, speed: 1, mix: { loyal: 0.05, deal: 0.3 }, holdout: 0 });
    expect(parseOptions([], { LIVETIER_ADMIN_KEY: 'a' })).toMatchObject({ adminKey: 'a', ingestKey: undefined });
  });

  it.each([
    [[], /--ingest-key/],
    [[...base, '--viewers', '0'], /--viewers/],
    [[...base, '--viewers', '2.5'], /--viewers/],
    [[...base, '--minutes', '-1'], /--minutes/],
    [[...base, '--speed', '0'], /--speed/],
    [[...base, '--speed', 'fast'], /--speed/],
    [[...base, '--mix', '0.7,0.5'], /--mix/],
    [[...base, '--mix', 'lots'], /--mix/],
    [[...base, '--server', 'not a url'], /--server/],
    [[...base, '--holdout', '95'], /--holdout/],
    [[...base, '--holdout', '12.5'], /--holdout/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv as string[], {})).toThrow(message);
  });
});
