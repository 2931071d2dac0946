import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from './cluster-ring.ts';
import type { LocalEngine } from './local-engine.ts';
import type { ReplicationObserver } from './observer.ts';
import { sendRecords } from './transfer.ts';

export interface HandoffComponents {
  net: Net;
  local: LocalEngine;
  ring: ClusterRing;
  logger: Logger;
  /** Told of the bytes each delivery sent (`shoal_handoff_bytes_total`). */
  observer?: ReplicationObserver;
}

export interface HandoffReport {
  /** Records this daemon held but no longer replicates. */
  foreign: number;
  /** Of those, handed to every current replica and dropped here. */
  handedOff: number;
}

/**
 * Hands off the records this daemon no longer replicates (after a join, or all of them when it
 * leaves): each goes to every current replica over a bulk stream, and the local copy is dropped only
 * once all of them acknowledged it (never fewer copies than before). A record written meanwhile is
 * kept for the next pass. A record a wave moved away is left alone while its release is pending (the
 * mover drops it against the new holders' receipts after a grace period; see src/overrides/release.ts).
 */
export async function handOff(c: HandoffComponents, signal?: AbortSignal): Promise<HandoffReport> {
  const self = c.ring.self;
  const byPeer = new Map<string, string[]>();
  const owners = new Map<string, { version: string; checksum: string; replicas: readonly string[] }>();
  // Metadata only here: the values of the few foreign records are read again when they are sent, so a
  // pass never holds every foreign value in memory at once.
  for await (const { key, record } of c.local.scanRecords({ keysOnly: true, signal })) {
    const replicas = c.ring.replicasOf(key);
    if (replicas.includes(self) || replicas.length === 0 || c.ring.heldBack(key)) continue;
    owners.set(key, { version: record.meta.version, checksum: record.meta.checksum, replicas });
    for (const peer of replicas) {
      const list = byPeer.get(peer) ?? [];
      if (list.length === 0) byPeer.set(peer, list);
      list.push(key);
    }
  }
  const report: HandoffReport = { foreign: owners.size, handedOff: 0 };
  if (owners.size === 0) return report;
  const delivered = new Set<string>();
  for (const [peer, keys] of byPeer) {
    try {
      // A record written after the scan goes in its newer version; its drop below then fails (the
      // version differs) and the next pass hands it off again.
      const res = await sendRecords(c.net, peer, c.local.recordsOf(keys, { signal }), signal);
      c.observer?.handedOff('ring', res.bytes);
      if (res.rejected === 0) delivered.add(peer);
      else c.logger.warn({ peer, rejected: res.rejected }, 'hand-off: peer rejected records');
    } catch (err) {
      c.logger.info({ err, peer }, 'hand-off: peer unreachable, will retry');
    }
  }
  for (const [key, { replicas, ...sent }] of owners) {
    if (replicas.every((r) => delivered.has(r))) {
      await c.local.dropRecord(key, sent);
      report.handedOff++;
    }
  }
  return report;
}
