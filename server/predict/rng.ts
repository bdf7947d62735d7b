/**
 * A small seeded pseudo-random generator (mulberry32: a 32-bit state advanced by a Weyl sequence and
 * mixed by two multiply-xorshift rounds), so clustering and sampling are reproducible from a seed.
 * Not for anything secret. Returns floats in [0, 1) with 32 random bits.
 */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
