import type { Logger } from 'pino';
import { type DsmCluster, DsmController, type DsmDemand, type DsmMover } from '../src/dsm/controller.ts';
import type { Dsm, DsmObserver, LatencyMatrix, PlanMember } from '../src/dsm/index.ts';
import type { Net } from '../src/net/index.ts';
import { type MovePlan, type OverrideService, planMoveFrom } from '../src/overrides/index.ts';
import type { Pae } from '../src/pae/index.ts';
import { createZoneRtt, latencyResolver } from '../src/pae/index.ts';
import type { ClusterRing } from '../src/replication/cluster-ring.ts';
import type { LocalEngine } from '../src/replication/local-engine.ts';
import type { ClusterView } from '../src/stats/index.ts';
import { internalEntry, KEYSPACE, prefixKey, type Store } from '../src/store/index.ts';
import type { DaemonConfig } from './config.ts';

export interface DsmWiringParts {
  net: Net;
  ring: ClusterRing;
  overrides: OverrideService;
  local: LocalEngine;
  view: ClusterView;
  pae: Pae;
  /** Metrics of cycles and overrides (the same observer the override service tells of migrations). */
  observer: DsmObserver;
  /** Where the pause is kept across restarts (the daemon's store). */
  store: Store;
}

const PAUSED_KEY = prefixKey(KEYSPACE.meta, new TextEncoder().encode('dsm/paused'));

/**
 * Least client latency the planner assumes between two zones when it measures less (loopback, one
 * rack): an access served from another zone is never free (inter-zone transfer is billed, and its tail
 * is worse than the median ping), so demand from a zone with no replica still pulls one there. A
 * configured `--latency-matrix` is taken as it is.
 */
const CROSS_ZONE_FLOOR_MS = 10;

/** A record an operator placed is pinned: its override was set by a manual wave (or before waves existed); DSM (`w-`) and rollback (`r-`) placements are not. */
const MANUAL_WAVE = /^m-/;

/**
 * The daemon's Dynamic Sharding Manager: the controller of src/dsm over this daemon's parts. It plans
 * the partitions this daemon coordinates from the cluster view's demand (gossiped stats merged with its
 * own) and the PAE's forecast, and moves through the override service's waves.
 */
export async function startDsm(parts: DsmWiringParts, cfg: DaemonConfig, logger: Logger): Promise<Dsm> {
  const { net, ring, overrides, local, view, pae } = parts;
  const rtt = createZoneRtt({ members: () => net.members() }, { zone: cfg.zone });
  const measured = (a: string, b: string) => {
    const ms = rtt.rttMs(a, b);
    return ms === undefined ? undefined : Math.max(CROSS_ZONE_FLOOR_MS, ms);
  };
  const lat = latencyResolver(cfg.latencyMatrix, measured, 100);
  const cluster: DsmCluster = {
    self: net.peerId,
    members(): PlanMember[] {
      return net.members().map((m) => ({
        id: m.peerId,
        zone: m.zone,
        up: m.status === 'up' && m.leaving !== true,
        // announced in membership (node/storage-wiring.ts): no limit, or a size not measured, is unbounded / 0
        capacityBytes: m.limitBytes,
        usedBytes: m.usedBytes ?? 0,
        storeKind: m.storeKind,
      }));
    },
    coordinates: (partition) => overrides.layout().coordinatorOf(partition) === net.peerId,
    placementOf(key) {
      const p = ring.placementOf(key);
      const o = p.override;
      const wave = o && overrides.layout().chain(o.scope).get(o.number)?.change.wave;
      return {
        partition: p.partition,
        holders: p.replicas,
        home: p.ringReplicas,
        overridden: p.source === 'override',
        pinned: o !== undefined && (wave === undefined || MANUAL_WAVE.test(wave)),
      };
    },
    *overriddenKeys() {
      for (const o of ring.overrides.entries()) yield o.key;
    },
    latency(): LatencyMatrix {
      const zones = [...new Set(net.members().map((m) => m.zone))];
      const m: Record<string, Record<string, number>> = {};
      for (const a of zones) {
        m[a] = {};
        for (const b of zones) m[a][b] = lat(a, b);
      }
      return m;
    },
    sizeOf: async (key) => (await local.getRaw(key))?.meta.size,
  };
  const demand: DsmDemand = {
    observed: (windowMs, keys) => view.demand({ windowMs, keys }).records,
    forecastOf: (key) => pae.forecastOf(key),
    accuracy: (key) => pae.accuracy(key),
    horizonMs: () => pae.horizonMs(),
  };
  const mover: DsmMover = {
    async run(moves, { signal }) {
      const plans: MovePlan[] = [];
      const gains: Record<string, number> = {};
      for (const m of moves) {
        // From the holders the planner saw; PlannedMove.bytes counts every copy, the record's size is that over
        // the new holders.
        const copies = Math.max(1, m.to.filter((id) => !m.from.includes(id)).length);
        const current = { ...ring.placementOf(m.key), replicas: m.from };
        const plan = planMoveFrom(m.key, current, m.kind === 'home' ? null : m.to, m.reason, m.bytes / copies);
        if (plan === undefined) continue;
        plans.push(plan);
        gains[m.key] = m.gainMs;
      }
      const outcome = await overrides.runWave(plans, { origin: 'dsm', gains, signal });
      return { wave: outcome.id, done: outcome.done.length, failed: outcome.failed.length };
    },
    rollback: (wave, { signal }) => overrides.rollback({ wave }, { signal }),
    inFlight: () => overrides.inFlight(),
    migrations: (limit) => overrides.migrations(limit),
  };
  const paused = (await parts.store.get(PAUSED_KEY)) !== undefined;
  const dsmLogger = logger.child({ module: 'dsm' });
  if (paused)
    dsmLogger.warn('dsm: paused before this restart (a rollback, the guard or an operator): shoal dsm resume');
  const keepPause = (p: boolean) =>
    (p
      ? parts.store.put(PAUSED_KEY, internalEntry(new Uint8Array(0), 'application/octet-stream'))
      : parts.store.delete(PAUSED_KEY)
    ).catch((err: unknown) => dsmLogger.warn({ err }, 'dsm: could not keep the pause for the next start'));
  const dsm = new DsmController(
    { logger: dsmLogger, cluster, demand, mover, observer: parts.observer, onPausedChange: keepPause },
    {
      policy: cfg.dsmPolicy,
      paused,
      intervalMs: cfg.dsmIntervalMs,
      survive: cfg.survive,
      replicationFactor: cfg.replicas,
      thresholdMs: cfg.dsmThreshold,
      maxMoves: cfg.dsmMaxMoves,
      maxMbps: cfg.dsmMaxMbps,
      cooldownMs: cfg.dsmCooldownMs,
      guard: { enabled: cfg.dsmGuard === 'on', margin: cfg.dsmGuardMargin, windowMs: cfg.dsmGuardWindowMs },
    },
  );
  await dsm.start();
  return dsm;
}
