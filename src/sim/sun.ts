/**
 * Follow-the-sun origins for scenario C (semi-synthetic). The trace keeps its keys, popularity and timing; only
 * each request's origin is redrawn, from per-zone hourly shares measured on the NASA logs:
 *
 * 1. Count the requests of `nasa_1995_sparse.csv` (1,000 requests sampled across July and August 1995, so every
 *    hour of the day is covered; the 3-hour file covers three hours only and is not used) per region and UTC hour.
 * 2. Keep the regions with at least {@link MIN_REGION_ROWS} requests (`na` 872, `eu` 80, `asia` 29; `oceania`,
 *    `sa`, `af` have under ten and are dropped): {@link SUN_ZONES}.
 * 3. Per region, the hourly profile: counts smoothed by a circular triangular kernel of ±2 h (weights 1,2,3,2,1),
 *    plus a floor of 2 % of the region's mean hour, normalised to sum 1 over the day.
 * 4. Share of zone z at hour h = profile_z(h) / Σ_z' profile_z'(h): every region weighs the same (parameter
 *    {@link SUN_WEIGHTS}, all 1), so demand follows each region's own day instead of staying with `na`'s 87 %.
 *
 * A request at time t draws its zone from the shares of hour `floor(t mod 1 day / 1 h)` (UTC) with a seeded
 * uniform `unitInterval(hashWords(seed, row, 0x5))`, so the run is deterministic.
 * @module
 */
import { readTrace } from '../stats/trace.ts';

export const SUN_ZONES: readonly string[] = ['na', 'eu', 'asia'];
export const SUN_WEIGHTS: readonly number[] = [1, 1, 1];
export const MIN_REGION_ROWS = 25;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `shares[h * zones + z]`: share of zone z (index in {@link SUN_ZONES}) at UTC hour h; rows sum to 1. */
export async function nasaHourlyShares(nasaSparsePath: string): Promise<Float64Array> {
  const Z = SUN_ZONES.length;
  const counts = new Float64Array(24 * Z);
  for await (const row of readTrace(nasaSparsePath)) {
    const z = SUN_ZONES.indexOf(row.origin);
    if (z < 0) continue;
    counts[Math.floor((row.tsMs % DAY) / HOUR) * Z + z]++;
  }
  return sharesFromCounts(counts, Z);
}

/** Steps 3 and 4 of the module doc on raw `counts[h * zones + z]`. */
export function sharesFromCounts(counts: Float64Array, Z: number): Float64Array {
  const kernel = [1, 2, 3, 2, 1];
  const profile = new Float64Array(24 * Z);
  for (let z = 0; z < Z; z++) {
    let total = 0;
    for (let h = 0; h < 24; h++) {
      let s = 0;
      for (let d = -2; d <= 2; d++) s += kernel[d + 2] * counts[((h + d + 24) % 24) * Z + z];
      profile[h * Z + z] = s;
      total += s;
    }
    const floor = (0.02 * total) / 24;
    let sum = 0;
    for (let h = 0; h < 24; h++) sum += profile[h * Z + z] += floor;
    for (let h = 0; h < 24; h++) profile[h * Z + z] = sum > 0 ? (SUN_WEIGHTS[z] ?? 1) * (profile[h * Z + z] / sum) : 0;
  }
  for (let h = 0; h < 24; h++) {
    let s = 0;
    for (let z = 0; z < Z; z++) s += profile[h * Z + z];
    for (let z = 0; z < Z; z++) profile[h * Z + z] = s > 0 ? profile[h * Z + z] / s : 1 / Z;
  }
  return profile;
}

/** The zone drawn for uniform `u` at time `tsMs` from `shares`. */
export function sunZone(shares: Float64Array, Z: number, tsMs: number, u: number): number {
  const h = Math.floor((((tsMs % DAY) + DAY) % DAY) / HOUR);
  let acc = 0;
  for (let z = 0; z < Z - 1; z++) {
    acc += shares[h * Z + z];
    if (u < acc) return z;
  }
  return Z - 1;
}
