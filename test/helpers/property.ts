/**
 * Property-test run counts. `FC_SCALE=20 npx vitest run …` multiplies every property's runs, to hunt
 * rare counterexamples before CI meets them; without it each property runs its usual count.
 */
export const runs = (n: number): number => Math.round(n * Number(process.env.FC_SCALE ?? 1));
