/**
 * The DSM planner: {@link planCycle}. Pure: no I/O, no clock (`input.now`), no randomness, no module-level state;
 * the same input gives a deep-equal plan (ties broken by gain, then record key, then input order).
 *
 * **Pass 1, per record** (O(records · zones), allocation-free until a record may move):
 * 1. `pinned` → skip; `inFlight` → skip, and its new holders' bytes count as arriving (capacity).
 * 2. The policy's demand (`demand.ts`). Cheapest filter first, without zone lookups: `total · spread`, where
 *    spread bounds how much any placement can save per access; below `thresholdMs` → `below-threshold`.
 * 3. Exact `cost(current)` from cached per-zone-multiset latency vectors (`locality.ts`) and a tighter bound,
 *    `cost(current) − lower bound of any allowed placement`; below the threshold or `hysteresis · cost(current)`
 *    → skipped, counted only.
 * 4. Candidates (`candidates.ts`), each with its gain; {@link choose} applies threshold, hysteresis and reclaim.
 *    Overridden records and records on an over-full member always get here (they may have to move anyway).
 *
 * **Pass 2, greedy** in priority order: (a) over-full members shed records, least gain loss first, until back
 * under capacity; (b) when more overrides are held than `maxOverrides`, the least useful go home (highest home
 * gain first); (c) every other chosen move, best gain first. Each acceptance checks the budgets (`maxMoves`,
 * `maxBytes`), picks the new members (capacity, cool-down: `constraints.ts`) and the overrides cap (a move that
 * creates an override only while `overridesHeld + created < maxOverrides`). At most one move per record.
 *
 * **Skips.** Every record looked at is counted in `skipCounts` under the reason it did not move. `skipped` lists
 * only skips with a candidate move (a constraint or a budget stopped it), at most {@link SKIP_LIST_CAP}: first
 * those of pass 2 (in gain order), then those of pass 1 (in input order). Pinned, in-flight, no-demand and
 * below-threshold records are counted only (bounded output on a million records).
 * @module
 */
import {
  type Candidate,
  type Choice,
  candidates,
  choose,
  homeCandidate,
  shedCandidates,
  type View,
} from './candidates.ts';
import { commit, resolveMembers } from './constraints.ts';
import { Cycle, SKIP_LIST_CAP } from './cycle.ts';
import { clearDemand, demandTotal, forecastWeight, gatherDemand } from './demand.ts';
import type { Plan, PlannedMove, PlannerInput, PlanRecord, PlanSkip, SkipReason } from './index.ts';
import { type Entry, needsOverride, toMove } from './moves.ts';

/** A record whose treatment waits for pass 2 (it may be shed or sent home first). */
interface Deferred {
  readonly entry: Entry;
  readonly choice: Choice;
}

/** Plans one cycle: see the module doc. */
export function planCycle(input: PlannerInput): Plan {
  const cfg = input.config;
  if (cfg.policy === 'off') return { moves: [], skipped: [], considered: 0, skipCounts: {} };
  const cy = new Cycle(input);
  const counts: Partial<Record<SkipReason, number>> = {};
  const bump = (k: SkipReason) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const listed1: { entry: Entry; reason: SkipReason; cand: Candidate }[] = [];
  const entries: Entry[] = [];
  const sheds: Entry[] = [];
  const homes: Entry[] = [];
  const deferred: Deferred[] = [];
  const excess = input.overridesHeld - cy.cfg.maxOverrides;
  const records = input.records;
  const thr = cy.cfg.thresholdMs;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.inFlight !== undefined) {
      // Counted as done (even for a pinned record: an operator's move in flight still lands its bytes).
      for (const id of r.inFlight) {
        const m = cy.member(id);
        if (m >= 0 && !r.holders.includes(id)) cy.incoming[m] += r.sizeBytes;
      }
    }
    if (r.pinned === true) {
      bump('pinned');
      continue;
    }
    if (r.inFlight !== undefined) {
      bump('in-flight');
      continue;
    }
    const w = forecastWeight(r, cfg.policy, cy.cfg.minAccuracy);
    const total = demandTotal(r, w);
    const over = cy.anyOverfull ? overfullHolder(cy, r) : -1;
    // Overridden records, extra copies and over-full holders may have to move whatever their gain.
    const special = r.overridden || r.holders.length > cfg.replicationFactor || over >= 0;
    if (!special) {
      if (!(total > 0)) {
        bump('no-demand');
        continue;
      }
      if (total * cy.spread < thr) {
        bump('below-threshold');
        continue;
      }
    }
    const read = cy.readHolders(r);
    const nUp = read >= 0 ? read : -1 - read;
    if (nUp === 0) {
      bump('redundancy'); // no reachable copy to copy from; repair's job, not the planner's
      continue;
    }
    gatherDemand(r, w, cy.loc, cy.demand, cy.seen);
    for (let k = 0; k < nUp; k++) cy.zbuf[k] = cy.zoneOf[cy.holders[k]];
    const costNow = cy.cost(cy.zbuf, nUp);
    const bound = costNow - cy.lowerBound();
    if (!special && (bound < thr || bound < cfg.hysteresis * costNow)) {
      bump(bound < thr ? 'below-threshold' : 'hysteresis');
      clearDemand(cy.demand, cy.seen);
      continue;
    }
    const v: View = { r, nUp, allUp: read >= 0, costNow, total };
    const base = entryBase(cy, i, r, costNow, w);
    const choice: Choice = total > 0 || r.overridden ? pick(cy, v) : { skip: 'no-demand', list: false };
    if (over >= 0) {
      const c = shedCandidates(cy, v, over);
      if (c.length > 0) sheds.push({ ...base, cands: c, why: 'shed' });
    }
    if (excess > 0 && r.overridden) {
      const h = homeCandidate(cy, v);
      if (h !== undefined) homes.push({ ...base, cands: [h], why: 'cap' });
    }
    clearDemand(cy.demand, cy.seen);
    const entry: Entry = { ...base, cands: 'try' in choice ? choice.try : [], why: 'demand' };
    if (special) deferred.push({ entry, choice });
    else if ('try' in choice) entries.push(entry);
    else {
      bump(choice.skip);
      if (choice.list && choice.best !== undefined && listed1.length < SKIP_LIST_CAP) {
        listed1.push({ entry, reason: choice.skip, cand: choice.best });
      }
    }
  }
  const pass2 = new Pass2(cy, input, records.length, bump);
  pass2.shed(sheds);
  if (excess > 0) pass2.sendHome(homes, excess);
  for (const d of deferred) {
    if (pass2.moved[d.entry.i] === 1) continue;
    if ('try' in d.choice) entries.push(d.entry);
    else {
      bump(d.choice.skip);
      if (d.choice.list && d.choice.best !== undefined && listed1.length < SKIP_LIST_CAP) {
        listed1.push({ entry: d.entry, reason: d.choice.skip, cand: d.choice.best });
      }
    }
  }
  pass2.rest(entries);
  const skipped = pass2.skipped;
  for (const s of listed1) {
    if (skipped.length >= SKIP_LIST_CAP) break;
    skipped.push({ key: s.entry.r.key, reason: s.reason, move: pass2.sketch(s.entry, s.cand) });
  }
  return { moves: pass2.moves, skipped, considered: records.length, skipCounts: counts };
}

function pick(cy: Cycle, v: View): Choice {
  const { valid, bad } = candidates(cy, v);
  const choice = choose(cy, v, valid, bad);
  if ('try' in choice) return choice;
  // Nothing to do: score the placements the survival rule forbids too, to say whether it is what stops the record.
  const all = candidates(cy, v, true);
  return choose(cy, v, all.valid, all.bad);
}

/** The first up holder of `r` that is over capacity, or -1. */
function overfullHolder(cy: Cycle, r: PlanRecord): number {
  for (const id of r.holders) {
    const m = cy.member(id);
    if (m >= 0 && cy.overfull[m] === 1) return m;
  }
  return -1;
}

/** The parts of an entry that come from the demand in hand (heaviest zone, its accesses, the source). */
function entryBase(cy: Cycle, i: number, r: PlanRecord, costNow: number, w: number) {
  const d = cy.demand;
  let hz = -1;
  let best = 0;
  for (let k = 0; k < d.count; k++) {
    const z = d.touched[k];
    const t = d.byZone[3 * z] + d.byZone[3 * z + 1] + d.byZone[3 * z + 2];
    if (t > best || (t === best && hz >= 0 && z < hz)) {
      hz = z;
      best = t;
    }
  }
  const demand: [number, number, number] =
    hz >= 0 ? [d.byZone[3 * hz], d.byZone[3 * hz + 1], d.byZone[3 * hz + 2]] : [0, 0, 0];
  const source =
    cy.cfg.policy === 'reactive' || w === 0
      ? 'observed'
      : w === 1
        ? 'forecast'
        : `(forecast weighted ${w.toFixed(2)} by its accuracy)`;
  return { i, r, costNow, hz, demand, source };
}

/** The greedy second pass: budgets, capacity ledger, overrides cap, and the list of skips. */
class Pass2 {
  readonly moves: PlannedMove[] = [];
  readonly skipped: PlanSkip[] = [];
  readonly moved: Uint8Array;
  #bytes = 0;
  #created = 0;
  readonly #cy: Cycle;
  readonly #held: number;
  readonly #bump: (k: SkipReason) => void;

  constructor(cy: Cycle, input: PlannerInput, n: number, bump: (k: SkipReason) => void) {
    this.#cy = cy;
    this.#held = input.overridesHeld;
    this.moved = new Uint8Array(n);
    this.#bump = bump;
  }

  /** Accepts `c` for `e`, or says which rule stopped it. */
  #accept(e: Entry, c: Candidate): SkipReason | undefined {
    const cy = this.#cy;
    if (this.moves.length >= cy.cfg.maxMoves) return 'budget-moves';
    if (this.#bytes + c.bytes > cy.cfg.maxBytes) return 'budget-bytes';
    const members = resolveMembers(cy, e.r, c);
    if (typeof members === 'string') return members;
    const to = members.map((m) => cy.ids[m]);
    const creates = !e.r.overridden && needsOverride(e.r, to);
    if (creates && this.#held + this.#created >= cy.cfg.maxOverrides) return 'overrides-cap';
    const move = toMove(cy, e, c, members);
    commit(cy, e.r, members, c.shedFrom);
    this.moves.push(move);
    this.moved[e.i] = 1;
    this.#bytes += move.bytes;
    if (creates) this.#created++;
    return undefined;
  }

  /** Tries the entry's candidates in order; on failure counts (and lists) the first candidate's reason. */
  #attempt(e: Entry, count: boolean): boolean {
    let first: SkipReason | undefined;
    for (const c of e.cands) {
      const why = this.#accept(e, c);
      if (why === undefined) return true;
      first ??= why;
      if (why === 'budget-moves') break;
    }
    if (count && first !== undefined) this.#skip(e, first);
    return false;
  }

  #skip(e: Entry, reason: SkipReason): void {
    this.#bump(reason);
    if (this.skipped.length < SKIP_LIST_CAP) {
      this.skipped.push({ key: e.r.key, reason, move: this.sketch(e, e.cands[0]) });
    }
  }

  /** The move `c` would be, its members picked ignoring capacity and cool-down (for the skip list). */
  sketch(e: Entry, c: Candidate): PlannedMove {
    const members = resolveMembers(this.#cy, e.r, c, false);
    return toMove(this.#cy, e, c, typeof members === 'string' ? c.keep : members);
  }

  /** (a) Over-full members shed records, least gain loss first, until their bytes fit. */
  shed(sheds: readonly Entry[]): void {
    const cy = this.#cy;
    const sorted = [...sheds].sort(order);
    for (let x = 0; x < cy.ids.length; x++) {
      if (cy.overfull[x] === 0) continue;
      const need = cy.used[x] - cy.capacity[x];
      for (const e of sorted) {
        if (cy.shed[x] >= need) break;
        if (e.cands[0].shedFrom !== x || this.moved[e.i] === 1) continue;
        this.#attempt(e, false);
      }
    }
  }

  /** (b) Beyond `maxOverrides`, the overrides whose home move gains most (the least useful) go home first. */
  sendHome(homes: readonly Entry[], excess: number): void {
    let sent = 0;
    for (const e of [...homes].sort(order)) {
      if (sent >= excess) break;
      if (this.moved[e.i] === 0 && this.#attempt(e, false)) sent++;
    }
  }

  /** (c) Every other chosen move, best gain first. */
  rest(entries: readonly Entry[]): void {
    for (const e of [...entries].sort(order)) {
      if (this.moved[e.i] === 0) this.#attempt(e, true);
    }
  }
}

/** Best first gain first, then key, then input position. */
function order(a: Entry, b: Entry): number {
  return b.cands[0].gain - a.cands[0].gain || (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i);
}
