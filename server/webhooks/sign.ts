/**
 * Webhook signatures as the Standard Webhooks specification defines them (standardwebhooks.com):
 * a secret `whsec_<base64>`, and three headers on each request: `webhook-id` (the event's unique id,
 * for the receiver's dedup), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, space-separated when a secret is being
 * rotated). Pure: the caller passes the time. Receivers verify with the `standardwebhooks` package.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'whsec_';

/** a new endpoint secret: 24 random bytes */
export function newSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

function key(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new TypeError('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

/** `v1,<signature>` of one message */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** the headers of one delivery */
export function signedHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' '),
  };
}

/** the check a receiver makes (used by our tests beside the standardwebhooks package) */
export function verify(secret: string, headers: Record<string, string>, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const ts = Number(headers['webhook-timestamp']);
  if (!Number.isFinite(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const want = Buffer.from(sign(secret, headers['webhook-id'] ?? '', ts, body));
  return (headers['webhook-signature'] ?? '').split(' ').some((s) => {
    const got = Buffer.from(s);
    return got.length === want.length && timingSafeEqual(got, want);
  });
}
