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
}

/** An observer that ignores everything (the default). */
export const NO_OBSERVER: ReplicationObserver = {
  replicaCall: () => {},
  hintQueued: () => {},
  hintsReplayed: () => {},
  repaired: () => {},
};
