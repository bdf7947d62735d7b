/**
 * One delivery attempt against a real HTTP receiver on loopback, with a stub resolver for names:
 * the connection goes to the address that was checked (a name that resolves to a private
 * address is refused before any connection), the signature verifies with the standardwebhooks
 * package, and a receiver that does not answer is given up on after the timeout.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { send } from './deliver.js';
import { newSecret } from './sign.js';

let server: http.Server;
let port = 0;
const got: { headers: http.IncomingHttpHeaders; body: string; url: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body, url: req.url ?? '' });
      if (req.url === '/hang') return; // never answers
      res.writeHead(req.url === '/fail' ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const allow = { allowHttp: true };

describe('send', () => {
  it('connects to the checked address of a name (a stub resolver: no DNS), with a signature standardwebhooks verifies', async () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'purchase.recorded', data: { orderId: 'o-1' } });
    const r = await send({ url: `http://hooks.shop.test:${port}/in`, secret, eventId: 'evt_1', body, policy: allow, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect(r).toMatchObject({ ok: true, code: 204, error: null });
    const last = got.at(-1)!;
    expect(last.url).toBe('/in');
    expect(last.headers.host).toBe(`hooks.shop.test:${port}`); // the name, though the socket went to the checked address
    expect(new Webhook(secret).verify(last.body, last.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('refuses a name that resolves to a private address before any connection', async () => {
    const before = got.length;
    const r = await send({ url: `http://intranet.shop.test:${port}/in`, secret: newSecret(), eventId: 'evt_2', body: '{}', policy: allow, resolve: async () => [{ address: '10.1.2.3', family: 4 }] });
    expect(r).toMatchObject({ ok: false, refused: true, code: null });
    expect(r.error).toMatch(/10\.1\.2\.3 is a private/);
    expect(got.length).toBe(before);
  });

  it('refuses loopback and plain http unless allowed', async () => {
    const strict = { allowHttp: false };
    expect(await send({ url: `http://127.0.0.1:${port}/in`, secret: newSecret(), eventId: 'e', body: '{}', policy: strict })).toMatchObject({ ok: false, refused: true });
    expect((await send({ url: `https://localhost.shop.test:${port}/in`, secret: newSecret(), eventId: 'e', body: '{}', policy: strict, resolve: async () => [{ address: '::1', family: 6 }] })).error).toMatch(/loopback/);
  });

  it('a failing receiver is an attempt with its code; one that does not answer is given up on after the timeout', async () => {
    const failed = await send({ url: `http://127.0.0.1:${port}/fail`, secret: newSecret(), eventId: 'e3', body: '{}', policy: allow });
    expect(failed).toMatchObject({ ok: false, code: 500, error: 'answered 500' });
    const slow = await send({ url: `http://127.0.0.1:${port}/hang`, secret: newSecret(), eventId: 'e4', body: '{}', policy: allow, timeoutMs: 200 });
    expect(slow).toMatchObject({ ok: false, code: null, error: 'no answer within 0.2 s' });
    expect(slow.durationMs).toBeGreaterThanOrEqual(190);
  });
});
