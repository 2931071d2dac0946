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
 * Where a record lives and who to ask for it.
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
