/**
 * Holdings: who holds a record, with what the request path needs precomputed (the planner's locality vectors
 * for the holders' zone multiset, and the holders per zone). The ring's holdings are resolved with the real
 * {@link resolvePlacement} once per partition and shared by every policy.
 * @module
 */
import { resolvePlacement } from '../ring/index.ts';
import type { Cluster } from './cluster.ts';
import { sizeOf, type Workload } from './workload.ts';

export interface Holding {
  /** Member indices, primary first. */
  readonly members: readonly number[];
  readonly ids: readonly string[];
  /** `[L1 × slots, Lmaj × slots, Lall × slots]` from `Locality.vectors` (shared, never mutate). */
  readonly vec: Float64Array;
  /** Holders per sim zone. */
  readonly zc: Uint8Array;
}

export function holdingOf(c: Cluster, members: readonly number[]): Holding {
  const zc = new Uint8Array(c.zones.length);
  const slots = new Int32Array(members.length);
  members.forEach((m, i) => {
    zc[c.memberZone[m]]++;
    slots[i] = c.slot[c.memberZone[m]];
  });
  return { members, ids: members.map((m) => c.members[m].id), vec: c.loc.vectors(slots, members.length), zc };
}

/** Shared per-run lookups: record → partition, partition → ring holding, initial bytes per member. */
export class Placements {
  readonly c: Cluster;
  readonly w: Workload;
  readonly #part: Int32Array;
  readonly #ring: (Holding | undefined)[];
  readonly #keys: (rid: number) => string;
  #baseIndex: Map<string, number> | undefined;

  constructor(c: Cluster, w: Workload, keyOf: (rid: number) => string) {
    this.c = c;
    this.w = w;
    this.#keys = keyOf;
    this.#part = new Int32Array(w.records).fill(-1);
    this.#ring = new Array(c.ring.partitions);
  }

  partition(rid: number): number {
    let p = this.#part[rid];
    if (p < 0) p = this.#part[rid] = this.c.ring.partitionOf(this.#keys(rid));
    return p;
  }

  /** The record of `key` (a key of {@link keyOf}'s form), without a map over every record. */
  ridOf(key: string): number {
    const w = this.w;
    this.#baseIndex ??= new Map(w.baseKeys.map((k, i) => [k, i]));
    if (w.keyScale === 1) return this.#baseIndex.get(key)!;
    const hash = key.lastIndexOf('#');
    return this.#baseIndex.get(key.slice(0, hash))! * w.keyScale + Number(key.slice(hash + 1));
  }

  /** The ring's holding of partition `p` (through `resolvePlacement`, no override, no move). */
  ring(p: number): Holding {
    let h = this.#ring[p];
    if (h === undefined) {
      const pl = resolvePlacement(this.c.ring, p);
      h = this.#ring[p] = holdingOf(
        this.c,
        pl.holders.map((id) => this.c.memberIndex.get(id)!),
      );
    }
    return h;
  }

  /** Bytes each member holds at the start (every record on its ring replicas), and their total. */
  initialBytes(): { used: Float64Array; total: number } {
    const per = new Float64Array(this.c.ring.partitions);
    for (let rid = 0; rid < this.w.records; rid++) per[this.partition(rid)] += sizeOf(this.w, rid);
    const used = new Float64Array(this.c.members.length);
    let total = 0;
    for (let p = 0; p < per.length; p++) {
      if (per[p] === 0) continue;
      for (const m of this.ring(p).members) used[m] += per[p];
      total += per[p] * this.ring(p).members.length;
    }
    return { used, total };
  }
}
