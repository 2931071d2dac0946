import { mkdirSync, readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApi, createMetricsRegistry } from '../src/api/index.ts';
import { createHlc } from '../src/crdt/hlc.ts';
import { LocalEngine } from '../src/replication/local-engine.ts';
import { StoreUnwritableError } from '../src/store/index.ts';
import type { DaemonConfig } from './config.ts';
import { ConfigError } from './config.ts';
import { loadOrCreateNodeId } from './identity.ts';
import { createConfiguredStore } from './stores.ts';
import { VERSION } from './version.ts';

/** A running daemon: its HTTP URL and a graceful stop. */
export interface Daemon {
  url: string;
  app: FastifyInstance;
  stop(): Promise<void>;
}

function readSecretFile(path: string, what: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (!text) throw new Error('file is empty');
    return text;
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

/**
 * The composition root: opens the store, builds the engine and the HTTP API, and listens.
 * Stop order: stop accepting requests, drain in-flight ones, then close the store.
 */
export async function startDaemon(cfg: DaemonConfig, logger: Logger): Promise<Daemon> {
  const adminToken = cfg.adminTokenFile ? readSecretFile(cfg.adminTokenFile, 'admin token file') : undefined;
  await prepareDataDir(cfg.dataDir);
  const store = createConfiguredStore(cfg);
  await store.open();
  let ready = false;
  const startedAt = Date.now();
  try {
    const nodeId = await loadOrCreateNodeId(store);
    const clock = createHlc({ node: nodeId });
    const engine = new LocalEngine({ store, clock });
    const registry = createMetricsRegistry();
    let url = '';
    const app = await createApi(
      {
        logger,
        engine,
        registry,
        ready: () => ready,
        status: () => ({
          peerId: nodeId,
          multiaddrs: [],
          zone: cfg.zone,
          store: store.kind,
          epoch: 0,
          peers: [],
          version: VERSION,
          httpUrl: url,
          uptimeMs: Date.now() - startedAt,
          ready,
        }),
      },
      { zone: cfg.zone, maxValueBytes: cfg.maxValueBytes, adminToken, version: VERSION },
    );
    await app.listen({ host: cfg.httpHost, port: cfg.httpPort });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
    url = `http://${cfg.httpHost.includes(':') ? `[${cfg.httpHost}]` : cfg.httpHost}:${port}`;
    ready = true;
    return {
      url,
      app,
      async stop() {
        ready = false;
        await app.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}
