import type { Logger } from 'pino';
import { mergeRecords, recordsEqual } from '../crdt/merge.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import type { ReplicaClient } from '../replication/replica-client.ts';

export interface OverrideRepairComponents {
  ring: ClusterRing;
  client: ReplicaClient;
  logger: Logger;
}

/** What one repair pass did. */
export interface OverrideRepairReport {
  checked: number;
  repaired: number;
}

/**
 * Anti-entropy for overridden keys, which partition anti-entropy leaves out (their holders are not the
 * partition's ring replicas). For every override whose first available holder is this daemon (so one
 * daemon per key does it), reads every holder's copy, merges them, and writes the merged copy to every
 * holder that lacks it. At most `limit` keys per pass, continuing where the last pass stopped.
 */
export class OverrideRepair {
  readonly #c: OverrideRepairComponents;
  #offset = 0;

  constructor(components: OverrideRepairComponents) {
    this.#c = components;
  }

  async pass(limit: number, signal?: AbortSignal): Promise<OverrideRepairReport> {
    const { ring, client } = this.#c;
    const self = ring.self;
    const entries = [...ring.overrides.entries()];
    const report: OverrideRepairReport = { checked: 0, repaired: 0 };
    if (entries.length === 0) return report;
    const start = this.#offset % entries.length;
    const batch = [...entries.slice(start), ...entries.slice(0, start)].slice(0, limit);
    this.#offset = start + batch.length;
    for (const { key } of batch) {
      if (signal?.aborted) break;
      const holders = ring.replicasOf(key);
      if (holders.find((h) => ring.isAvailable(h)) !== self) continue;
      report.checked++;
      const copies = await Promise.all(
        holders.map((peer) =>
          client.get(peer, key, signal).then(
            (record) => ({ peer, ok: true, record }),
            () => ({ peer, ok: false, record: undefined }),
          ),
        ),
      );
      const merged = mergeRecords(copies.filter((c) => c.ok).map((c) => c.record));
      if (merged === undefined) continue;
      const stale = copies.filter((c) => c.ok && (c.record === undefined || !recordsEqual(c.record, merged)));
      for (const c of stale) {
        try {
          await client.put(c.peer, key, merged, signal);
          report.repaired++;
        } catch (err) {
          this.#c.logger.debug({ err, key, peer: c.peer }, 'override repair: holder not repaired');
        }
      }
    }
    if (report.repaired > 0) this.#c.logger.info(report, 'override repair: holders repaired');
    return report;
  }
}
