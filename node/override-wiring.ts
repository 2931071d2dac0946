import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { OverrideAdmin } from '../src/api/override-routes.ts';
import { ShoalError } from '../src/errors/index.ts';
import type { Net } from '../src/net/index.ts';
import type { LayoutKeeper } from '../src/overrides/index.ts';
import {
  createOverrideService,
  type LayoutObserver,
  type Migration,
  type OverrideService,
  type WaveFaults,
} from '../src/overrides/index.ts';
import type { ReplicaCopy, Replication } from '../src/replication/index.ts';
import type { LocalEngine } from '../src/replication/local-engine.ts';
import type { Store } from '../src/store/index.ts';

/** Starts per-record overrides (sync, moves, DHT holder directory, repair) over the running cluster parts. */
export async function startOverrides(
  parts: {
    net: Net;
    replication: Replication;
    keeper: LayoutKeeper;
    local: LocalEngine;
    store: Store;
    peerKey: PrivateKey;
    layoutObserver?: LayoutObserver;
  },
  logger: Logger,
  options: {
    repairIntervalMs: number;
    releaseGraceMs: number;
    /** Wave faults (tests only: given only with --fault-injection on). */
    faults?: WaveFaults;
    onMigration?: (m: Migration) => void;
    onRollback?: () => void;
  },
): Promise<OverrideService> {
  const { net, replication, keeper, local, store, peerKey, layoutObserver } = parts;
  const service = createOverrideService(
    {
      net,
      ring: replication.ring,
      local,
      store,
      layout: () => keeper.layout,
      catchUpCluster: (peer) => keeper.catchUpFrom(peer),
      peerKey,
      exists: async (key, signal) => liveCopyExists(await replication.engine.inspect(key, { signal })),
      logger: logger.child({ module: 'overrides' }),
      observer: layoutObserver,
    },
    {
      repairIntervalMs: options.repairIntervalMs,
      releaseGraceMs: options.releaseGraceMs,
      faults: options.faults,
      onMigration: options.onMigration,
      onRollback: options.onRollback,
    },
  );
  await service.start();
  return service;
}

/**
 * Whether the replicas' copies of a key hold a live record: true when the merged copy is not a
 * tombstone, false when every replica answered and none holds one, undefined when it cannot tell.
 */
function liveCopyExists(copies: readonly ReplicaCopy[]): boolean | undefined {
  if (copies.some((c) => c.agrees && c.version !== undefined && c.tombstone !== true)) return true;
  return copies.length > 0 && copies.every((c) => c.error === undefined) ? false : undefined;
}

/** The placement admin operations (the service may still be starting). */
export function overrideAdmin(service: () => OverrideService | undefined, local: LocalEngine): OverrideAdmin {
  const need = (): OverrideService => {
    const s = service();
    if (s === undefined) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return s;
  };
  return {
    place: (key, req, signal) => need().place({ key, ...req }, { signal }),
    placeMany: (reqs, signal) => need().placeMany(reqs, { signal }),
    holders: (key, signal) => need().holders(key, { signal }),
    overrides: () => need().list(),
    async localCopy(key, signal) {
      const rec = await local.getRaw(key, { signal });
      return rec && { version: rec.meta.version, tombstone: rec.meta.tombstone === true, size: rec.meta.size };
    },
  };
}
