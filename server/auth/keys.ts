import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random key such as `lt_host_3q2x…`: 24 random bytes, base64url. */
export function generateKey(kind: 'host' | 'ingest' | 'admin' | 'channel'): string {
  return `lt_${kind}_${randomBytes(24).toString('base64url')}`;
}

/** Keys are stored as SHA-256 digests: they are long random strings, so a fast hash is enough. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time comparison of two secrets of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The key of an `Authorization: Bearer <key>` header, or null. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** When a rotated-out secret stops working: `graceSeconds` from now, or null (at once) for no grace. */
export function graceUntil(graceSeconds: number, now: number): number | null {
  return graceSeconds > 0 ? now + graceSeconds * 1000 : null;
}
