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
 * **Overrides** (what a migration creates) place ONE record elsewhere and take precedence in {@link Ring.placement}.
 *
 * The partition → replicas table is computed once in {@link createRing}; `replicasFor` and `placement` are O(1) and
 * return the table's frozen arrays (no allocation besides `placement`'s small result object).
 *
 * @packageDocumentation
 */
import { diff, RingImpl } from './ring.ts';

export { InvalidRingError } from './errors.ts';
export { hashKey, murmur3 } from './hash.ts';
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

/** Where a key lives. */
export interface Placement {
  readonly partition: number;
  /** Member ids, first = primary/coordinator. Frozen; do not mutate. */
  readonly replicas: readonly string[];
  /** True when an override (not the ring) decided the replicas. */
  readonly overridden: boolean;
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
  /** Placement of a record: its override if `overrides` has one for `key`, else the ring's replicas of its partition. */
  placement(key: string, overrides?: ReadonlyMap<string, Override>): Placement;
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

/** One partition whose replica set or primary differs between two rings. */
export interface PartitionChange {
  readonly partition: number;
  readonly before: readonly string[];
  readonly after: readonly string[];
  /** In `after`, not in `before`: must receive the partition's data. */
  readonly added: readonly string[];
  /** In `before`, not in `after`: may drop it once the added ones hold it. */
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
