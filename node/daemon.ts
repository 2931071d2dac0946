import { mkdirSync, readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerClusterMetrics } from '../src/api/cluster-metrics.ts';
import { clusterRoutes } from '../src/api/cluster-routes.ts';
import { dashboardRoutes } from '../src/api/dashboard.ts';
import { createDsmMetrics } from '../src/api/dsm-metrics.ts';
import { dsmRoutes } from '../src/api/dsm-routes.ts';
import { faultRoutes } from '../src/api/fault-routes.ts';
import {
  type ApiComponents,
  type ApiOptions,
  createApi,
  createMetricsRegistry,
  createSplitApi,
  MAX_KEY_BYTES,
} from '../src/api/index.ts';
import { createLayoutMetrics } from '../src/api/layout-metrics.ts';
import { layoutRoutes } from '../src/api/layout-routes.ts';
import { migrationRoutes } from '../src/api/migration-routes.ts';
import { overrideRoutes } from '../src/api/override-routes.ts';
import { registerPaeMetrics } from '../src/api/pae-metrics.ts';
import { paeRoutes } from '../src/api/pae-routes.ts';
import { createReplicationMetrics } from '../src/api/replication-metrics.ts';
import { statsRoutes } from '../src/api/stats-routes.ts';
import { instrumentStore } from '../src/api/store-metrics.ts';
import { createPersistentHlc, type PersistentHlcClock } from '../src/crdt/hlc-persistent.ts';
import type { Dsm } from '../src/dsm/index.ts';
import { createNet, loadOrCreatePeerKey, type Net, parseClusterSecret } from '../src/net/index.ts';
import type { OverrideService, WaveFaults } from '../src/overrides/index.ts';
import { LayoutKeeper } from '../src/overrides/index.ts';
import { DEFAULT_LOOKBACK, type Pae } from '../src/pae/index.ts';
import { DeferredEngine } from '../src/replication/deferred-engine.ts';
import { createReplication, type Replication } from '../src/replication/index.ts';
import { LocalEngine } from '../src/replication/local-engine.ts';
import { withStoreFaults } from '../src/store/faulty.ts';
import { StoreUnwritableError } from '../src/store/index.ts';
import { adminIds } from './admin-key.ts';
import { clusterAdmin, faultAdmin } from './cluster-admin.ts';
import { dsmClusterControl, serveDsmControl } from './cluster-dsm.ts';
import { clusterMigrations, serveMigrations } from './cluster-migrations.ts';
import type { DaemonConfig } from './config.ts';
import { ConfigError, storageLimitBytes } from './config.ts';
import { startDsm } from './dsm-wiring.ts';
import { assertHttpAddressFree, assertListenFree, listenAt } from './http-address.ts';
import { hlcPersistence, loadOrCreateNodeId } from './identity.ts';
import { rememberedListen, rememberListen } from './listen-memory.ts';
import { overrideAdmin, startOverrides } from './override-wiring.ts';
import { startPae } from './pae-wiring.ts';
import { type DaemonStats, startStats } from './stats-wiring.ts';
import { StorageReporter } from './storage-wiring.ts';
import { createConfiguredStore } from './stores.ts';
import { VERSION } from './version.ts';

/** A running daemon: its HTTP URL, a graceful stop, and `done`, settled when it left the cluster. */
export interface Daemon {
  /** URL of the data API. */
  url: string;
  /** URL of the admin API: `url` unless `--admin-port` gave it a listener of its own. */
  adminUrl: string;
  app: FastifyInstance;
  /** The app of the admin API: `app` unless it has a listener of its own. */
  adminApp: FastifyInstance;
  stop(): Promise<void>;
  /** Resolves once the daemon decommissioned itself (`POST /admin/leave`) and stopped. */
  done: Promise<void>;
}

function readFileOrFail(path: string, what: string): Buffer {
  try {
    const bytes = readFileSync(path);
    if (bytes.length === 0) throw new Error('file is empty');
    return bytes;
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

async function prepareDataDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new StoreUnwritableError(`data directory ${dir} cannot be created or written: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A status field of a part that may not be started yet (or is stopping): `fallback` until it answers. */
function whileStarting<T>(read: () => T | undefined, fallback: T): T {
  try {
    return read() ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * The composition root: opens the store, starts libp2p and replication, builds the HTTP API and
 * listens. Stop order: stop accepting requests and drain them, stop replication and libp2p, close
 * the store.
 */
export async function startDaemon(cfg: DaemonConfig, logger: Logger): Promise<Daemon> {
  const adminToken = cfg.adminTokenFile
    ? readFileOrFail(cfg.adminTokenFile, 'admin token file').toString('utf8').trim()
    : undefined;
  const clusterSecret = cfg.clusterSecret
    ? parseClusterSecret(readFileOrFail(cfg.clusterSecret, 'cluster secret file'))
    : undefined;
  const admins = adminIds(cfg);
  // Before the data directory exists: a taken port must not leave an empty ./data behind.
  await assertHttpAddressFree(cfg.httpHost, cfg.httpPort);
  if (cfg.adminPort !== undefined) await assertHttpAddressFree(cfg.adminHost!, cfg.adminPort, '--admin-port');
  // The default listen address takes the port of the previous run (the multiaddr stays); --announce needs a known one.
  const remembered = cfg.listenIsDefault && cfg.announce.length === 0 ? await rememberedListen(cfg.dataDir) : {};
  const listen = remembered.listen ?? cfg.listen;
  await assertListenFree(listen);
  await prepareDataDir(cfg.dataDir);
  const registry = createMetricsRegistry();
  // Fault injection (tests only): a slow or full store, and an HLC whose physical clock is skewed.
  const injected =
    cfg.faultInjection === 'on' ? { store: { latencyMs: 0, full: false }, clock: { offsetMs: 0 } } : undefined;
  const configured = createConfiguredStore(cfg);
  const store = instrumentStore(injected ? withStoreFaults(configured, injected.store) : configured, registry);
  await store.open();
  let ready = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const startedAt = Date.now();
  let app: FastifyInstance | undefined;
  let adminApp: FastifyInstance | undefined;
  let net: Net | undefined;
  let replication: Replication | undefined;
  let stats: DaemonStats | undefined;
  let clock: PersistentHlcClock | undefined;
  let pae: Pae | undefined;
  let keeper: LayoutKeeper | undefined;
  let overrides: OverrideService | undefined;
  let dsm: Dsm | undefined;
  const storage = new StorageReporter(
    { store, logger: logger.child({ module: 'storage' }) },
    { limitBytes: storageLimitBytes(cfg) },
  );
  const step = (fn: (() => Promise<void>) | undefined) =>
    fn?.().catch((err: unknown) => logger.warn({ err }, 'stop step failed'));
  // Stop accepting requests and drain them first, then replication, libp2p, and last the store.
  const runCleanup = async () => {
    await step(app && (() => app!.close()));
    await step(adminApp !== undefined && adminApp !== app ? () => adminApp!.close() : undefined);
    await step(dsm && (() => dsm!.stop()));
    await step(overrides && (() => overrides!.stop()));
    await step(keeper && (() => keeper!.stop()));
    await step(replication && (() => replication!.stop()));
    storage.stop();
    await step(net && (() => net!.stop()));
    await step(pae && (() => pae!.stop()));
    await step(stats && (() => stats!.stop()));
    await step(clock && (() => clock!.stop()));
    await step(() => store.close());
  };
  try {
    const nodeId = await loadOrCreateNodeId(store);
    // Versions never go backwards across a restart, even if the wall clock does.
    const physical = injected ? () => Date.now() + injected.clock.offsetMs : undefined;
    clock = createPersistentHlc({ node: nodeId, logger, persistence: hlcPersistence(store), physical });
    await clock.start();
    // Metadata of 50,000 recently written records (~20 MB): a wave's version, receipt and release checks
    // then read no values (bench:dsm).
    const local = new LocalEngine(
      { store, clock },
      { readCacheBytes: cfg.readCacheMb * 1024 * 1024, metaCacheEntries: 50_000 },
    );
    stats = await startStats(store, logger, {
      bucketMs: cfg.statsBucketMs,
      gossipIntervalMs: cfg.statsGossipIntervalMs,
    });
    const recorder = stats.stats;
    const paeParts = await startPae(
      // The cluster's demand (peers' summaries merged with this daemon's live counts), not only local accesses.
      { logger, source: stats.view.paeSource({ lookback: DEFAULT_LOOKBACK }), members: () => net?.members() ?? [] },
      { modelPath: cfg.paeModel, intervalMs: cfg.paeIntervalMs, zone: cfg.zone, latencyMs: cfg.latencyMatrix },
    );
    pae = paeParts.pae;
    registerPaeMetrics(registry, () => pae?.modelInfo());
    registerClusterMetrics(registry, () => net);
    const engine = new DeferredEngine();
    const dsmMetrics = createDsmMetrics(registry);
    const waveFaults: WaveFaults = {};
    let url = '';
    let adminUrl = '';
    let leaving = false;
    const leave = () => {
      if (leaving) return; // a second POST /admin/leave while the first runs
      leaving = true;
      void (async () => {
        ready = false;
        await replication?.leave();
        engine.close();
        await runCleanup();
        resolveDone();
      })().catch((err: unknown) => logger.error({ err }, 'leave failed'));
    };
    const components: ApiComponents = {
      logger,
      engine,
      registry,
      onAccess:
        cfg.accessStats === 'on'
          ? (a) => recorder.record(a.key, a.op, a.origin, a.app, a.bytes, undefined, a.cls)
          : undefined,
      ready: () => ready,
      // HTTP answers (healthz, status) while the net, replication and layout are still starting: a
      // part that is not up yet reads as empty instead of failing the whole status with a 500.
      status: () => ({
        peerId: whileStarting(() => net?.peerId, ''),
        multiaddrs: whileStarting(() => net?.multiaddrs(), []),
        zone: cfg.zone,
        store: store.kind,
        epoch: whileStarting(() => keeper?.layout.cluster.head.number, 0),
        peers: whileStarting(() => replication?.ring.upPeers(), []),
        version: VERSION,
        httpUrl: url,
        adminUrl,
        uptimeMs: Date.now() - startedAt,
        ready,
      }),
    };
    const apiOptions: ApiOptions = {
      zone: cfg.zone,
      maxValueBytes: cfg.maxValueBytes,
      requestTimeoutMs: cfg.httpRequestTimeoutMs,
      // A record key is stored behind a one-byte keyspace prefix.
      maxKeyBytes: Math.min(MAX_KEY_BYTES, store.supports.maxKeyBytes - 1),
      adminToken,
      version: VERSION,
      adminRoutes: [
        clusterRoutes({
          ...clusterAdmin(
            () => net,
            () => replication,
            () => keeper,
            leave,
            () => overrides?.forks() ?? [],
            () => overrides?.quarantined() ?? [],
          ),
          placement: (key) => overrides?.placement(key),
        }),
        overrideRoutes(overrideAdmin(() => overrides, local)),
        dsmRoutes(
          () => dsm,
          dsmClusterControl(() => net),
        ),
        migrationRoutes(
          () => dsm,
          clusterMigrations(
            () => net,
            () => dsm,
          ),
        ),
        layoutRoutes(() =>
          overrides === undefined
            ? undefined
            : {
                layout: () => overrides!.layout(),
                rollback: (t, signal) => overrides!.rollback(t, { signal }),
                clearQuarantine: (signer) => overrides!.clearQuarantine(signer),
                revoke: (order, signal) => keeper!.revoke(order, signal),
              },
        ),
        statsRoutes(stats.admin),
        paeRoutes(paeParts.admin),
        ...(injected ? [faultRoutes(faultAdmin(() => net, waveFaults, injected))] : []),
      ],
      dataAuth: cfg.dataAuth === 'on',
      adminRateLimit: { perSecond: cfg.rateLimitAdmin, limitLoopback: cfg.rateLimitLoopback === 'limit' },
      dataRateLimit: { perSecond: cfg.rateLimitData, limitLoopback: cfg.rateLimitLoopback === 'limit' },
    };
    if (cfg.adminPort === undefined) {
      app = adminApp = await createApi(components, apiOptions);
    } else {
      ({ data: app, admin: adminApp } = await createSplitApi(components, apiOptions));
    }
    await adminApp.register(dashboardRoutes);
    url = await listenAt(app, cfg.httpHost, cfg.httpPort);
    adminUrl =
      cfg.adminPort === undefined ? url : await listenAt(adminApp, cfg.adminHost!, cfg.adminPort, '--admin-port');
    net = createNet(
      { logger: logger.child({ module: 'net' }) },
      {
        dataDir: cfg.dataDir,
        listen,
        announce: cfg.announce,
        join: cfg.join,
        clusterSecret,
        bulkTls: cfg.bulkTls === 'on',
        bulkPort: cfg.bulkPort,
        zone: cfg.zone,
        capacity: cfg.capacity,
        storeKind: store.kind,
        apiUrl: url,
        adminUrl,
        storage: await storage.measure(),
        faults: { enabled: cfg.faultInjection === 'on' },
      },
    );
    replication = createReplication(
      {
        net,
        local,
        store,
        logger: logger.child({ module: 'replication' }),
        observer: createReplicationMetrics(registry),
      },
      {
        replicas: cfg.replicas,
        maintenanceIntervalMs: cfg.antiEntropyIntervalMs,
        tombstoneGraceMs: cfg.tombstoneGraceMs,
      },
    );
    // Until the override service has loaded the stored overrides (and installs its own rule), the
    // hand-off would judge every overridden record by its ring placement alone and drop it here.
    replication.ring.setHoldBack(() => true);
    await net.start();
    if (remembered.taken !== undefined) {
      logger.warn(
        { was: remembered.taken, now: net.multiaddrs() },
        'libp2p: the port of the previous run is taken; listening on another',
      );
    }
    if (cfg.listenIsDefault && cfg.announce.length === 0) {
      await rememberListen(cfg.dataDir, net.multiaddrs()).catch((err: unknown) =>
        logger.warn({ err }, 'libp2p: could not remember the listen port for the next start'),
      );
    }
    storage.start(net);
    await replication.start();
    stats.startGossip(net, cfg.zone);
    const peerKey = await loadOrCreatePeerKey(cfg.dataDir);
    const layoutObserver = createLayoutMetrics(registry, () => overrides?.quarantined().length ?? 0);
    keeper = new LayoutKeeper({
      net,
      ring: replication.ring,
      store,
      peerKey,
      logger: logger.child({ module: 'layout' }),
      observer: layoutObserver,
      admins,
    });
    await keeper.start();
    overrides = await startOverrides({ net, replication, keeper, local, store, peerKey, layoutObserver }, logger, {
      repairIntervalMs: cfg.antiEntropyIntervalMs,
      releaseGraceMs: cfg.moveGraceMs,
      faults: cfg.faultInjection === 'on' ? waveFaults : undefined,
      onMigration: (m) => dsmMetrics.onMigration(m),
      onRollback: () => dsm?.pause(),
    });
    dsm = await startDsm(
      {
        net,
        ring: replication.ring,
        overrides,
        local,
        view: stats.view,
        pae: paeParts.pae,
        observer: dsmMetrics,
        store,
      },
      cfg,
      logger,
    );
    await serveMigrations(net, () => dsm);
    await serveDsmControl(net, () => dsm);
    const liveKeeper = keeper;
    for (const type of ['member:up', 'member:down', 'member:changed', 'member:removed'] as const)
      net.addEventListener(type, () => liveKeeper.kick());
    engine.set(replication.engine);
    ready = true;
    return {
      url,
      adminUrl,
      app,
      adminApp,
      done,
      async stop() {
        ready = false;
        await runCleanup();
      },
    };
  } catch (err) {
    await runCleanup();
    throw err;
  }
}
