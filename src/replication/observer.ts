/** How one call to a remote replica ended (the `outcome` label of the replica call metric). */
export type ReplicaCallOutcome = 'ok' | 'timeout' | 'unreachable' | 'error';

export const REPLICA_CALL_OUTCOMES: readonly ReplicaCallOutcome[] = ['ok', 'timeout', 'unreachable', 'error'];

/**
 * Told of replication's work as it happens (the daemon's metrics, src/api/replication-metrics.ts). Each
 * method is called on the path of the work it reports, so it must be cheap and must not throw.
 */
export interface ReplicationObserver {
  /** A call to a remote replica (get, put, digests, versions, fetch) ended. Local calls are not reported. */
  replicaCall(outcome: ReplicaCallOutcome): void;
  /** A write a replica missed was kept as a hint. */
  hintQueued(): void;
  /** Hints replayed to a replica that came back (applied there). */
  hintsReplayed(count: number): void;
  /** The hints now held for every peer (after each change, and once counted at start). */
  hintsPending(count: number): void;
  /**
   * A bulk delivery of records this daemon should not keep ended: `ring` the hand-off of records it no
   * longer replicates (after a join, during a leave), `hints` a hint replay; `bytes` of values sent.
   */
  handedOff(kind: HandoffKind, bytes: number): void;
  /** Anti-entropy repaired records with a peer: pulled here, pushed there. */
  repaired(pulled: number, pushed: number): void;
  /** A request failed for want of replicas: too few up to try it (`unavailable`, nothing sent) or too few answered in time (`not_reached`). */
  quorumFailed(reason: QuorumFailure): void;
  /** A read asked one replica more than its level needs, because one it asked failed or was slow. */
  readRetried(): void;
}

/** Why a request could not get the replicas its level needs (the `reason` label). */
export type QuorumFailure = 'unavailable' | 'not_reached';

export const QUORUM_FAILURES: readonly QuorumFailure[] = ['unavailable', 'not_reached'];

/** What a hand-off delivered (the `kind` label of `shoal_handoff_bytes_total`). */
export type HandoffKind = 'ring' | 'hints';

export const HANDOFF_KINDS: readonly HandoffKind[] = ['ring', 'hints'];

/** An observer that ignores everything (the default). */
export const NO_OBSERVER: ReplicationObserver = {
  replicaCall: () => {},
  hintQueued: () => {},
  hintsReplayed: () => {},
  hintsPending: () => {},
  handedOff: () => {},
  repaired: () => {},
  quorumFailed: () => {},
  readRetried: () => {},
};
