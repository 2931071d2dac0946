/**
 * The one placement resolver: ring + a key's override + its move in flight → the key's holders.
 * Pure: the routing code ({@link ../replication/cluster-ring.ts}), the relocation code, the layout
 * ({@link ../layout/layout.ts}), the DSM planner and the simulator all call {@link resolvePlacement}
 * and so reach the same answer from the same inputs. See the module TSDoc in index.ts for which ring
 * is authoritative.
 */
import type { Placement, Ring } from './index.ts';

/**
 * A change to one replica set: the holders before (`from`) and after (`to`), primary first. The one
 * spelling shared by a ring diff ({@link PartitionChange}), an announced move (`MoveIntent`) and a
 * planned move (`MovePlan`).
 */
export interface ReplicaChange {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

/** `a` then the members of `b` not in `a`; `a` itself (no allocation) when `b` adds nothing. */
export function unionOf(a: readonly string[], b: readonly string[]): readonly string[] {
  const extra = b.filter((id) => !a.includes(id));
  return extra.length === 0 ? a : [...a, ...extra];
}

/** Holders of either side of `change`, `from` first, each once: who holds the data while it moves. */
export function union(change: ReplicaChange): readonly string[] {
  return unionOf(change.from, change.to);
}

/** In `to`, not in `from`: the holders that must receive a copy. */
export function added(change: ReplicaChange): string[] {
  return change.to.filter((id) => !change.from.includes(id));
}

/** In `from`, not in `to`: the holders that may drop their copy once the added ones hold it. */
export function removed(change: ReplicaChange): string[] {
  return change.from.filter((id) => !change.to.includes(id));
}

/**
 * The holders an override means on `ring`: its replicas that are still up members, in order, topped up
 * with the partition's ring replicas when some left or are leaving (so the number of copies is kept),
 * or the ring replicas when none is left. Returns `override` itself when every holder is up.
 */
export function effectiveReplicas(override: readonly string[], ring: Ring, partition: number): readonly string[] {
  const up = new Set(ring.members.filter((m) => m.state === 'up').map((m) => m.id));
  const kept = override.filter((id) => up.has(id));
  if (kept.length === override.length) return override;
  const home = ring.replicasFor(partition);
  if (kept.length === 0) return home;
  for (const id of home) if (kept.length < override.length && !kept.includes(id)) kept.push(id);
  return kept;
}

/**
 * Where a record lives and who to ask for it, on `ring`.
 *
 * **Which ring is authoritative for what** (the function is the same; the caller picks the ring):
 * - **Routing: the membership ring.** Who serves a read or write now (the coordinator, hand-off,
 *   tombstone collection, repair, an override's effective holders) is decided by `ClusterRing.ring`,
 *   the ring of the net's members that have not left (down ones keep their partitions; `leaving`
 *   ones, and this daemon once it decommissions, get none). Why not the signed layout's ring: the
 *   cluster chain is *derived from* that membership (the layout keeper's sequencer signs an epoch
 *   when the members it sees differ from the chain; the others pull it on their next 2 s round), so
 *   it lags every join and leave by a proposal and a pull, during which daemons that have pulled and
 *   daemons that have not would route by different rings, and a joining daemon would route by an
 *   adopted chain that does not list it yet. Tried: with `ClusterRing` fed by the layout keeper's
 *   cluster layout, the cluster test "a fourth daemon joins" fails (the new daemon's ring still has 3
 *   members after the net converged). Making the chain authoritative for routing needs the
 *   sequencer to push each new epoch to every member and readiness to wait for it.
 * - **Signing and audit: the signed layout's ring** (`Layout.ring()`, `Layout.ringAt(basis)`). Who
 *   may sign a partition epoch is the partition's primary on the cluster layout at the epoch's
 *   `basis`, so every daemon, and every later reload, reaches the same verdict whatever its momentary
 *   view of the membership; the relocation code forwards a move to that coordinator.
 *   `Layout.placement` is this function on that ring: the signed, replayable answer (history, audit,
 *   the DSM planner and the simulator working from a layout).
 * Once the chain has caught up with the membership, both rings have the same members and the two
 * answers are equal. The partition of a key (`partitionOf`) depends only on Q, so it is the same on
 * both.
 *
 * - `move` given (an announced move not yet settled): `holders` = `move.from ∪ move.to` (from first), and
 *   `groups` = `[from, to]`, each of which must give a quorum (joint consensus, so no acknowledged write
 *   is lost whichever side the move ends on);
 * - else `override` given: `holders` = {@link effectiveReplicas} of it (a holder that left is replaced
 *   by the partition's ring replicas);
 * - else the partition's ring replicas.
 *
 * `at` is the record key, or its partition when the caller already has it. Allocates one small object;
 * a hot path with no override and no move may read `ring.replicasFor(ring.partitionOf(key))` instead,
 * which is by definition this function's `holders` (the tests assert it).
 */
export function resolvePlacement(
  ring: Ring,
  at: string | number,
  override?: readonly string[],
  move?: ReplicaChange,
): Placement {
  const partition = typeof at === 'number' ? at : ring.partitionOf(at);
  const ringReplicas = ring.replicasFor(partition);
  const source = override === undefined ? 'ring' : 'override';
  const replicas = override === undefined ? ringReplicas : effectiveReplicas(override, ring, partition);
  if (move === undefined) return { partition, source, replicas, holders: replicas, ringReplicas };
  const groups = [move.from, move.to] as const;
  return { partition, source, replicas, holders: union(move), ringReplicas, groups };
}
