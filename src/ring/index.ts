/**
 * Pure consistent hashing of shoal's key space: keys → Q fixed partitions → ordered, zone-aware replica sets.
 * No I/O, no clocks, no randomness: every daemon (and the simulator) computes the same answer from the same members.
 *
 * **Key → partition.** `partitionOf(key) = floor(murmur3_32(utf8(key), seed 0) * Q / 2^32)`. MurmurHash3 x86_32 is
 * written in TypeScript with `Math.imul`, so its bits are the same on every engine and platform (the tests pin the
 * published test vectors). Measured on this project's Node 24 for 27-byte keys: about 60 ns per key, versus about
 * 1200 ns for `node:crypto` SHA-1 (which also allocates); a key's partition needs spread, not collision resistance.
 * Multiply-shift uses the high bits and works for any Q, not only powers of two.
 *
 * **Partition → replicas: weighted rendezvous hashing (straw2), not virtual nodes.** Each up member draws, per
 * partition, `score = ln(u) / capacity` with `u = murmur3(idHashA, idHashB, partition)` mapped into (0, 1). Why:
 * - exact weighting: the top scorer of a partition is member i with probability `capacity_i / Σ capacity`
 *   (Ceph CRUSH's straw2 uses the same draw), where vnodes only approximate it with variance ~1/√vnodes;
 * - minimal disruption: adding or removing a member changes only the partitions whose replica set gains or loses
 *   that member, and each such set changes by exactly that one member (tests assert this); changing one member's
 *   capacity moves data only to or from that member;
 * - no token table to store or agree on: the member list is the whole ring.
 * The cost is O(Q · N) score evaluations once per ring (≈ 4096 · N hashes; fine into thousands of members).
 *
 * **Zone spreading.** The preference list of a partition is: the best-scoring member of each zone, zones ordered by
 * that member's score (the first is the global winner, the primary), then every remaining member by score. The first
 * `min(R, N)` entries are the replica set: with at least R zones it spans R distinct zones; with fewer zones it covers
 * every zone, then fills; never two replicas on one member; fewer than R members → all of them.
 * Members in state `'leaving'` stay listed in {@link Ring.members} but receive no replicas, so
 * `diffRings(current, withLeaving)` is the hand-off plan.
 *
 * **Who holds key k: {@link resolvePlacement}, the one resolver.** Overrides (what a migration creates) place ONE
 * record elsewhere, and a move in flight spreads it over its old and new holders; `resolvePlacement(ring, key,
 * override, move)` folds the three into one {@link Placement}. The daemon's routing (`ClusterRing`), the relocation
 * code, the layout (`Layout.placement`), the DSM planner and the simulator all call it. Routing calls it on the
 * membership ring, signing and audit on the signed layout's ring; its TSDoc says why.
 *
 * The partition → replicas table is computed once in {@link createRing}; `partitionOf` and `replicasFor` are O(1)
 * and return the table's frozen arrays.
 *
 * @packageDocumentation
 */
import type { ReplicaChange } from './resolve.ts';
import { diff, RingImpl } from './ring.ts';

export { InvalidRingError } from './errors.ts';
export { hashKey, murmur3 } from './hash.ts';
export {
  added,
  effectiveReplicas,
  type ReplicaChange,
  removed,
  resolvePlacement,
  union,
  unionOf,
} from './resolve.ts';
export { DEFAULT_PARTITIONS, DEFAULT_REPLICAS } from './ring.ts';

/** `'up'` members receive replicas; `'leaving'` members are listed but receive none (their data is handed off). */
export type MemberState = 'up' | 'leaving';

/** A ring member as given to {@link createRing}: a daemon, identified by its peer id. */
export interface Member {
  /** Peer id (or any unique, non-empty string). */
  readonly id: string;
  /** Failure/latency domain; replicas are spread over distinct zones first. */
  readonly zone: string;
  /** Relative weight: a member with capacity 2 gets about twice the partitions of capacity 1. Finite, > 0. Default 1. */
  readonly capacity?: number;
  /** Default `'up'`. */
  readonly state?: MemberState;
}

/** A member with defaults applied, as held by a {@link Ring}. */
export interface RingMember {
  readonly id: string;
  readonly zone: string;
  readonly capacity: number;
  readonly state: MemberState;
}

/** Placement of ONE record that differs from its home placement (what a migration creates). */
export interface Override {
  /** The record key. */
  readonly key: string;
  /** Replica member ids, first = primary/coordinator. */
  readonly replicas: readonly string[];
}

/** Where a key lives and who to ask for it: the answer of {@link resolvePlacement}. */
export interface Placement {
  readonly partition: number;
  /** `override` when an override placed the key, else `ring` (a move in flight does not change it). */
  readonly source: 'ring' | 'override';
  /**
   * The settled holders, first = primary: the override's effective holders, else the ring replicas.
   * During a move, the holders it started from. Frozen or shared; do not mutate.
   */
  readonly replicas: readonly string[];
  /**
   * Who to route reads and writes to, first = coordinator: during a move `from ∪ to` (from first), else
   * `replicas` (the same array).
   */
  readonly holders: readonly string[];
  /** The partition's ring replicas (the key's home placement). */
  readonly ringReplicas: readonly string[];
  /** During a move: `[from, to]`; a read or write needs a quorum of each. */
  readonly groups?: readonly [readonly string[], readonly string[]];
}

/** Options of {@link createRing}. */
export interface RingOptions {
  /** Q, the number of fixed partitions, chosen at cluster creation and never changed. Integer in [1, 2^20]. Default 4096. */
  readonly partitions?: number;
  /** R, replicas per partition. Integer in [1, 64]. Default 3. */
  readonly replicas?: number;
  /** Members, in any order (the ring sorts them by id). Ids must be unique. Default none (every set is empty). */
  readonly members?: readonly Member[];
}

/** Per-member counts of {@link RingSummary}. */
export interface MemberSummary extends RingMember {
  /** Partitions where this member is primary. */
  primaries: number;
  /** Partitions holding a replica on this member (primary included). */
  replicas: number;
}

/** Per-zone counts of {@link RingSummary}. */
export interface ZoneSummary {
  readonly zone: string;
  members: number;
  primaries: number;
  /** Replica slots (partition × replica) placed in this zone. */
  replicas: number;
}

/** Balance report of a ring, for `GET /admin/ring`. */
export interface RingSummary {
  readonly partitions: number;
  readonly replicas: number;
  /** Sorted by id. */
  readonly members: readonly MemberSummary[];
  /** Sorted by zone. */
  readonly zones: readonly ZoneSummary[];
  /** Partitions with fewer than R replicas (fewer than R up members). */
  readonly underReplicated: number;
  /** Partitions whose replicas span fewer than min(R, zones) zones; always 0 by construction. */
  readonly zoneCollisions: number;
}

/** An immutable ring: the home placement of every partition. */
export interface Ring {
  /** Q. */
  readonly partitions: number;
  /** R. */
  readonly replicas: number;
  /** Every member (up and leaving), defaults applied, sorted by id, frozen. */
  readonly members: readonly RingMember[];
  /** Partition of a key (UTF-8 string or raw bytes), in [0, Q). Allocation-free for keys up to 1365 UTF-16 units. */
  partitionOf(key: string | Uint8Array): number;
  /** Replica ids of a partition, first = primary. O(1), frozen, shared. Throws RangeError outside [0, Q). */
  replicasFor(partition: number): readonly string[];
  /** First of `replicasFor(partition)`, or undefined on an empty ring. */
  primaryOf(partition: number): string | undefined;
  /**
   * Every up member in preference order for a partition (replicas first, then fallbacks, e.g. for hinted handoff).
   * Allocates and costs O(N); not for the hot path.
   */
  preferenceList(partition: number): string[];
  /** Whether `memberId` is a member (up or leaving). */
  has(memberId: string): boolean;
  /** Partitions holding a replica on `memberId` (primary or not), ascending. Computed once on first call. */
  partitionsOf(memberId: string): readonly number[];
  /** Counts per member and zone. O(Q · R). */
  summary(): RingSummary;
}

/** One partition whose replica set or primary differs between two rings (`from` = first ring, `to` = second). */
export interface PartitionChange extends ReplicaChange {
  readonly partition: number;
  /** `added(change)`: in `to`, not in `from`; must receive the partition's data. */
  readonly added: readonly string[];
  /** `removed(change)`: in `from`, not in `to`; may drop it once the added ones hold it. */
  readonly removed: readonly string[];
  /** The coordinator changes (also reported when the set itself is unchanged). */
  readonly primaryChanged: boolean;
}

/**
 * Builds an immutable ring. Deterministic: the same members in any order give the same placement.
 * @throws InvalidRingError (`CONFIG_INVALID`) on bad counts, empty/duplicate ids, empty zones, or capacity ≤ 0.
 */
export function createRing(options: RingOptions = {}): Ring {
  return new RingImpl(options);
}

/**
 * Partitions whose replica set or primary changed from `a` to `b`, ascending (the rebalancing plan).
 * @throws InvalidRingError when the rings have different partition counts.
 */
export function diffRings(a: Ring, b: Ring): PartitionChange[] {
  return diff(a, b);
}
