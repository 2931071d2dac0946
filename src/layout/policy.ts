/**
 * Who may sign what, and what each scope may change. Used by {@link createLayout}; exported so other
 * arrangements (the simulator, tests) can reuse the rules.
 */
import type { Ring, RingMember } from '../ring/index.ts';
import { partitionOfScope } from './epoch.ts';
import type { Authorise, Epoch, EpochChain, LayoutState, Validate } from './index.ts';
import { quorumProblem } from './quorum.ts';
import { revocationProblem } from './revocation.ts';

/** The cluster sequencer: the up member with the lowest peer id (string order), or undefined when none is up. */
export function sequencerOf(members: Iterable<RingMember>): string | undefined {
  let best: string | undefined;
  for (const m of members) if (m.state === 'up' && (best === undefined || m.id < best)) best = m.id;
  return best;
}

/**
 * The coordinator of a partition: its first replica on `ring` that `down` does not list, or its primary when
 * every replica is down (nobody better placed). Only the coordinator signs the partition's epochs.
 */
export function coordinatorOf(ring: Ring, down: ReadonlySet<string>, partition: number): string | undefined {
  const replicas = ring.replicasFor(partition);
  if (down.size > 0) for (const id of replicas) if (!down.has(id)) return id;
  return replicas[0];
}

/** Options of {@link clusterAuthoriser}. */
export interface ClusterAuthoriserOptions {
  /**
   * Peer ids allowed to sign while the cluster has no members (the founding epoch). Default: the founding epoch
   * must add its own signer as a member (whoever creates the cluster founds it).
   */
  readonly bootstrap?: ReadonlySet<string>;
  /** Only the sequencer ({@link sequencerOf}) may sign, instead of any current member. Default false. */
  readonly strictSequencer?: boolean;
}

/** Cluster-scope rule: a current member signs (or only the sequencer when strict); see {@link ClusterAuthoriserOptions}. */
export function clusterAuthoriser(options: ClusterAuthoriserOptions = {}): Authorise {
  return (epoch: Epoch, state: LayoutState) => {
    if (state.members.size === 0) {
      if (options.bootstrap !== undefined) return options.bootstrap.has(epoch.signer);
      return (epoch.change.membersAdded ?? []).some((m) => m.id === epoch.signer);
    }
    if (state.revoked.has(epoch.signer)) return false;
    if (options.strictSequencer) return sequencerOf(state.members.values()) === epoch.signer;
    return state.members.has(epoch.signer);
  };
}

/**
 * Cluster-scope quorum rule (`clusterQuorum`): every epoch after the founding one carries co-signatures of a
 * majority of the members before it, under one ballot (quorum.ts explains why this rules out forks).
 */
export function clusterQuorum(epoch: Epoch, hash: string, before: LayoutState): string | undefined {
  if (before.members.size === 0) return undefined; // the founding epoch: its founder alone
  return quorumProblem(epoch, hash, new Set(before.members.keys()));
}

/** Cluster-scope content rule: members and checkpoints only; checkpoints must agree with the chains held here. */
export function clusterValidator(
  partitionChain: (partition: number) => EpochChain | undefined,
  admins: ReadonlySet<string> = new Set(),
): Validate {
  return (epoch: Epoch, before: LayoutState) => {
    const c = epoch.change;
    for (const order of c.revoked ?? []) {
      const problem = revocationProblem(order, admins);
      if (problem !== undefined) return problem;
      if (before.members.has(order.id) && !(c.membersRemoved ?? []).includes(order.id)) {
        return `revoked member ${order.id} must be removed by the same epoch`;
      }
    }
    if ((c.membersAdded ?? []).some((m) => before.revoked.has(m.id))) return 'a revoked key cannot be a member again';
    if (c.overridesSet?.length || c.overridesRemoved?.length) return 'overrides belong to partition chains';
    for (const id of [...(c.membersDown ?? []), ...(c.membersUp ?? [])]) {
      if (!before.members.has(id) && !(c.membersAdded ?? []).some((m) => m.id === id)) return `${id} is not a member`;
    }
    for (const h of c.checkpoint ?? []) {
      const p = partitionOfScope(h.scope);
      if (p === undefined) return 'a checkpoint lists partition chains only';
      const local = partitionChain(p)?.hashAt(h.number);
      if (local !== undefined && local !== h.hash) return `checkpoint disagrees with local ${h.scope}#${h.number}`;
    }
    return undefined;
  };
}

/** Options of {@link partitionPolicy}. */
export interface PartitionPolicyOptions {
  /** Q of the cluster. */
  readonly partitions: number;
  /** Partition of a record key (the ring's `partitionOf`). */
  readonly partitionOf: (key: string) => number;
  /** The cluster chain: `basis` must name one of its epochs. */
  readonly cluster: EpochChain;
  /** The partition chain the epoch is offered to (for the previous epoch's `basis`). */
  readonly chainOf: (partition: number) => EpochChain | undefined;
  /** The ring of the cluster layout at a cluster epoch number. */
  readonly ringAt: (clusterEpoch: number) => Ring;
  /** The coordinator of a partition at a cluster epoch number ({@link coordinatorOf}). */
  readonly coordinatorAt: (clusterEpoch: number, partition: number) => string | undefined;
  /**
   * Only the partition's coordinator at `basis` ({@link coordinatorOf}) may sign; otherwise any up member at `basis`.
   * Default true.
   */
  readonly strictCoordinator?: boolean;
}

/**
 * Partition-scope rules. Every partition epoch names a `basis` (the cluster epoch whose ring the signer used),
 * so authorisation gives the same answer on every daemon and at every later reload. `basis` never goes
 * backwards along a partition chain and may not be beyond the verifier's cluster head.
 */
export function partitionPolicy(options: PartitionPolicyOptions): { authorise: Authorise; validate: Validate } {
  const strict = options.strictCoordinator ?? true;
  const validate: Validate = (epoch: Epoch) => {
    const p = partitionOfScope(epoch.scope);
    if (p === undefined || p >= options.partitions) return `no partition ${epoch.scope}`;
    const c = epoch.change;
    if (
      c.membersAdded?.length ||
      c.membersRemoved?.length ||
      c.checkpoint?.length ||
      c.membersDown?.length ||
      c.membersUp?.length ||
      c.revoked?.length
    ) {
      return 'members and checkpoints belong to the cluster chain';
    }
    const moved = [...(c.overridesSet ?? []).map((o) => o.key), ...(c.overridesRemoved ?? [])];
    for (const key of moved) {
      if (options.partitionOf(key) !== p) return `key ${JSON.stringify(key)} is not in partition ${p}`;
    }
    if (c.checksums !== undefined) {
      const keys = new Set(moved);
      for (const key of Object.keys(c.checksums))
        if (!keys.has(key)) return `checksum of ${JSON.stringify(key)}, which the epoch does not move`;
    }
    if (epoch.basis === undefined) return 'partition epochs must name their basis cluster epoch';
    if (epoch.basis > options.cluster.head.number) return `basis ${epoch.basis} is beyond the cluster head`;
    const chain = options.chainOf(p);
    const previous = chain?.get(chain.head.number)?.basis ?? 0;
    if (epoch.basis < previous) return `basis ${epoch.basis} goes backwards`;
    return undefined;
  };
  const authorise: Authorise = (epoch: Epoch) => {
    const p = partitionOfScope(epoch.scope)!;
    return strict
      ? options.coordinatorAt(epoch.basis!, p) === epoch.signer
      : options.ringAt(epoch.basis!).members.some((m) => m.id === epoch.signer && m.state === 'up');
  };
  return { authorise, validate };
}
