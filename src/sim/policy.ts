/**
 * One policy's world during a run: placements (ring, or an override after a completed move), moves in flight
 * (served by their old holders until the last copy lands), per-destination transfer queues, bytes per member,
 * the `ttl` baseline's copies, and its {@link Metrics}. The planner policies call the real `planCycle`.
 * @module
 */
import {
  DEFAULT_PLANNER_CONFIG,
  type PlanMember,
  type PlannerConfig,
  type PlanRecord,
  planCycle,
} from '../dsm/index.ts';
import { plannerPolicy, type SimPolicy } from './index.ts';
import { Metrics, type Prices } from './metrics.ts';
import { type Holding, holdingOf, type Placements } from './placement.ts';
import type { CycleDemand } from './series.ts';
import { keyOf, sizeOf } from './workload.ts';

interface Flight {
  readonly from: Holding;
  readonly to: Holding;
  readonly doneAt: number;
}

interface Copy {
  readonly m: number;
  lastRead: number;
  ready: boolean;
}

/** Min-heap entry: a move (z = -1) or a ttl copy into zone z completes at t. */
interface Due {
  readonly t: number;
  readonly rid: number;
  readonly z: number;
}

export interface PolicyContext {
  readonly pl: Placements;
  readonly readOne: boolean;
  readonly bytesPerMs: number;
  /** Time a move takes besides its copies (`SimOptions.moveDelayMs`). */
  readonly moveDelayMs: number;
  /** `SimOptions.dsmCadence`, and the planning interval (the bucket width). */
  readonly cadence: 'bucket' | 'daemon';
  readonly intervalMs: number;
  readonly ttlMs: number;
  readonly planner: PlannerConfig;
  readonly prices: Prices;
  readonly initialUsed: Float64Array;
  readonly initialHeld: number;
  readonly startMs: number;
}

export class PolicyState {
  readonly policy: SimPolicy;
  readonly metrics: Metrics;
  readonly #x: PolicyContext;
  readonly #over = new Map<number, Holding>();
  readonly #flight = new Map<number, Flight>();
  readonly #last = new Map<number, { at: number; from: readonly string[] }>();
  readonly #copies = new Map<number, Map<number, Copy>>();
  readonly #heap: Due[] = [];
  readonly #free: Float64Array;
  readonly #used: Float64Array;
  readonly #cfg: PlannerConfig;
  /** Cadence `daemon`: when each coordinator (member index) plans next. */
  readonly #readyAt: Float64Array;

  constructor(policy: SimPolicy, x: PolicyContext) {
    this.policy = policy;
    this.#x = x;
    this.metrics = new Metrics(x.startMs, x.initialHeld);
    this.metrics.prices = x.prices;
    this.#free = new Float64Array(x.initialUsed.length);
    this.#used = Float64Array.from(x.initialUsed);
    this.#readyAt = new Float64Array(x.initialUsed.length);
    this.#cfg = { ...x.planner, policy: plannerPolicy(policy) };
  }

  holding(rid: number): Holding {
    return this.#over.get(rid) ?? this.#x.pl.ring(this.#x.pl.partition(rid));
  }

  /** Serves row `i` of the workload. */
  serve(i: number): void {
    const w = this.#x.pl.w;
    const c = this.#x.pl.c;
    const rid = w.rid[i];
    const z = w.zone[i];
    const t = w.ts[i];
    const write = w.write[i] === 1;
    const h = this.holding(rid);
    const n = h.members.length;
    const k = (n >> 1) + 1;
    const size = sizeOf(w, rid);
    const here = h.zc[z];
    const slot = c.slot[z];
    let lat: number;
    let local: boolean;
    let cross: number;
    if (write) {
      lat = h.vec[c.loc.size + slot];
      local = here >= k;
      cross = size * (n - here);
    } else if (this.#x.readOne) {
      lat = h.vec[slot];
      local = here >= 1;
      cross = local ? 0 : size;
    } else {
      lat = h.vec[c.loc.size + slot];
      local = here >= k;
      cross = size * (k - Math.min(k, here));
    }
    this.metrics.request(lat, local, cross, z);
    if (this.policy === 'ttl' && !write) this.#ttlRead(rid, z, t, here, size);
  }

  /** Completes every move and copy due by `t`. */
  advance(t: number): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].t <= t) {
      const d = popHeap(heap);
      if (d.z < 0) this.#land(d.rid, d.t);
      else this.#copyLands(d.rid, d.z, d.t);
    }
  }

  #queue(m: number, t: number, size: number): number {
    const done = Math.max(t, this.#free[m]) + size / this.#x.bytesPerMs;
    this.#free[m] = done;
    return done;
  }

  #land(rid: number, t: number): void {
    const f = this.#flight.get(rid);
    if (f === undefined) return;
    this.#flight.delete(rid);
    this.#settle(rid, f.from, f.to, t);
  }

  #settle(rid: number, from: Holding, to: Holding, t: number): void {
    const size = sizeOf(this.#x.pl.w, rid);
    const ring = this.#x.pl.ring(this.#x.pl.partition(rid));
    if (sameSet(to.ids, ring.ids)) this.#over.delete(rid);
    else this.#over.set(rid, to);
    for (const m of from.members) this.#used[m] -= size;
    for (const m of to.members) this.#used[m] += size;
    this.metrics.held(t, size * (to.members.length - from.members.length));
    this.#last.set(rid, { at: t, from: from.ids });
  }

  /** One planning cycle at `t` (planner policies), or the ttl evictions (ttl). */
  cycle(t: number, d: CycleDemand): void {
    this.advance(t);
    if (this.policy === 'ttl') {
      this.#evict(t);
      return;
    }
    if (this.policy === 'static') return;
    const pl = this.#x.pl;
    const oracle = this.policy === 'oracle';
    const rids = new Set<number>(d.rids);
    for (const r of this.#over.keys()) rids.add(r);
    for (const r of this.#flight.keys()) rids.add(r);
    const records: PlanRecord[] = [];
    for (const rid of rids) {
      const key = keyOf(pl.w, rid);
      const p = pl.partition(rid);
      const h = this.holding(rid);
      const f = this.#flight.get(rid);
      records.push({
        key,
        partition: p,
        sizeBytes: sizeOf(pl.w, rid),
        holders: h.ids,
        home: pl.ring(p).ids,
        overridden: this.#over.has(rid),
        forecast: oracle ? d.future.get(rid) : d.forecast.get(rid),
        observed: d.observed.get(rid),
        forecastAccuracy: oracle ? 1 : d.accuracy.get(rid),
        lastMove: this.#last.get(rid),
        inFlight: f?.to.ids,
      });
    }
    const members: PlanMember[] = pl.c.members.map((m, i) => ({ ...m, usedBytes: this.#used[i] }));
    if (this.#x.cadence === 'bucket') {
      this.#plan(t, members, records, this.#over.size);
      return;
    }
    // One planner per coordinator (the ring primary of the record's partition), as on the daemons; each plans
    // again one interval after its previous wave's last move landed (the controller waits for its wave).
    const groups = new Map<number, PlanRecord[]>();
    for (const r of records) {
      const m = pl.c.memberIndex.get(pl.c.ring.primaryOf(r.partition)!)!;
      if (this.#readyAt[m] > t) continue;
      const g = groups.get(m);
      if (g === undefined) groups.set(m, [r]);
      else g.push(r);
    }
    for (const [m, group] of groups) {
      const waveEnd = this.#plan(
        t,
        members,
        group,
        group.reduce((n, r) => n + (r.overridden ? 1 : 0), 0),
      );
      this.#readyAt[m] = waveEnd + this.#x.intervalMs;
    }
  }

  /** Plans `records` at `t` and starts the moves; resolves to when the last of them lands (`t` with none). */
  #plan(t: number, members: PlanMember[], records: PlanRecord[], overridesHeld: number): number {
    const pl = this.#x.pl;
    const t0 = performance.now();
    const plan = planCycle({ now: t, config: this.#cfg, members, records, latency: pl.c.latency, overridesHeld });
    this.metrics.planMs += performance.now() - t0;
    this.metrics.planCalls++;
    let end = t;
    for (const mv of plan.moves) {
      const rid = pl.ridOf(mv.key);
      const from = this.holding(rid);
      const to = holdingOf(
        pl.c,
        mv.to.map((id) => pl.c.memberIndex.get(id)!),
      );
      this.metrics.kinds[mv.kind] = (this.metrics.kinds[mv.kind] ?? 0) + 1;
      end = Math.max(end, this.#start(rid, from, to, t, mv.kind === 'home' || mv.kind === 'drop'));
    }
    return end;
  }

  /** Starts a move; returns when it lands. */
  #start(rid: number, from: Holding, to: Holding, t: number, reclaim: boolean): number {
    const c = this.#x.pl.c;
    const size = sizeOf(this.#x.pl.w, rid);
    const added = to.members.filter((m) => !from.members.includes(m));
    const up: number[] = [];
    const down: number[] = [];
    for (let z = 0; z < c.zones.length; z++) {
      for (let k = from.zc[z]; k < to.zc[z]; k++) up.push(z);
      for (let k = to.zc[z]; k < from.zc[z]; k++) down.push(z);
    }
    this.metrics.move(
      rid,
      t,
      size,
      up,
      down,
      added.map((m) => c.memberZone[m]),
      reclaim,
    );
    if (added.length === 0 && this.#x.moveDelayMs === 0) {
      this.#settle(rid, from, to, t);
      return t;
    }
    let done = t;
    for (const m of added) {
      done = Math.max(done, this.#queue(m, t, size));
      if (from.zc[c.memberZone[m]] === 0) this.metrics.crossBytes += size;
    }
    done += this.#x.moveDelayMs;
    this.#flight.set(rid, { from, to, doneAt: done });
    pushHeap(this.#heap, { t: done, rid, z: -1 });
    return done;
  }

  #ttlRead(rid: number, z: number, t: number, here: number, size: number): void {
    let copies = this.#copies.get(rid);
    const mine = copies?.get(z);
    if (mine !== undefined) {
      mine.lastRead = t;
      return;
    }
    if (here > 0) return;
    const zoneMembers = this.#x.pl.c.byZone[z];
    if (zoneMembers.length === 0) return;
    let m = zoneMembers[0];
    for (const x of zoneMembers) if (this.#used[x] < this.#used[m]) m = x;
    if (copies === undefined) {
      copies = new Map();
      this.#copies.set(rid, copies);
    }
    copies.set(z, { m, lastRead: t, ready: false });
    this.#used[m] += size;
    this.metrics.crossBytes += size;
    this.metrics.move(rid, t, size, [z], [], [z]);
    pushHeap(this.#heap, { t: this.#queue(m, t, size), rid, z });
  }

  #copyLands(rid: number, z: number, t: number): void {
    const copy = this.#copies.get(rid)?.get(z);
    if (copy === undefined || copy.ready) return;
    copy.ready = true;
    this.metrics.held(t, sizeOf(this.#x.pl.w, rid));
    this.#rebuild(rid);
  }

  #rebuild(rid: number): void {
    const pl = this.#x.pl;
    const ring = pl.ring(pl.partition(rid));
    const extra = [...(this.#copies.get(rid)?.values() ?? [])].filter((c) => c.ready).map((c) => c.m);
    if (extra.length === 0) this.#over.delete(rid);
    else this.#over.set(rid, holdingOf(pl.c, [...ring.members, ...extra]));
  }

  #evict(t: number): void {
    const size = (rid: number) => sizeOf(this.#x.pl.w, rid);
    for (const [rid, copies] of this.#copies) {
      let changed = false;
      for (const [z, c] of copies) {
        if (!c.ready || t - c.lastRead < this.#x.ttlMs) continue;
        copies.delete(z);
        this.#used[c.m] -= size(rid);
        this.metrics.held(t, -size(rid));
        this.metrics.move(rid, t, size(rid), [], [z], []);
        changed = true;
      }
      if (copies.size === 0) this.#copies.delete(rid);
      if (changed) this.#rebuild(rid);
    }
  }
}

export function defaultPlannerConfig(over: Partial<PlannerConfig>): PlannerConfig {
  return { ...DEFAULT_PLANNER_CONFIG, ...over };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function pushHeap(h: Due[], d: Due): void {
  h.push(d);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].t <= h[i].t) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function popHeap(h: Due[]): Due {
  const top = h[0];
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < h.length && h[l].t < h[s].t) s = l;
      if (r < h.length && h[r].t < h[s].t) s = r;
      if (s === i) break;
      [h[s], h[i]] = [h[i], h[s]];
      i = s;
    }
  }
  return top;
}
