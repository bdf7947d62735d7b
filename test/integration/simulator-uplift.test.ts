/**
 * The demo's promise, time-compressed: `npm start`'s audience (200 simulated viewers, the
 * campaigns holding half of their viewers back) makes at least one campaign measurable, with an
 * uplift and its 95% interval rather than "not enough data yet", within ten simulated minutes.
 * The simulator runs 20× faster and so does the server's clock, so the frequency cap, credited
 * watch time, offer lifetimes and attribution windows keep the proportions they have at speed 1.
 * Nothing here measures speed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, createStream, until, type TestServer } from '../helpers/server.js';
import { Simulator } from '../../demo/simulator.js';

const SPEED = 20;
/** what the README promises: a measured campaign within ten minutes of `npm start` */
const DEMO_MINUTES = 10;

let srv: TestServer | undefined;
let sim: Simulator | undefined;

afterEach(async () => {
  await sim?.stop();
  await srv?.close();
  sim = srv = undefined;
});

describe('the demo audience against a real server', () => {
  it('makes a campaign show its uplift with a 95% interval within ten simulated minutes', async () => {
    const start = Date.now();
    srv = await startServer({ clock: () => start + Math.round((Date.now() - start) * SPEED) });
    const stream = await createStream(srv, { title: 'Demo', channel: 'demo-shop' });
    sim = new Simulator({
      server: srv.url, stream: stream.id, ingestKey: stream.ingestKey, hostKey: stream.hostKey,
      viewers: 200, minutes: 0, speed: SPEED, mix: { loyal: 0.05, deal: 0.3 }, holdout: 50, quiet: true,
    });
    const campaigns = async () => (await srv!.api('GET', `/v1/streams/${stream.id}/campaigns?adhoc=false`, undefined, stream.hostKey)).body.campaigns as any[];
    expect((await srv.api('PATCH', `/v1/streams/${stream.id}/campaigns/default:win-back`, { holdoutPercent: 10 }, stream.hostKey)).status).toBe(200);
    await sim.start();
    // the simulator set the holdout of every campaign that held no viewer back, and left the one set alone
    expect((await campaigns()).map((c) => [c.id, c.holdoutPercent])).toEqual([
      ['default:vip', 50], ['default:deal', 50], ['default:first-order', 50], ['default:win-back', 10],
    ]);

    let measured: any;
    let last: any[] = [];
    await until(
      async () => {
        last = await campaigns();
        measured = last.find((c) => c.stats.uplift.enoughData);
        return !!measured;
      },
      ((DEMO_MINUTES * 60_000) / SPEED) - (Date.now() - start),
      () => `a measured campaign; the campaigns' arms: ${JSON.stringify(last.map((c) => [c.id, c.stats.uplift.n, c.stats.uplift.conversions]))}`,
    );

    const u = measured.stats.uplift;
    expect(u.n.treated).toBeGreaterThanOrEqual(30);
    expect(u.n.control).toBeGreaterThanOrEqual(30);
    const [low, high] = u.ci95;
    expect(low).toBeLessThanOrEqual(u.absolute);
    expect(u.absolute).toBeLessThanOrEqual(high);
    expect(high - low).toBeGreaterThan(0);
    // once the audience has left: held-back viewers got nothing, treated ones got the offer, and some took it
    await sim.stop();
    await srv.app.engine.writer.flushAll();
    const after = (await campaigns()).find((c) => c.id === measured.id);
    expect(after.issued).toBe(after.stats.uplift.n.treated);
    expect(after.stats.redeemed).toBeGreaterThan(0);
    expect(sim.stats.errors).toBe(0);
  }, 60_000);
});
