/**
 * The state of one planning cycle: members interned to indices, per-zone lower bounds of latency, the capacity
 * ledger, and the scratch buffers the per-record pass reuses (so rejecting a cold record allocates nothing).
 * Created per {@link planCycle} call; never shared between calls (no module-level mutable state).
 * @module
 */
import { DEFAULT_MIN_ACCURACY } from './demand.ts';
import type { PlannerConfig, PlannerInput, PlanRecord } from './index.ts';
import { type DemandView, Locality } from './locality.ts';

/** A new replica may go to a zone only if that zone supplies at least this share of the record's demand. */
export const DEFAULT_MIN_ZONE_SHARE = 0.4;

/** A `home` or `drop` that only reclaims waits until the record has not moved for this long. */
export const DEFAULT_RECLAIM_AFTER_MS = 60 * 60_000;

/** The same for a record with no demand at all in the window. */
export const DEFAULT_QUIET_RECLAIM_AFTER_MS = 6 * 60 * 60_000;

/** Most entries of {@link Plan.skipped}. */
export const SKIP_LIST_CAP = 1000;

/** The config with the optional knobs resolved. */
export interface ResolvedConfig extends PlannerConfig {
  readonly minAccuracy: number;
  readonly maxReplicas: number;
  readonly minZoneShare: number;
  readonly reclaimAfterMs: number;
  readonly quietReclaimAfterMs: number;
}

export function resolveConfig(c: PlannerConfig): ResolvedConfig {
  return {
    ...c,
    minAccuracy: c.minAccuracy ?? DEFAULT_MIN_ACCURACY,
    maxReplicas: c.maxReplicas ?? c.replicationFactor + 1,
    minZoneShare: c.minZoneShare ?? DEFAULT_MIN_ZONE_SHARE,
    reclaimAfterMs: c.reclaimAfterMs ?? DEFAULT_RECLAIM_AFTER_MS,
    quietReclaimAfterMs: c.quietReclaimAfterMs ?? DEFAULT_QUIET_RECLAIM_AFTER_MS,
  };
}

export class Cycle {
  readonly cfg: ResolvedConfig;
  readonly now: number;
  readonly loc: Locality;
  readonly ids: readonly string[];
  readonly #index = new Map<string, number>();
  readonly zoneOf: Int32Array;
  readonly up: Uint8Array;
  readonly capacity: Float64Array;
  readonly used: Float64Array;
  /** Bytes arriving this cycle: in-flight moves' new holders and the moves planned so far. */
  readonly incoming: Float64Array;
  /** Bytes planned to leave an over-full member. */
  readonly shed: Float64Array;
  readonly overfull: Uint8Array;
  readonly anyOverfull: boolean;
  /** Up members per zone slot, by id. */
  readonly upByZone: readonly (readonly number[])[];
  readonly upZones: number;
  readonly minCopies: number;
  /** Per zone: nearest up zone, second-nearest distinct up zone (see {@link lowerBound}). */
  readonly lb1: Float64Array;
  readonly lb2: Float64Array;
  /** Upper bound of (cost of any placement − lower bound) per access: the cheapest filter's multiplier. */
  readonly spread: number;
  readonly demand: DemandView;
  readonly seen: Uint8Array;
  /** Scratch: up-holder member indices and their zones, for the record in hand. */
  readonly holders: Int32Array = new Int32Array(64);
  readonly zbuf: Int32Array = new Int32Array(64);
  readonly counts: Int32Array;

  constructor(input: PlannerInput) {
    this.cfg = resolveConfig(input.config);
    this.now = input.now;
    const members = [...input.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.loc = new Locality(
      members.map((m) => m.zone),
      input.latency,
      this.cfg.defaultLatencyMs,
    );
    const n = members.length;
    const zn = this.loc.size;
    this.ids = members.map((m) => m.id);
    this.zoneOf = new Int32Array(n);
    this.up = new Uint8Array(n);
    this.capacity = new Float64Array(n);
    this.used = new Float64Array(n);
    this.incoming = new Float64Array(n);
    this.shed = new Float64Array(n);
    this.overfull = new Uint8Array(n);
    const byZone: number[][] = Array.from({ length: zn }, () => []);
    let anyOverfull = false;
    let upMembers = 0;
    members.forEach((m, i) => {
      if (!this.#index.has(m.id)) this.#index.set(m.id, i);
      this.zoneOf[i] = this.loc.zoneIndex(m.zone);
      this.up[i] = m.up ? 1 : 0;
      this.capacity[i] = m.capacityBytes ?? Number.POSITIVE_INFINITY;
      this.used[i] = m.usedBytes;
      if (m.up && m.usedBytes > this.capacity[i]) {
        this.overfull[i] = 1;
        anyOverfull = true;
      }
      if (m.up) {
        byZone[this.zoneOf[i]].push(i);
        upMembers++;
      }
    });
    this.anyOverfull = anyOverfull;
    this.upByZone = byZone;
    const upZoneList = byZone.flatMap((l, z) => (l.length > 0 ? [z] : []));
    this.upZones = upZoneList.length;
    this.minCopies = Math.min(this.cfg.replicationFactor, upMembers);
    this.lb1 = new Float64Array(zn);
    this.lb2 = new Float64Array(zn);
    let spread = 0;
    for (let z = 0; z < zn; z++) {
      const l = upZoneList.map((u) => this.loc.lat(z, u)).sort((a, b) => a - b);
      this.lb1[z] = l[0] ?? 0;
      this.lb2[z] = l[1] ?? l[0] ?? 0;
      spread = Math.max(spread, (l[l.length - 1] ?? 0) - this.lb1[z]);
    }
    this.spread = spread;
    this.demand = { byZone: new Float64Array(3 * zn), touched: new Int32Array(zn), count: 0 };
    this.seen = new Uint8Array(zn);
    this.counts = new Int32Array(zn);
  }

  /** Member index of a peer id, or -1 when it is not a member. */
  member(id: string): number {
    return this.#index.get(id) ?? -1;
  }

  /**
   * Reads `r.holders` into {@link holders} (up members only, holder order). Returns the count of up holders, or
   * -1 - count when some holder is down or not a member.
   */
  readHolders(r: PlanRecord): number {
    let c = 0;
    let allUp = true;
    for (let i = 0; i < r.holders.length; i++) {
      const m = this.member(r.holders[i]);
      if (m < 0 || this.up[m] === 0) {
        allUp = false;
        continue;
      }
      this.holders[c++] = m;
    }
    return allUp ? c : -1 - c;
  }

  /**
   * Lower bound of the cost of the record's demand (in {@link demand}) over every placement the survival rule
   * allows: `one` at the nearest up zone; `majority` (survive `zone`: a majority spans two zones) and `all`
   * (replicas span two zones whenever the up members do) at the second-nearest.
   */
  lowerBound(): number {
    const d = this.demand;
    // A single-copy target (R = 1, or one up member) may sit in one zone: then only the nearest zone bounds it.
    const two = this.minCopies >= 2 ? this.lb2 : this.lb1;
    const maj = this.cfg.survive === 'zone' ? two : this.lb1;
    let c = 0;
    for (let i = 0; i < d.count; i++) {
      const z = d.touched[i];
      c += d.byZone[3 * z] * this.lb1[z] + d.byZone[3 * z + 1] * maj[z] + d.byZone[3 * z + 2] * two[z];
    }
    return c;
  }

  /** Latency cost of the placement whose zones are `zones[0 .. n)` for the demand in {@link demand}. */
  cost(zones: ArrayLike<number>, n: number): number {
    const v = this.loc.vectors(zones, n);
    const size = this.loc.size;
    const d = this.demand;
    let c = 0;
    for (let i = 0; i < d.count; i++) {
      const z = d.touched[i];
      c += d.byZone[3 * z] * v[z] + d.byZone[3 * z + 1] * v[size + z] + d.byZone[3 * z + 2] * v[2 * size + z];
    }
    return c;
  }

  /** Move cost in ms-equivalents of copying `bytes`. */
  moveCost(bytes: number): number {
    return (bytes / 1_048_576) * this.cfg.pricePerMbMs;
  }
}
