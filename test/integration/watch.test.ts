/**
 * Watch time is measured on the server's clock: claims are capped by the time that really passed,
 * once per viewer per stream however many tabs are open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, createStream, viewerToken, connectViewer, closeAllClients, eid, manualClock, type TestServer, type StreamKeys } from '../helpers/server.js';

let srv: TestServer;
let stream: StreamKeys;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
  stream = await createStream(srv, { title: 'Watch' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

const beat = (engagedMs: number) => ({ id: eid('hb'), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs } });
const watchSeconds = async (viewerId: string) => {
  const r = await srv.api('GET', `/v1/streams/${stream.id}/viewers`, undefined, stream.hostKey);
  return r.body.viewers.find((v: any) => v.id === viewerId).thisStream.watchSeconds;
};

describe('watch time', () => {
  it('many heartbeats claiming long engagement within one second credit about one second', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'cheat' });
    clock.advance(1000);
    const ack = await socket.emitWithAck('track', Array.from({ length: 50 }, () => beat(600_000)));
    expect(ack.accepted).toBe(50);
    expect(await watchSeconds('anon:cheat')).toBe(1);
  });

  it('credits what passed on the server clock, capped per heartbeat', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'honest' });
    clock.advance(10_000);
    await socket.emitWithAck('track', [beat(10_000)]);
    clock.advance(10_000);
    await socket.emitWithAck('track', [beat(9_000)]); // the player says 9 s: less than what passed
    clock.advance(3_600_000);
    await socket.emitWithAck('track', [beat(600_000)]); // an hour of silence earns one capped beat
    expect(await watchSeconds('anon:honest')).toBe(10 + 9 + 15);
  });

  it('counts a viewer once however many tabs are open', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'tabby');
    const tabs = await Promise.all([1, 2, 3].map(() => connectViewer(srv, { streamId: stream.id, viewerId: 'x', token })));
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await Promise.all(tabs.map(({ socket }) => socket.emitWithAck('track', [beat(10_000)])));
    }
    expect(await watchSeconds('tabby')).toBe(30);
    const s = await srv.api('GET', `/v1/streams/${stream.id}/summary`, undefined, stream.hostKey);
    expect(s.body).toMatchObject({ connected: 1, audience: 1, tiers: { potential: 1 } });
  });

  it('a resent heartbeat (same id) is not credited twice', async () => {
    const { socket } = await connectViewer(srv, { streamId: stream.id, viewerId: 'resend' });
    clock.advance(10_000);
    const hb = beat(10_000);
    await socket.emitWithAck('track', [hb]);
    clock.advance(10_000);
    expect(await socket.emitWithAck('track', [hb])).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await watchSeconds('anon:resend')).toBe(10);
  });
});
