import type { Logger } from 'pino';
import { tombstoneCollectable } from '../crdt/gc.ts';
import type { ClusterRing } from './cluster-ring.ts';
import type { LocalEngine } from './local-engine.ts';
import type { ReplicaClient } from './replica-client.ts';
import type { ReplicaResponse } from './wire.ts';

export interface TombstoneGcComponents {
  local: LocalEngine;
  ring: ClusterRing;
  client: ReplicaClient;
  logger: Logger;
}

/**
 * Tombstone garbage collection, run by the primary replica of each key: a tombstone older than the
 * grace period is purged only once every replica of the key answers with that same tombstone, and
 * then from all of them at once (a replica whose copy changed meanwhile keeps it). A replica that is
 * down blocks collection, so it can never come back with the deleted value and find nothing to stop it.
 */
export async function collectTombstones(
  c: TombstoneGcComponents,
  graceMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const self = c.ring.self;
  let purged = 0;
  const now = Date.now();
  for await (const { key, record } of c.local.scanRecords({ keysOnly: true, signal })) {
    if (!record.meta.tombstone) continue;
    const replicas = c.ring.replicasOf(key);
    if (replicas[0] !== self) continue;
    // Old enough? (Whether every replica holds it is checked next, against the replicas themselves.)
    if (!tombstoneCollectable(record.meta, { now, graceMs, allReplicasAcked: true })) continue;
    const version = record.meta.version;
    const copies = await Promise.all(replicas.map((peer) => c.client.get(peer, key, signal).catch(() => null)));
    const allHoldIt = copies.every((copy) => copy?.meta.tombstone === true && copy.meta.version === version);
    if (!allHoldIt) continue;
    const results = await Promise.all(
      replicas.map((peer) =>
        peer === self
          ? c.local.purgeTombstone(key, version)
          : c.client
              .call<Extract<ReplicaResponse, { t: 'purge' }>>(peer, { t: 'purge', k: key, v: version }, signal)
              .then((r) => r.ok)
              .catch(() => false),
      ),
    );
    if (results.every(Boolean)) purged++;
  }
  if (purged > 0) c.logger.info({ purged }, 'tombstones collected');
  return purged;
}
