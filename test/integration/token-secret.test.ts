/**
 * Rotating a channel's viewer-token secret: new tokens are signed with the new secret at once,
 * tokens signed with the old one keep connecting for the grace period and are refused after it.
 * The handshake checks tokens on the server's clock, so a manual clock moves past the grace.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY, client, closeAllClients, connect, connectViewer, createStream, manualClock, startServer, viewerToken,
  type StreamKeys, type TestServer,
} from '../helpers/server.js';

let srv: TestServer;
let stream: StreamKeys;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  clock = manualClock();
  srv = await startServer({ clock });
  stream = await createStream(srv, { title: 'Secrets', channel: 'shop-s' });
});
afterEach(async () => {
  closeAllClients();
  await srv.close();
});

/** `key` null: no credential at all */
const rotate = (channel: string, body: unknown, key: string | null = ADMIN_KEY) =>
  srv.api('POST', `/v1/channels/${channel}/token-secret/rotate`, body, key ?? undefined);

/** the handshake's refusal code (the connect_error's message), or null when the token connects */
async function refusal(token: string): Promise<string | null> {
  try {
    const { socket } = await connectViewer(srv, { streamId: stream.id, token });
    socket.close();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('token secret rotation', () => {
  it('keeps tokens signed with the old secret for the grace period, then refuses them; new tokens work at once', async () => {
    const before = await viewerToken(srv, stream.ingestKey, 'vera');
    const { hello } = await connectViewer(srv, { streamId: stream.id, token: before });
    expect(hello).toBeTruthy();

    const started = Date.now();
    const r = await rotate('shop-s', { graceSeconds: 60 });
    expect(r.status).toBe(200);
    expect(r.body.channel).toBe('shop-s');
    expect(r.body.previousValidUntil).toBeGreaterThanOrEqual(started + 60_000);
    expect(r.body.previousValidUntil).toBeLessThanOrEqual(Date.now() + 60_000);

    const after = await viewerToken(srv, stream.ingestKey, 'walt');
    expect(after).not.toBe(before);
    // during the grace period both generations connect
    expect(await refusal(before)).toBeNull();
    expect(await refusal(after)).toBeNull();

    clock.set(r.body.previousValidUntil - 1);
    expect(await refusal(before)).toBeNull();

    // past it, only the new one
    clock.set(r.body.previousValidUntil);
    expect(await refusal(before)).toBe('unauthorized');
    expect(await refusal(after)).toBeNull();
  });

  it('with graceSeconds 0 (or no body) the old tokens stop at once', async () => {
    const before = await viewerToken(srv, stream.ingestKey, 'vera');
    expect(await refusal(before)).toBeNull();

    const r = await rotate('shop-s', { graceSeconds: 0 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ channel: 'shop-s', previousValidUntil: null });
    expect(await refusal(before)).toBe('unauthorized');

    const second = await viewerToken(srv, stream.ingestKey, 'vera');
    expect(await refusal(second)).toBeNull();
    // no body at all is the same as { graceSeconds: 0 }
    const bare = await fetch(`${srv.url}/v1/channels/shop-s/token-secret/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ channel: 'shop-s', previousValidUntil: null });
    expect(await refusal(second)).toBe('unauthorized');
  });

  it('a refused token is reported as unauthorized on the connect_error', async () => {
    const before = await viewerToken(srv, stream.ingestKey, 'vera');
    expect((await rotate('shop-s', {})).status).toBe(200);
    const s = client(srv, '/viewer', { streamId: stream.id, token: before });
    const err = await connect(s).then(() => null, (e: Error & { data?: { code: string } }) => e);
    expect(err?.message).toBe('unauthorized');
    expect(err?.data?.code).toBe('unauthorized');
  });

  it('refuses callers without the admin key, unknown channels and bad bodies, and rotates nothing then', async () => {
    const token = await viewerToken(srv, stream.ingestKey, 'vera');
    expect((await rotate('shop-s', {}, null)).status).toBe(401);
    expect((await rotate('shop-s', {}, stream.hostKey)).status).toBe(401);
    expect((await rotate('shop-s', {}, stream.ingestKey)).status).toBe(401);

    const unknown = await rotate('no-such-channel', { graceSeconds: 60 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/no-such-channel/);

    for (const body of [{ graceSeconds: -1 }, { graceSeconds: 1.5 }, { graceSeconds: 604_801 }, { graceSeconds: '10' }]) {
      const bad = await rotate('shop-s', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.message, JSON.stringify(body)).toMatch(/graceSeconds/);
    }
    expect((await rotate('shop-s', { other: 1 })).status).toBe(400);

    // none of those changed the secret
    expect(await refusal(token)).toBeNull();
    // the week-long maximum is accepted
    const week = await rotate('shop-s', { graceSeconds: 604_800 });
    expect(week.status).toBe(200);
    expect(await refusal(token)).toBeNull();
  });
});
