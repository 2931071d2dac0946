/**
 * Oracle ceiling of precision@k ({@link precisionAtK}): how well a forecaster that knew every record's true
 * access rate could rank the hot set when the actual counts are Poisson draws around those rates. The oracle
 * ranks keys by the true rate (ties by key name, as `precisionAtK` does); each resample of all keys' counts is
 * scored against that ranking with the same tie-aware precision, and the mean over resamples is the ceiling.
 * `bench/pae-ceiling.ts` runs it on the backtest origins of `pae eval`, with the realized window totals as rates.
 * @module
 */
import { precisionAtK } from './eval.ts';

/** Above this mean the Poisson sampler uses the normal approximation. */
export const POISSON_NORMAL_ABOVE = 30;

/**
 * One Poisson(`mean`) draw from `rand` (uniform in [0, 1)). Mean ≤ {@link POISSON_NORMAL_ABOVE}: Knuth's
 * multiplication method (exact). Larger means: normal approximation, `max(0, round(mean + sqrt(mean) · z))` with
 * z from Box–Muller (skewness 1/sqrt(mean) < 0.19 is ignored). Mean ≤ 0 gives 0.
 */
export function poissonSample(mean: number, rand: () => number): number {
  if (!(mean > 0)) return 0;
  if (mean > POISSON_NORMAL_ABOVE) {
    const u = Math.max(Number.MIN_VALUE, rand());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/** Result of {@link oracleCeiling}. */
export interface CeilingResult {
  /** Mean precision over the resamples with at least one access; NaN when none had any. */
  ceiling: number;
  /** Resamples scored (those with at least one access). */
  scored: number;
  /** k of precision@k for these keys. */
  k: number;
}

/**
 * Oracle ceiling for one window: `rates[i]` is the true rate (expected total over the window) of `keys[i]`
 * (distinct keys); draws `samples` Poisson resamples of all counts and averages precision@k of ranking by `rates`.
 */
export function oracleCeiling(
  keys: readonly string[],
  rates: ArrayLike<number>,
  rand: () => number,
  samples = 200,
  fraction = 0.01,
): CeilingResult {
  const drawn = new Float64Array(keys.length);
  let sum = 0;
  let scored = 0;
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < keys.length; i++) drawn[i] = poissonSample(rates[i], rand);
    const p = precisionAtK(keys, rates, drawn, fraction);
    if (p !== undefined) {
      sum += p;
      scored++;
    }
  }
  return {
    ceiling: scored > 0 ? sum / scored : Number.NaN,
    scored,
    k: Math.max(1, Math.ceil(new Set(keys).size * fraction)),
  };
}

/** Distinct keys of (key, zone) rows and their totals summed over zones, in first-seen order. */
export function keyTotals(keys: readonly string[], values: ArrayLike<number>): { keys: string[]; totals: number[] } {
  const byKey = new Map<string, number>();
  for (let r = 0; r < keys.length; r++) byKey.set(keys[r], (byKey.get(keys[r]) ?? 0) + values[r]);
  return { keys: [...byKey.keys()], totals: [...byKey.values()] };
}
