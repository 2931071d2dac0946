/**
 * Prometheus metrics of replication, fed by its {@link ReplicationObserver}:
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_replica_calls_total` | counter | `outcome` | calls to remote replicas (`ok`, `timeout`, `unreachable`, `error`) |
 * | `shoal_hints_queued_total` | counter | — | writes a replica missed, kept as hints for it |
 * | `shoal_hints_replayed_total` | counter | — | hinted writes applied at their replica once it was back |
 * | `shoal_hints_pending` | gauge | — | hints held for replicas that missed writes, not yet replayed |
 * | `shoal_handoff_bytes_total` | counter | `kind` | value bytes handed to other daemons: `ring` (records this daemon no longer replicates, after a join or during a leave), `hints` (hint replays) |
 * | `shoal_anti_entropy_repairs_total` | counter | `direction` | records anti-entropy repaired: `pulled` here, `pushed` to a peer |
 * | `shoal_quorum_failures_total` | counter | `reason` | requests that did not get the replicas their level needs: `unavailable` (too few replicas up to try: not attempted), `not_reached` (attempted, too few answered in time) |
 * | `shoal_read_retries_total` | counter | — | reads that asked one replica more than their level needs (one asked failed or was slow: the speculative retry) |
 *
 * Every label value is set to 0 up front, and each is bound once: the observer does no label lookups.
 *
 * @packageDocumentation
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  HANDOFF_KINDS,
  QUORUM_FAILURES,
  REPLICA_CALL_OUTCOMES,
  type ReplicaCallOutcome,
  type ReplicationObserver,
} from '../replication/index.ts';

/** Registers replication's metrics in `registry` and returns the observer that keeps them. */
export function createReplicationMetrics(registry: Registry): ReplicationObserver {
  const registers = [registry];
  const calls = new Counter({
    name: 'shoal_replica_calls_total',
    help: 'Calls to remote replicas, by outcome (ok, timeout, unreachable, error)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const queued = new Counter({
    name: 'shoal_hints_queued_total',
    help: 'Writes kept as hints for a replica',
    registers,
  });
  const replayed = new Counter({
    name: 'shoal_hints_replayed_total',
    help: 'Hinted writes applied at their replica once it was back',
    registers,
  });
  const pending = new Gauge({
    name: 'shoal_hints_pending',
    help: 'Hints held for replicas that missed writes, not yet replayed',
    registers,
  });
  const handoff = new Counter({
    name: 'shoal_handoff_bytes_total',
    help: 'Value bytes handed to other daemons: ring (records no longer replicated here), hints (hint replays)',
    labelNames: ['kind'] as const,
    registers,
  });
  const repairs = new Counter({
    name: 'shoal_anti_entropy_repairs_total',
    help: 'Records anti-entropy repaired, pulled here or pushed to a peer',
    labelNames: ['direction'] as const,
    registers,
  });
  const quorumFailures = new Counter({
    name: 'shoal_quorum_failures_total',
    help: 'Requests that did not get the replicas their consistency level needs, by reason (unavailable, not_reached)',
    labelNames: ['reason'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'shoal_read_retries_total',
    help: 'Reads that asked one replica more than their level needs because one asked failed or was slow',
    registers,
  });
  const byFailure = new Map(QUORUM_FAILURES.map((r) => [r, quorumFailures.labels(r)]));
  for (const c of byFailure.values()) c.inc(0);
  const byOutcome = new Map(REPLICA_CALL_OUTCOMES.map((o) => [o, calls.labels(o)]));
  for (const c of byOutcome.values()) c.inc(0);
  const byKind = new Map(HANDOFF_KINDS.map((k) => [k, handoff.labels(k)]));
  for (const c of byKind.values()) c.inc(0);
  const pulled = repairs.labels('pulled');
  const pushed = repairs.labels('pushed');
  pulled.inc(0);
  pushed.inc(0);
  return {
    replicaCall: (outcome: ReplicaCallOutcome) => byOutcome.get(outcome)?.inc(),
    hintQueued: () => queued.inc(),
    hintsReplayed: (n) => {
      if (n > 0) replayed.inc(n);
    },
    hintsPending: (n) => pending.set(n),
    handedOff: (kind, bytes) => {
      if (bytes > 0) byKind.get(kind)?.inc(bytes);
    },
    quorumFailed: (reason) => byFailure.get(reason)?.inc(),
    readRetried: () => retries.inc(),
    repaired: (p, q) => {
      if (p > 0) pulled.inc(p);
      if (q > 0) pushed.inc(q);
    },
  };
}
