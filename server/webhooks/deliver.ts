/**
 * One HTTP attempt of one delivery: the target checked (address.ts) on the addresses its name
 * resolves to now, then a POST to exactly the address that passed (the socket's `lookup` answers
 * with it, so no second DNS answer can point elsewhere; TLS still checks the certificate against
 * the name). A receiver gets 10 s for its whole answer; any 2xx is success; the answer's body is
 * read up to 4 KiB and dropped. Never throws: a failure is an attempt with a code or an error.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { checkTarget, type Resolve, type TargetPolicy } from './address.js';
import { signedHeaders } from './sign.js';

export const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 4096;

export const systemResolve: Resolve = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));

export interface Outcome {
  ok: boolean;
  code: number | null;
  error: string | null;
  durationMs: number;
  /** the target was refused by the policy (no connection was made) */
  refused?: boolean;
}

export interface SendOptions {
  url: string;
  secret: string;
  eventId: string;
  body: string;
  policy: TargetPolicy;
  resolve?: Resolve;
  timeoutMs?: number;
  now?: () => number;
}

export async function send(o: SendOptions): Promise<Outcome> {
  const start = performance.now();
  const took = () => Math.round(performance.now() - start);
  const target = await checkTarget(o.url, o.policy, o.resolve ?? systemResolve);
  if (!target.ok) return { ok: false, code: null, error: `refused: ${target.reason}`, durationMs: took(), refused: true };
  const u = new URL(o.url);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'LiveTier-Webhooks/1',
    ...signedHeaders([o.secret], o.eventId, Math.floor((o.now ?? Date.now)() / 1000), o.body),
  };
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  return new Promise<Outcome>((resolve) => {
    let done = false;
    const finish = (r: Omit<Outcome, 'durationMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: took() });
    };
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(o.body) }, lookup: pinned, agent: false }, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const code = res.statusCode ?? 0;
      const settle = () => finish({ ok: code >= 200 && code < 300, code, error: code >= 200 && code < 300 ? null : `answered ${code}` });
      res.on('end', settle);
      res.on('close', settle);
      res.on('error', settle);
    });
    const timer = setTimeout(() => {
      finish({ ok: false, code: null, error: `no answer within ${(o.timeoutMs ?? DELIVERY_TIMEOUT_MS) / 1000} s` });
      req.destroy();
    }, o.timeoutMs ?? DELIVERY_TIMEOUT_MS);
    req.on('error', (err) => finish({ ok: false, code: null, error: err.message }));
    req.end(o.body);
  });
}
