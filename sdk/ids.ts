/**
 * Identifiers made in the browser. `crypto.randomUUID` exists only in secure contexts, so both
 * helpers fall back to `crypto.getRandomValues`, which every browser offers on plain http too.
 */

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const dashed = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;

/** A random (version 4) UUID. */
export function randomUUID(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return dashed(hex(b));
}

/**
 * A time-ordered (version 7) UUID: 48 bits of milliseconds, then 74 random bits. Ids made later
 * sort later, which keeps the server's dedup index append-mostly. Matches `^[A-Za-z0-9_.:-]{1,64}$`.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = Math.max(0, Math.floor(now));
  // 48-bit big-endian timestamp; split because bit operators are 32-bit
  const hi = Math.floor(ms / 2 ** 32);
  const lo = ms >>> 0;
  b[0] = (hi >>> 8) & 0xff;
  b[1] = hi & 0xff;
  b[2] = (lo >>> 24) & 0xff;
  b[3] = (lo >>> 16) & 0xff;
  b[4] = (lo >>> 8) & 0xff;
  b[5] = lo & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return dashed(hex(b));
}
