/**
 * The demand a policy plans for. Pure.
 *
 * - `reactive`: the record's `observed` accesses (the most recent horizon-long window).
 * - `proactive`: its `forecast` for the next horizon.
 * - `hybrid`: `w · forecast + (1 − w) · observed`, per zone and class, with `w = forecastAccuracy` when the record
 *   has a forecast and its accuracy is defined and at least `minAccuracy` (default
 *   {@link DEFAULT_MIN_ACCURACY}), else `w = 0`: hybrid is reactive while the forecast lacks history or keeps
 *   missing, and leans on it as it proves itself.
 * - `off`: nothing (the planner returns before reading demand).
 *
 * A record whose chosen demand is missing, empty or all zero has no demand (`no-demand`).
 * @module
 */

import type { DsmPolicy, PlanRecord, ZoneDemand } from './index.ts';
import type { DemandView, Locality } from './locality.ts';

/** Below this measured accuracy hybrid ignores the forecast (a forecast right half the time is noise). */
export const DEFAULT_MIN_ACCURACY = 0.5;

/** Weight of the forecast in the demand of `r` (1 − weight goes to the observation). */
export function forecastWeight(r: PlanRecord, policy: DsmPolicy, minAccuracy: number): number {
  if (policy === 'proactive') return 1;
  if (policy !== 'hybrid') return 0;
  const a = r.forecastAccuracy;
  if (r.forecast === undefined || a === undefined || !(a >= minAccuracy)) return 0;
  return Math.min(1, a);
}

function sum(list: readonly ZoneDemand[] | undefined): number {
  if (list === undefined) return 0;
  let s = 0;
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    s += d.one + d.majority + d.all;
  }
  return s;
}

/** Total accesses of `r` under forecast weight `w` (no zone lookups: the planner's first, cheapest filter). */
export function demandTotal(r: PlanRecord, w: number): number {
  if (w >= 1) return sum(r.forecast);
  if (w <= 0) return sum(r.observed);
  return w * sum(r.forecast) + (1 - w) * sum(r.observed);
}

function addInto(out: DemandView, seen: Uint8Array, loc: Locality, list: readonly ZoneDemand[], w: number): void {
  const b = out.byZone;
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    const z = loc.zoneIndex(d.zone);
    if (seen[z] === 0) {
      seen[z] = 1;
      out.touched[out.count++] = z;
    }
    b[3 * z] += w * d.one;
    b[3 * z + 1] += w * d.majority;
    b[3 * z + 2] += w * d.all;
  }
}

/** Fills `out` (cleared by {@link clearDemand}) with the demand of `r` under forecast weight `w`. */
export function gatherDemand(r: PlanRecord, w: number, loc: Locality, out: DemandView, seen: Uint8Array): void {
  if (w > 0 && r.forecast !== undefined) addInto(out, seen, loc, r.forecast, w);
  if (w < 1 && r.observed !== undefined) addInto(out, seen, loc, r.observed, 1 - w);
}

/** Resets the zones `out` touched. */
export function clearDemand(out: DemandView, seen: Uint8Array): void {
  for (let i = 0; i < out.count; i++) {
    const z = out.touched[i];
    seen[z] = 0;
    out.byZone[3 * z] = out.byZone[3 * z + 1] = out.byZone[3 * z + 2] = 0;
  }
  out.count = 0;
}
