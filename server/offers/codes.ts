import { randomFillSync } from 'node:crypto';

/**
 * 31 symbols with no look-alikes (no 0/O, 1/I/L): 10 symbols give ~49.5 bits of entropy.
 * Bytes ≥ 248 (= 31 × 8) are rejected so every symbol is equally likely.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 10;
const LIMIT = 256 - (256 % CODE_ALPHABET.length);

/**
 * Bytes from the CSPRNG, drawn 4 KiB at a time: a push issues thousands of codes at once, and
 * one call into the CSPRNG per code cost more than the rest of the code's making.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;
function nextByte(): number {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return pool[used++]!;
}

export function generateCode(length = CODE_LENGTH, random?: (n: number) => Uint8Array): string {
  let out = '';
  if (!random) {
    while (out.length < length) {
      const b = nextByte();
      if (b < LIMIT) out += CODE_ALPHABET[b % CODE_ALPHABET.length];
    }
    return out;
  }
  while (out.length < length) {
    const bytes = random(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]!;
      if (b < LIMIT) out += CODE_ALPHABET[b % CODE_ALPHABET.length];
    }
  }
  return out;
}

/** Codes are case-insensitive for people typing them; this is the stored form. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}
