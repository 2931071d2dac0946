/**
 * `src/replication`: turns one daemon's store into a replica of the cluster.
 *
 * - {@link Coordinator}: any daemon coordinates any key over its ring replicas, at consistency
 *   `one`, `quorum` (default), `all` or `linearizable` (ABD majority read with write-back), with
 *   read repair and hinted handoff.
 * - anti-entropy: two-level hash comparison (partition digests, then key versions) with each peer.
 * - hand-off: records this daemon no longer replicates move to their replicas before being dropped.
 * - bulk transfer: flow-controlled streams of checksummed records, merged on arrival.
 * - per-record overrides (src/overrides): signed partition epochs placing single records, the
 *   move protocol (src/overrides/relocate.ts), the DHT directory of holders (src/overrides/holder-directory.ts); the
 *   {@link ClusterRing} routes every key by ring + overrides.
 * Every copy arriving from elsewhere merges through src/crdt; nothing overwrites.
 */
import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import type { Store } from '../store/index.ts';
import { ClusterRing } from './cluster-ring.ts';
import { Coordinator } from './coordinator.ts';
import { HintQueue } from './hints.ts';
import type { LocalEngine } from './local-engine.ts';
import { Maintenance } from './maintenance.ts';
import { NO_OBSERVER, type ReplicationObserver } from './observer.ts';
import { ReplicaClient } from './replica-client.ts';
import { serveReplicaProtocol } from './replica-service.ts';
import { serveTransfers } from './transfer.ts';

export { ClusterRing } from './cluster-ring.ts';
export { Coordinator, needed } from './coordinator.ts';
export type * from './engine.ts';
export { LocalEngine } from './local-engine.ts';
export type { HandoffKind, QuorumFailure, ReplicaCallOutcome, ReplicationObserver } from './observer.ts';
export { HANDOFF_KINDS, QUORUM_FAILURES, REPLICA_CALL_OUTCOMES } from './observer.ts';

export interface ReplicationComponents {
  net: Net;
  local: LocalEngine;
  store: Store;
  logger: Logger;
  /** Told of replica calls, hints and repairs (the daemon's metrics). Default: nobody. */
  observer?: ReplicationObserver;
}

export interface ReplicationOptions {
  /** Partitions of the key space (fixed for the cluster's life). Default 4096. */
  partitions?: number;
  /** Replicas per record. Default 3. */
  replicas?: number;
  /** Deadline of one replica call. Default 2000 ms. */
  replicaTimeoutMs?: number;
  /** Pause between anti-entropy / hand-off passes. Default 30 s. */
  maintenanceIntervalMs?: number;
  /** Hints older than this are dropped (anti-entropy covers them). Default 3 h. */
  hintMaxAgeMs?: number;
  /** Tombstones older than this are collected once every replica holds them. Default 6 h. */
  tombstoneGraceMs?: number;
}

export interface Replication {
  readonly engine: Coordinator;
  readonly ring: ClusterRing;
  readonly hints: HintQueue;
  readonly maintenance: Maintenance;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Hands every record to the remaining members (all replicas acknowledged), then leaves the cluster. */
  leave(options?: { timeoutMs?: number }): Promise<void>;
}

/** The membership events that can change the ring. */
const MEMBER_EVENTS = ['member:up', 'member:down', 'member:changed', 'member:removed'] as const;

export function createReplication(components: ReplicationComponents, options: ReplicationOptions = {}): Replication {
  const { net, local, store, logger } = components;
  const observer = components.observer ?? NO_OBSERVER;
  const ring = new ClusterRing(net, { partitions: options.partitions ?? 4096, replicas: options.replicas ?? 3 });
  const client = new ReplicaClient(net, local, { timeoutMs: options.replicaTimeoutMs ?? 2000, observer });
  const hints = new HintQueue({ store, net, logger, observer }, { maxAgeMs: options.hintMaxAgeMs ?? 3 * 3600_000 });
  const engine = new Coordinator({ local, ring, client, hints, logger, observer });
  const maintenance = new Maintenance(
    { net, local, ring, client, hints, logger, observer },
    { intervalMs: options.maintenanceIntervalMs ?? 30_000, tombstoneGraceMs: options.tombstoneGraceMs ?? 6 * 3600_000 },
  );
  const stopping = new AbortController();
  const onMembers = (e: Event) => {
    // A member gone for good gets no hint replay: its share's new replicas are filled by anti-entropy.
    if (e.type === 'member:removed') void hints.drop((e as CustomEvent<{ peerId: string }>).detail.peerId);
    const changed = ring.refresh();
    if (changed) logger.info({ members: ring.ring.members.length }, 'ring changed');
    // A member's new storage figure or address leaves nothing to repair (each kick is a full pass over the
    // store, and a growing store re-announces its size every few seconds): only a new ring or a member
    // that came back up (hints to replay, writes it missed) starts a pass early.
    if (changed || e.type === 'member:up') maintenance.kick();
    // Hints are a prefix scan, not a pass over the store: replay them to a member that is back or restarted.
    if (e.type === 'member:up' || e.type === 'member:changed') {
      const peer = (e as CustomEvent<{ peerId: string }>).detail.peerId;
      hints.replayIfQueued(peer, () => ring.isAvailable(peer), stopping.signal);
    }
  };
  return {
    engine,
    ring,
    hints,
    maintenance,
    async start() {
      await serveReplicaProtocol(net, local, ring, logger);
      await serveTransfers(net, local, logger);
      await hints.load();
      ring.refresh();
      for (const type of MEMBER_EVENTS) net.addEventListener(type, onMembers);
      maintenance.start();
    },
    async stop() {
      for (const type of MEMBER_EVENTS) net.removeEventListener(type, onMembers);
      stopping.abort();
      hints.stop();
      await maintenance.stop();
    },
    async leave({ timeoutMs = 120_000 } = {}) {
      ring.markSelfLeaving();
      const deadline = Date.now() + timeoutMs;
      await maintenance.stop();
      const { handOff } = await import('./handoff.ts');
      for (;;) {
        const report = await handOff({ net, local, ring, logger, observer });
        logger.info(report, 'leave: hand-off pass');
        if (report.foreign === report.handedOff) break;
        if (Date.now() > deadline)
          throw new Error(`leave: ${report.foreign - report.handedOff} records could not be handed off in time`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await net.leave();
    },
  };
}
