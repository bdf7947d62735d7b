import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { newSecret, sign, signedHeaders, verify } from './sign.js';
import { checkTarget, nextAttemptAt, refusedAddress, refusedUrl, RETRY_FOR_MS } from './address.js';

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks package, and fail when anything changes', () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'purchase.recorded', data: { orderId: 'o-1', amount: 12_800 } });
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders([secret], 'msg_1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(verify(secret, headers, body, now)).toBe(true);
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    expect(verify(secret, { ...headers, 'webhook-id': 'msg_2' }, body, now)).toBe(false);
    expect(verify(secret, headers, body, now + 600)).toBe(false); // too old
  });

  it('sign both secrets while one is rotated: either verifies', () => {
    const [a, b] = [newSecret(), newSecret()];
    const headers = signedHeaders([a, b], 'msg_3', 1_700_000_000, '{}');
    expect(headers['webhook-signature']!.split(' ')).toEqual([sign(a, 'msg_3', 1_700_000_000, '{}'), sign(b, 'msg_3', 1_700_000_000, '{}')]);
    expect(verify(b, headers, '{}', 1_700_000_000)).toBe(true);
  });
});

describe('webhook targets', () => {
  const strict = { allowHttp: false };
  const dev = { allowHttp: true };

  it('https only, unless http is allowed; no credentials in the URL', () => {
    expect(refusedUrl('https://crm.example.com/hooks', strict)).toBeNull();
    expect(refusedUrl('http://crm.example.com/hooks', strict)).toMatch(/https/);
    expect(refusedUrl('http://127.0.0.1:9999/hooks', dev)).toBeNull();
    expect(refusedUrl('ftp://x/y', dev)).toMatch(/http/);
    expect(refusedUrl('https://user:pw@crm.example.com/', strict)).toMatch(/credentials/);
    expect(refusedUrl('not a url', strict)).toMatch(/valid/);
  });

  it('refuses private, link-local, reserved and (unless allowed) loopback addresses, IPv4-mapped ones too', () => {
    for (const a of ['10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect(refusedAddress(a, dev), a).not.toBeNull();
    }
    expect(refusedAddress('127.0.0.1', strict)).toMatch(/loopback/);
    expect(refusedAddress('::1', strict)).toMatch(/loopback/);
    expect(refusedAddress('127.0.0.1', dev)).toBeNull();
    expect(refusedAddress('93.184.216.34', strict)).toBeNull();
    expect(refusedAddress('2606:2800:220:1::', strict)).toBeNull();
  });

  it('checks every address a name resolves to (a stub resolver: no lookup leaves the machine)', async () => {
    const resolve = async (host: string) =>
      host === 'public.example' ? [{ address: '93.184.216.34', family: 4 as const }]
      : host === 'sneaky.example' ? [{ address: '93.184.216.34', family: 4 as const }, { address: '10.0.0.7', family: 4 as const }]
      : [];
    expect(await checkTarget('https://public.example/h', strict, resolve)).toEqual({ ok: true, address: '93.184.216.34', family: 4 });
    expect(await checkTarget('https://sneaky.example/h', strict, resolve)).toMatchObject({ ok: false, reason: expect.stringMatching(/10\.0\.0\.7/) });
    expect(await checkTarget('https://nowhere.example/h', strict, resolve)).toMatchObject({ ok: false, reason: expect.stringMatching(/resolve/) });
    expect(await checkTarget('https://[fd00::1]/h', strict, resolve)).toMatchObject({ ok: false });
    expect(await checkTarget('https://10.0.0.1/h', strict, resolve)).toMatchObject({ ok: false });
  });

  it('retries on a schedule for up to 24 hours', () => {
    const t0 = 1_000_000;
    expect(nextAttemptAt(t0, 1, t0)).toBe(t0 + 5_000);
    expect(nextAttemptAt(t0, 2, t0 + 5_000)).toBe(t0 + 35_000);
    expect(nextAttemptAt(t0, 12, t0 + RETRY_FOR_MS - 1000)).toBeNull();
  });
});
