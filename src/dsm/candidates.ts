/**
 * Candidate target placements of one record, each as zones (the members inside a zone are picked when the move
 * is accepted, by load: see `resolveMembers`), scored by
 * `gain = cost(current) − cost(target) − (bytes / MiB) · pricePerMbMs`, bytes = size × new holders.
 *
 * - `replace`, per demand zone z and m = 1 .. the most replicas the survival rule lets one zone hold: "m replicas
 *   in z", keeping the current holders that best serve the rest of the demand (every subset of the right size
 *   is scored; replica counts are small) and filling, if holders are short, with the zone that lowers the cost
 *   most. One swap is not enough: with R = 3 and `survive: node`, a majority local to z needs two replicas there,
 *   and the first swap alone gains nothing for majority accesses.
 * - `add`: one more replica in a demand zone, up to `maxReplicas` (for `one`-heavy demand from a new zone).
 * - `drop` (more than R copies) and `home` (overridden records) are **reclaiming** moves: they free a copy or an
 *   override that no longer pays, so they are taken when they lose at most `thresholdMs` against the best other
 *   move (staying put included), not when they gain the threshold (see {@link choose}), and only once the record
 *   has not moved for `reclaimAfterMs`.
 *
 * New replicas go only to zones supplying at least `minZoneShare` of the record's demand (noise filter).
 * @module
 */
import { maxPerZone, survives } from './constraints.ts';
import type { Cycle } from './cycle.ts';
import type { MoveKind, PlanRecord, SkipReason } from './index.ts';

/** A target placement of one record, before its new members are picked. */
export interface Candidate {
  readonly kind: MoveKind;
  /** Current up holders kept (member indices). */
  readonly keep: readonly number[];
  /** One zone slot per new holder. */
  readonly newZones: readonly number[];
  /** `home`: the exact target members, ring order. */
  readonly fixed?: readonly number[];
  readonly costAfter: number;
  readonly gain: number;
  readonly bytes: number;
  /** An over-full member this move takes the record off. */
  readonly shedFrom?: number;
}

/** What the planner does with a record: try these candidates in order, or skip it. */
export type Choice =
  | { readonly try: readonly Candidate[] }
  | { readonly skip: SkipReason; readonly best?: Candidate; readonly list: boolean };

const KIND_RANK: Readonly<Record<MoveKind, number>> = { replace: 0, home: 1, drop: 2, add: 3 };
const byGain = (a: Candidate, b: Candidate) => b.gain - a.gain || KIND_RANK[a.kind] - KIND_RANK[b.kind];

/** The record in hand: `cy.holders[0 .. nUp)` are its up holders. */
export interface View {
  readonly r: PlanRecord;
  readonly nUp: number;
  readonly allUp: boolean;
  readonly costNow: number;
  readonly total: number;
}

function make(cy: Cycle, v: View, kind: MoveKind, keep: number[], newZones: number[], n: number): Candidate {
  const zb = cy.zbuf;
  let i = 0;
  for (const m of keep) zb[i++] = cy.zoneOf[m];
  for (const z of newZones) zb[i++] = z;
  const costAfter = cy.cost(zb, n);
  const bytes = v.r.sizeBytes * newZones.length;
  return { kind, keep, newZones, costAfter, bytes, gain: v.costNow - costAfter - cy.moveCost(bytes) };
}

function zonesOk(cy: Cycle, keep: readonly number[], newZones: readonly number[]): boolean {
  const zb = cy.zbuf;
  let i = 0;
  for (const m of keep) zb[i++] = cy.zoneOf[m];
  for (const z of newZones) zb[i++] = z;
  return survives(cy, zb, i);
}

/** Free up members of zone z (not holders, not already picked in `picked`). */
function free(cy: Cycle, held: readonly number[], z: number, picked: readonly number[]): number {
  let h = 0;
  for (const m of held) if (cy.zoneOf[m] === z) h++;
  for (const p of picked) if (p === z) h++;
  return cy.upByZone[z].length - h;
}

function popcount(x: number): number {
  let c = 0;
  for (let y = x; y !== 0; y &= y - 1) c++;
  return c;
}

/** "m replicas in z" (see the module doc); undefined when no such target survives or it changes nothing. */
function putInZone(cy: Cycle, v: View, held: number[], z: number, m: number, n: number, bad: Candidate[]) {
  const inZ = held.filter((h) => cy.zoneOf[h] === z);
  const others = held.filter((h) => cy.zoneOf[h] !== z);
  const keepZ = inZ.slice(0, Math.min(m, inZ.length));
  const newZ: number[] = new Array(m - keepZ.length).fill(z);
  if (newZ.length > free(cy, held, z, [])) return undefined;
  const s = n - m;
  let best: Candidate | undefined;
  if (others.length >= s) {
    for (let mask = 0; mask < 1 << others.length; mask++) {
      if (popcount(mask) !== s) continue;
      const keep = [...keepZ, ...others.filter((_, i) => (mask >> i) & 1)];
      if (newZ.length === 0 && keep.length === held.length && v.allUp) continue; // the current placement
      const c = make(cy, v, 'replace', keep, newZ, n);
      if (!zonesOk(cy, keep, newZ)) bad.push(c);
      else if (best === undefined || c.costAfter < best.costAfter) best = c;
    }
    return best;
  }
  const fill = [...newZ];
  const keep = [...keepZ, ...others];
  for (let k = 0; k < s - others.length; k++) {
    let pick = -1;
    let pickCost = 0;
    for (let zz = 0; zz < cy.loc.size; zz++) {
      if (zz === z || free(cy, held, zz, fill) <= 0) continue;
      const c = make(cy, v, 'replace', keep, [...fill, zz], keep.length + fill.length + 1).costAfter;
      if (pick < 0 || c < pickCost) {
        pick = zz;
        pickCost = c;
      }
    }
    if (pick < 0) return undefined;
    fill.push(pick);
  }
  const c = make(cy, v, 'replace', keep, fill, n);
  if (zonesOk(cy, keep, fill)) return c;
  bad.push(c);
  return undefined;
}

/**
 * Every candidate of the record in `v` (demand in `cy.demand`), and the ones the survival rule forbids; with
 * `forbidden`, also "one more replica in a zone than the rule allows" (only to explain a `redundancy` skip).
 */
export function candidates(cy: Cycle, v: View, forbidden = false): { valid: Candidate[]; bad: Candidate[] } {
  const held = Array.from(cy.holders.subarray(0, v.nUp));
  const valid: Candidate[] = [];
  const bad: Candidate[] = [];
  const upMembers = cy.upByZone.reduce((s, l) => s + l.length, 0);
  const n = Math.min(Math.max(cy.minCopies, v.r.holders.length), upMembers);
  const d = cy.demand;
  for (let i = 0; i < d.count; i++) {
    const z = d.touched[i];
    const share = (d.byZone[3 * z] + d.byZone[3 * z + 1] + d.byZone[3 * z + 2]) / v.total;
    if (cy.upByZone[z].length === 0 || !(share >= cy.cfg.minZoneShare)) continue;
    const most = Math.min(maxPerZone(cy, n), cy.upByZone[z].length);
    for (let m = 1; m <= most; m++) {
      const c = putInZone(cy, v, held, z, m, n, bad);
      if (c !== undefined) valid.push(c);
    }
    // One replica more than the survival rule allows, scored only to report `redundancy` when it is the best.
    if (forbidden && most < Math.min(n, cy.upByZone[z].length)) putInZone(cy, v, held, z, most + 1, n, bad);
    const addOk = v.allUp && v.nUp < cy.cfg.maxReplicas && v.nUp + 1 >= cy.minCopies;
    if (addOk && free(cy, held, z, []) > 0) {
      const c = make(cy, v, 'add', held, [z], v.nUp + 1);
      (zonesOk(cy, held, [z]) ? valid : bad).push(c);
    }
  }
  if (v.allUp && v.nUp > cy.cfg.replicationFactor && v.nUp - 1 >= cy.minCopies) {
    let best: Candidate | undefined;
    for (let i = 0; i < held.length; i++) {
      const keep = held.filter((_, j) => j !== i);
      if (!zonesOk(cy, keep, [])) continue;
      const c = make(cy, v, 'drop', keep, [], keep.length);
      if (best === undefined || c.gain > best.gain) best = c;
    }
    if (best !== undefined) valid.push(best);
  }
  const home = v.r.overridden ? homeCandidate(cy, v) : undefined;
  if (home !== undefined) valid.push(home);
  return { valid: valid.sort(byGain), bad: bad.sort(byGain) };
}

/** The record's ring placement as a target, when it is all up members, distinct, and obeys the rules. */
export function homeCandidate(cy: Cycle, v: View): Candidate | undefined {
  const fixed: number[] = [];
  for (const id of v.r.home) {
    const m = cy.member(id);
    if (m < 0 || cy.up[m] === 0 || fixed.includes(m)) return undefined;
    fixed.push(m);
  }
  if (fixed.length < cy.minCopies) return undefined;
  const zb = cy.zbuf;
  fixed.forEach((m, i) => {
    zb[i] = cy.zoneOf[m];
  });
  if (!survives(cy, zb, fixed.length)) return undefined;
  const costAfter = cy.cost(zb, fixed.length);
  const arriving = fixed.filter((m) => !v.r.holders.includes(cy.ids[m])).length;
  const bytes = v.r.sizeBytes * arriving;
  const gain = v.costNow - costAfter - cy.moveCost(bytes);
  return { kind: 'home', keep: [], newZones: [], fixed, costAfter, bytes, gain };
}

/** How the planner treats the record given its candidates (the threshold, hysteresis and reclaim rules). */
export function choose(cy: Cycle, v: View, valid: readonly Candidate[], bad: readonly Candidate[]): Choice {
  const { thresholdMs, hysteresis } = cy.cfg;
  const normal = valid.filter((c) => c.kind === 'replace' || c.kind === 'add');
  const passing = normal.filter((c) => c.gain >= thresholdMs && c.gain >= hysteresis * v.costNow);
  // Reclaiming is lazy: only once the record has been still for `reclaimAfterMs`, so a record that moved on a
  // blip does not bounce straight back (the overrides cap bounds metadata meanwhile).
  // A quiet window is no evidence that the placement stopped paying: it waits longer (quietReclaimAfterMs).
  const last = v.r.lastMove;
  const wait = v.total > 0 ? cy.cfg.reclaimAfterMs : cy.cfg.quietReclaimAfterMs;
  const settled = last === undefined || cy.now - last.at >= wait;
  const reclaim = settled ? valid.find((c) => c.kind === 'home' || c.kind === 'drop') : undefined;
  const alternative = Math.max(0, passing[0]?.gain ?? 0);
  if (reclaim !== undefined && alternative - reclaim.gain <= thresholdMs) return { try: [reclaim, ...passing] };
  if (passing.length > 0) return { try: passing.slice(0, 4) };
  const top = normal[0];
  if (bad.length > 0 && bad[0].gain >= thresholdMs && (top === undefined || bad[0].gain > top.gain)) {
    return { skip: 'redundancy', best: bad[0], list: true };
  }
  if (top === undefined || top.gain < thresholdMs) return { skip: 'below-threshold', list: false };
  return { skip: 'hysteresis', best: top, list: true };
}

/**
 * Candidates taking the record off over-full holder `x`: swap it for a member of any zone, or drop it when the
 * record has more than R copies. Their gain may be negative (shedding is a capacity rule, not a latency one).
 */
export function shedCandidates(cy: Cycle, v: View, x: number): Candidate[] {
  const held = Array.from(cy.holders.subarray(0, v.nUp));
  const keep = held.filter((h) => h !== x);
  const out: Candidate[] = [];
  const n = Math.max(cy.minCopies, held.length);
  for (let z = 0; z < cy.loc.size; z++) {
    if (free(cy, held, z, []) <= 0 || keep.length + 1 !== n) continue;
    if (!zonesOk(cy, keep, [z])) continue;
    out.push({ ...make(cy, v, 'replace', keep, [z], n), shedFrom: x });
  }
  if (held.length > cy.cfg.replicationFactor && keep.length >= cy.minCopies && zonesOk(cy, keep, [])) {
    out.push({ ...make(cy, v, 'drop', keep, [], keep.length), shedFrom: x });
  }
  return out.sort(byGain);
}
