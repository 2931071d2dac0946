/**
 * The rules every planned move obeys, as small checks. Pure (they read and, in {@link commit}, write only the
 * cycle's own ledger).
 *
 * - **Redundancy**: a target has at least `min(R, up members)` copies, only up members, no duplicates
 *   (candidates are built that way; {@link resolveMembers} picks distinct up members).
 * - **Survival** ({@link survives}): `survive: zone`: no zone holds a majority (floor(n/2)+1) of the n replicas;
 *   `survive: node`: not all n in one zone when the up members span two zones or more. With n = 1 no placement
 *   survives anything, so the rule is vacuous (R = 1 is the operator's choice). When the up members span too
 *   few zones for the rule (e.g. two zones, R = 3, `zone`), no target passes and nothing moves.
 * - **Capacity** ({@link fitsMember}): `usedBytes + bytes arriving this cycle + size ≤ capacityBytes`, where arriving
 *   counts in-flight moves' new holders (as TiKV PD counts operator influence) and the moves planned so far.
 *   Bytes leaving are not credited: the old copy is dropped only after the mover's grace period.
 * - **Cool-down** ({@link resolveMembers}): within `cooldownMs` of the record's last move, a new holder may not
 *   be one the record left (`lastMove.from` minus current holders) unless the move gains
 *   `largeGainFactor ×` the record's bar (`max(thresholdMs, hysteresis · cost now)`; see {@link coolingDown}).
 * @module
 */
import type { Candidate } from './candidates.ts';
import type { Cycle } from './cycle.ts';
import type { PlanRecord } from './index.ts';

/** Most replicas of n that one zone may hold under the cycle's survival rule. */
export function maxPerZone(cy: Cycle, n: number): number {
  if (n <= 1) return n;
  if (cy.cfg.survive === 'zone') return Math.floor(n / 2);
  return cy.upZones >= 2 ? n - 1 : n;
}

/** True when the placement with zones `zones[0 .. n)` obeys the survival rule. */
export function survives(cy: Cycle, zones: ArrayLike<number>, n: number): boolean {
  const limit = maxPerZone(cy, n);
  const c = cy.counts;
  let ok = true;
  for (let i = 0; i < n; i++) if (++c[zones[i]] > limit) ok = false;
  for (let i = 0; i < n; i++) c[zones[i]] = 0;
  return ok;
}

/** True when member `m` can take `size` more bytes this cycle. */
export function fitsMember(cy: Cycle, m: number, size: number): boolean {
  return cy.up[m] === 1 && cy.overfull[m] === 0 && cy.used[m] + cy.incoming[m] + size <= cy.capacity[m];
}

/** Any up member (to sketch a skipped move's target regardless of capacity). */
function upMember(cy: Cycle, m: number, _size: number): boolean {
  return cy.up[m] === 1;
}

/** Fill ratio used to pick a destination inside a zone (unbounded members: 0, then bytes, then id). */
function load(cy: Cycle, m: number): number {
  const cap = cy.capacity[m];
  return Number.isFinite(cap) ? (cy.used[m] + cy.incoming[m]) / cap : 0;
}

/**
 * True when the cool-down forbids `r` from returning to holders it left, for candidate `c`. "Large" is
 * `largeGainFactor` × the bar this record's moves must clear anyway: `max(thresholdMs, hysteresis · cost now)`.
 * With the bare threshold, any hot record clears 4 × 200 ms and bounces straight back after a blip.
 */
export function coolingDown(cy: Cycle, r: PlanRecord, c: Candidate): boolean {
  const last = r.lastMove;
  if (last === undefined || cy.now - last.at >= cy.cfg.cooldownMs) return false;
  const costNow = c.gain + c.costAfter + cy.moveCost(c.bytes);
  const bar = Math.max(cy.cfg.thresholdMs, cy.cfg.hysteresis * costNow);
  return c.gain < cy.cfg.largeGainFactor * bar;
}

/** True when member `m` is one `r` left in its last move (and does not hold it now). */
function left(cy: Cycle, r: PlanRecord, m: number): boolean {
  const id = cy.ids[m];
  return r.lastMove!.from.includes(id) && !r.holders.includes(id);
}

/**
 * The members of the target of `c`, in no particular order: the kept holders, then for each zone slot the up
 * member with the lowest fill ratio (then the lowest id) that is not a holder, fits the record and, during a
 * cool-down, is not a holder the record left. A failure says which rule stopped it. With `limits` false the
 * capacity and cool-down rules are ignored (to show a skipped move's would-be target).
 */
export function resolveMembers(
  cy: Cycle,
  r: PlanRecord,
  c: Candidate,
  limits = true,
): number[] | 'capacity' | 'cooldown' {
  const strict = limits && coolingDown(cy, r, c);
  const fits = limits ? fitsMember : upMember;
  const size = r.sizeBytes;
  if (c.fixed !== undefined) {
    for (const m of c.fixed) {
      if (r.holders.includes(cy.ids[m])) continue;
      if (strict && left(cy, r, m)) return 'cooldown';
      if (!fits(cy, m, size)) return 'capacity';
    }
    return [...c.fixed];
  }
  const chosen = [...c.keep];
  for (const z of c.newZones) {
    let best = -1;
    let bestLoad = 0;
    let blocked = false;
    for (const m of cy.upByZone[z]) {
      if (chosen.includes(m) || r.holders.includes(cy.ids[m]) || !fits(cy, m, size)) continue;
      if (strict && left(cy, r, m)) {
        blocked = true;
        continue;
      }
      const l = load(cy, m);
      const tie = best >= 0 && l === bestLoad && cy.used[m] + cy.incoming[m] < cy.used[best] + cy.incoming[best];
      if (best < 0 || l < bestLoad || tie) {
        best = m;
        bestLoad = l;
      }
    }
    if (best < 0) return blocked ? 'cooldown' : 'capacity';
    chosen.push(best);
  }
  return chosen;
}

/** Books a planned move in the ledger: its new holders receive the record; a shed member sheds it. */
export function commit(cy: Cycle, r: PlanRecord, members: readonly number[], shedFrom: number | undefined): void {
  for (const m of members) if (!r.holders.includes(cy.ids[m])) cy.incoming[m] += r.sizeBytes;
  if (shedFrom !== undefined) cy.shed[shedFrom] += r.sizeBytes;
}
