/**
 * Turning an accepted candidate into a {@link PlannedMove}: its kind (from the sets, not from how the candidate
 * was built), the order of `to`, its bytes and its reason. Pure.
 *
 * **Order of `to`** (the first is the primary): for `home`, the ring's order. Otherwise by latency from the zone
 * of the record's heaviest demand (nearest first, so the primary serves that zone locally), ties: current
 * holders in their current order, then new holders by id.
 * @module
 */
import type { Candidate } from './candidates.ts';
import type { Cycle } from './cycle.ts';
import type { MoveKind, PlannedMove, PlanRecord } from './index.ts';

/** Why an entry is planned, for its reason text. */
export type Why = 'demand' | 'shed' | 'cap';

/** What the reason text of a record's move needs from the pass that scored it. */
export interface Entry {
  readonly i: number;
  readonly r: PlanRecord;
  readonly costNow: number;
  /** Zone slot of the heaviest demand, -1 when none. */
  readonly hz: number;
  readonly demand: readonly [number, number, number];
  readonly cands: readonly Candidate[];
  readonly why: Why;
  readonly source: string;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function kindOf(r: PlanRecord, to: readonly string[]): MoveKind {
  if (r.overridden && sameSet(to, r.home)) return 'home';
  const from = r.holders;
  if (to.length > from.length && from.every((h) => to.includes(h))) return 'add';
  if (to.length < from.length && to.every((h) => from.includes(h))) return 'drop';
  return 'replace';
}

/** True when placing `r` on `to` needs an override (it is not the ring placement). */
export function needsOverride(r: PlanRecord, to: readonly string[]): boolean {
  return !sameSet(to, r.home);
}

const ms = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));

function reason(cy: Cycle, e: Entry, c: Candidate, kind: MoveKind): string {
  if (e.why === 'shed') {
    const x = c.shedFrom!;
    const note = c.gain < 0 ? `, accepting a latency loss of ${ms(-c.gain)} ms` : `, gaining ${ms(c.gain)} ms`;
    return `capacity: ${cy.ids[x]} is over capacity (${cy.used[x]} > ${cy.capacity[x]} bytes), shedding this record${note}`;
  }
  if (e.why === 'cap') {
    return `overrides: ${cy.cfg.maxOverrides} allowed, more held; this is among the least useful (home gains ${ms(c.gain)} ms)`;
  }
  if (kind === 'home' || kind === 'drop') {
    const what = kind === 'home' ? 'the override' : 'the extra copy';
    return `reclaim: ${what} no longer pays (${kind} gains ${ms(c.gain)} ms, within ${cy.cfg.thresholdMs} ms of the best alternative)`;
  }
  const zone = e.hz >= 0 ? cy.loc.zones[e.hz] || 'other zones' : 'nowhere';
  const [one, maj, all] = e.demand.map((d) => ms(d));
  return (
    `${cy.cfg.policy}: ${zone} ${one} one, ${maj} majority, ${all} all accesses ${e.source}, ` +
    `${ms(e.costNow)} ms → ${ms(c.costAfter)} ms`
  );
}

/** The move of entry `e` to candidate `c` whose target members are `members`. */
export function toMove(cy: Cycle, e: Entry, c: Candidate, members: readonly number[]): PlannedMove {
  const r = e.r;
  let to = members.map((m) => cy.ids[m]);
  const kind = kindOf(r, to);
  if (kind === 'home') to = [...r.home];
  else {
    const rank = (id: string) => {
      const p = r.holders.indexOf(id);
      return p >= 0 ? p : r.holders.length;
    };
    const latOf = (id: string) => (e.hz >= 0 ? cy.loc.lat(e.hz, cy.zoneOf[cy.member(id)]) : 0);
    to.sort((a, b) => latOf(a) - latOf(b) || rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  const bytes = r.sizeBytes * to.filter((id) => !r.holders.includes(id)).length;
  return {
    kind,
    key: r.key,
    partition: r.partition,
    from: [...r.holders],
    to,
    bytes,
    gainMs: c.gain,
    reason: reason(cy, e, c, kind),
  };
}
