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
  /** Anti-entropy repaired records with a peer: pulled here, pushed there. */
  repaired(pulled: number, pushed: number): void;
  /** A request failed for want of replicas: none reachable (`unavailable`) or too few answered (`not_reached`). */
  quorumFailed(reason: QuorumFailure): void;
  /** A read asked one replica more than its level needs, because one it asked failed or was slow. */
  readRetried(): void;
}

/** Why a request could not get the replicas its level needs (the `reason` label). */
export type QuorumFailure = 'unavailable' | 'not_reached';

export const QUORUM_FAILURES: readonly QuorumFailure[] = ['unavailable', 'not_reached'];

/** An observer that ignores everything (the default). */
export const NO_OBSERVER: ReplicationObserver = {
  replicaCall: () => {},
  hintQueued: () => {},
  hintsReplayed: () => {},
  repaired: () => {},
  quorumFailed: () => {},
  readRetried: () => {},
};
