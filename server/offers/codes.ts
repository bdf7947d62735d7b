import { randomBytes } from 'node:crypto';

/**
 * 31 symbols with no look-alikes (no 0/O, 1/I/L): 10 symbols give ~49.5 bits of entropy.
 * Bytes ≥ 248 (= 31 × 8) are rejected so every symbol is equally likely.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 10;
const LIMIT = 256 - (256 % CODE_ALPHABET.length);

export function generateCode(length = CODE_LENGTH, random: (n: number) => Uint8Array = randomBytes): string {
  let out = '';
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
