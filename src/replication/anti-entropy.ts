import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from './cluster-ring.ts';
import { partitionDigests, partitionVersions } from './digests.ts';
import type { LocalEngine } from './local-engine.ts';
import type { ReplicaClient } from './replica-client.ts';
import { verifyRecord } from './replica-client.ts';
import { sendRecords } from './transfer.ts';
import { fromWire, type ReplicaResponse } from './wire.ts';

export interface AntiEntropyComponents {
  net: Net;
  local: LocalEngine;
  ring: ClusterRing;
  client: ReplicaClient;
  logger: Logger;
}

const FETCH_BATCH = 500;

/** This daemon's digests of every partition it replicates: one scan, shared by a pass's syncs. */
export function localDigests(c: AntiEntropyComponents, signal?: AbortSignal): Promise<Map<number, string>> {
  const ring = c.ring.ring;
  const mine = new Set<number>();
  for (let p = 0; p < ring.partitions; p++) if (ring.replicasFor(p).includes(c.ring.self)) mine.add(p);
  return partitionDigests(c.local, ring, mine, signal, (key) => c.ring.isOverridden(key));
}

/** What one sync with a peer did. */
export interface SyncReport {
  peer: string;
  partitionsCompared: number;
  partitionsDiffering: number;
  pulled: number;
  pushed: number;
}

/**
 * Anti-entropy with one peer, over the partitions both replicate: compare partition digests, then
 * for differing partitions compare key versions, pull what the peer has newer or only it has, and
 * push (bulk stream) what this daemon has newer or only it has. Both sides merge, so it converges
 * whatever runs concurrently. `mine`: this daemon's digests computed once for a whole pass (see
 * {@link localDigests}); a difference that appears after they were taken is caught by the next pass.
 */
export async function syncWithPeer(
  c: AntiEntropyComponents,
  peer: string,
  mine: ReadonlyMap<number, string>,
  signal?: AbortSignal,
): Promise<SyncReport> {
  const ring = c.ring.ring;
  const self = c.ring.self;
  const shared: number[] = [];
  for (let p = 0; p < ring.partitions; p++) {
    const replicas = ring.replicasFor(p);
    if (replicas.includes(self) && replicas.includes(peer)) shared.push(p);
  }
  const report: SyncReport = { peer, partitionsCompared: shared.length, partitionsDiffering: 0, pulled: 0, pushed: 0 };
  if (shared.length === 0) return report;
  const theirs = await c.client.call<Extract<ReplicaResponse, { t: 'digests' }>>(
    peer,
    { t: 'digests', p: shared },
    signal,
    30_000,
  );
  const differing = new Set(theirs.d.filter(([p, d]) => mine.get(p) !== d).map(([p]) => p));
  report.partitionsDiffering = differing.size;
  if (differing.size === 0) return report;
  const [myVersions, theirVersions] = await Promise.all([
    partitionVersions(c.local, ring, differing, signal, (key) => c.ring.isOverridden(key)),
    c.client.call<Extract<ReplicaResponse, { t: 'versions' }>>(
      peer,
      { t: 'versions', p: [...differing] },
      signal,
      30_000,
    ),
  ]);
  const mineByKey = new Map(myVersions.map(([, k, v]) => [k, v]));
  const theirsByKey = new Map(theirVersions.e.map(([, k, v]) => [k, v]));
  const pull = [...theirsByKey].filter(([k, v]) => mineByKey.get(k) !== v).map(([k]) => k);
  // Keys whose versions differ go both ways: each side merges, so either order converges.
  const push = [...mineByKey].filter(([k, v]) => theirsByKey.get(k) !== v).map(([k]) => k);
  for (let i = 0; i < pull.length; i += FETCH_BATCH) {
    const res = await c.client.call<Extract<ReplicaResponse, { t: 'fetch' }>>(
      peer,
      { t: 'fetch', ks: pull.slice(i, i + FETCH_BATCH) },
      signal,
      30_000,
    );
    for (const [k, w] of res.rs) {
      await c.local.applyRecord(k, verifyRecord(k, fromWire(w), peer), { signal });
      report.pulled++;
    }
  }
  if (push.length > 0) {
    const records = (async function* () {
      for (const k of push) {
        const record = await c.local.getRaw(k, { signal });
        if (record) yield { key: k, record };
      }
    })();
    report.pushed = (await sendRecords(c.net, peer, records, signal)).applied;
  }
  return report;
}
