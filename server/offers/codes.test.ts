import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, CODE_LENGTH, generateCode, normalizeCode } from './codes.js';

describe('coupon codes', () => {
  it('uses an unambiguous alphabet of 30+ symbols and at least 8 characters', () => {
    expect(CODE_ALPHABET.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CODE_ALPHABET).size).toBe(CODE_ALPHABET.length);
    for (const c of '01OIL') expect(CODE_ALPHABET).not.toContain(c);
    expect(CODE_LENGTH).toBeGreaterThanOrEqual(8);
    expect(generateCode()).toMatch(new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`));
  });

  it('never repeats in 100,000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(generateCode());
    expect(seen.size).toBe(100_000);
  });

  it('rejects biased bytes instead of folding them', () => {
    // 248..255 would map onto the first symbols; they must be skipped
    let calls = 0;
    const random = (n: number) => {
      calls++;
      return calls === 1 ? new Uint8Array(n).fill(250) : new Uint8Array(n).fill(1);
    };
    expect(generateCode(4, random)).toBe(CODE_ALPHABET[1]!.repeat(4));
    expect(calls).toBe(2);
  });

  it('normalizes what people type', () => {
    expect(normalizeCode('  abcd2345 ')).toBe('ABCD2345');
  });
});
