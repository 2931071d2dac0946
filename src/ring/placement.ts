/**
 * Weighted, zone-aware rendezvous placement (see the module TSDoc in index.ts for the argument).
 * Everything here is pure and deterministic: same members (in any order) give the same table.
 */
import { hashKey, hashWords, unitInterval } from './hash.ts';

/** A member reduced to what placement needs; `members` arrays are sorted by id. */
export interface PlacementMember {
  readonly id: string;
  readonly zone: string;
  readonly capacity: number;
}

/** Precomputed per-member inputs of the score function. */
export interface ScoreInputs {
  readonly seedA: Uint32Array;
  readonly seedB: Uint32Array;
  readonly weight: Float64Array;
  readonly zoneOf: Uint32Array;
  readonly zoneCount: number;
}

/** Second seed of the member id hash, so that two ids collide only with probability 2^-64. */
const SEED_B = 0x9747b28c;

export function scoreInputs(members: readonly PlacementMember[]): ScoreInputs {
  const n = members.length;
  const seedA = new Uint32Array(n);
  const seedB = new Uint32Array(n);
  const weight = new Float64Array(n);
  const zoneOf = new Uint32Array(n);
  const zones = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const m = members[i];
    seedA[i] = hashKey(m.id, 0);
    seedB[i] = hashKey(m.id, SEED_B);
    weight[i] = m.capacity;
    let z = zones.get(m.zone);
    if (z === undefined) {
      z = zones.size;
      zones.set(m.zone, z);
    }
    zoneOf[i] = z;
  }
  return { seedA, seedB, weight, zoneOf, zoneCount: zones.size };
}

/**
 * Straw2 / weighted rendezvous score of member `i` for `partition`: `ln(u) / capacity` with `u` uniform in
 * (0, 1). The member with the highest score wins with probability `capacity / sum(capacity)`.
 */
export function score(inputs: ScoreInputs, i: number, partition: number): number {
  return Math.log(unitInterval(hashWords(inputs.seedA[i], inputs.seedB[i], partition))) / inputs.weight[i];
}

/** Scratch buffers reused across partitions while building one table. */
interface Scratch {
  readonly scores: Float64Array;
  readonly bestOfZone: Int32Array;
  readonly taken: Uint8Array;
}

function better(scores: Float64Array, a: number, b: number): boolean {
  // Ties (probability ~2^-52) go to the smaller index, i.e. the smaller id.
  return scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
}

/**
 * Preference order of `partition`: first the best member of each zone, zones ordered by that member's score,
 * then the remaining members by score. Returns the first `limit` member indices.
 */
function order(inputs: ScoreInputs, partition: number, limit: number, s: Scratch): number[] {
  const n = inputs.weight.length;
  const { scores, bestOfZone, taken } = s;
  bestOfZone.fill(-1);
  taken.fill(0);
  for (let i = 0; i < n; i++) {
    scores[i] = score(inputs, i, partition);
    const z = inputs.zoneOf[i];
    const best = bestOfZone[z];
    if (best < 0 || better(scores, i, best)) bestOfZone[z] = i;
  }
  const out: number[] = [];
  const want = Math.min(limit, n);
  // Phase 1: one member per zone, best zones first.
  while (out.length < want && out.length < inputs.zoneCount) {
    let pick = -1;
    for (let z = 0; z < inputs.zoneCount; z++) {
      const cand = bestOfZone[z];
      if (cand >= 0 && !taken[cand] && (pick < 0 || better(scores, cand, pick))) pick = cand;
    }
    taken[pick] = 1;
    out.push(pick);
  }
  // Phase 2: fill with the best remaining members regardless of zone.
  while (out.length < want) {
    let pick = -1;
    for (let i = 0; i < n; i++) if (!taken[i] && (pick < 0 || better(scores, i, pick))) pick = i;
    taken[pick] = 1;
    out.push(pick);
  }
  return out;
}

function scratchFor(inputs: ScoreInputs): Scratch {
  const n = inputs.weight.length;
  return {
    scores: new Float64Array(n),
    bestOfZone: new Int32Array(inputs.zoneCount),
    taken: new Uint8Array(n),
  };
}

/** Builds the partition → replica ids table: `partitions` frozen arrays of at most `replicas` distinct ids. */
export function buildTable(
  members: readonly PlacementMember[],
  partitions: number,
  replicas: number,
): ReadonlyArray<readonly string[]> {
  const inputs = scoreInputs(members);
  const s = scratchFor(inputs);
  const table: (readonly string[])[] = new Array(partitions);
  // Interning identical replica lists keeps memory at O(distinct sets) for small clusters.
  const interned = new Map<string, readonly string[]>();
  for (let p = 0; p < partitions; p++) {
    const idx = order(inputs, p, replicas, s);
    const key = idx.join(',');
    let ids = interned.get(key);
    if (ids === undefined) {
      ids = Object.freeze(idx.map((i) => members[i].id));
      interned.set(key, ids);
    }
    table[p] = ids;
  }
  return table;
}

/** The full preference list of one partition (every member once), as ids. Allocates; not a hot path. */
export function preferenceList(members: readonly PlacementMember[], inputs: ScoreInputs, partition: number): string[] {
  return order(inputs, partition, members.length, scratchFor(inputs)).map((i) => members[i].id);
}
