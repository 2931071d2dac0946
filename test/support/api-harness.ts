import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { type Access, type ApiOptions, createApi, createMetricsRegistry } from '../../src/api/index.ts';
import { createHlc } from '../../src/crdt/hlc.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
import type { Store } from '../../src/store/index.ts';

/** The `/admin/status` of a test app: one daemon that is ready. */
export const testStatus = () => ({
  peerId: 'p1',
  multiaddrs: [],
  zone: 'z1',
  store: 'level',
  epoch: 0,
  peers: [],
  version: 'test',
  httpUrl: '',
  uptimeMs: 0,
  ready: true,
});

export interface ApiHarness {
  app: FastifyInstance;
  store: Store;
  accesses: Access[];
  close(): Promise<void>;
}

/** A data API over a fresh level store, for `app.inject()` tests. */
export async function apiHarness(options: Omit<ApiOptions, 'zone'> = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-api-'));
  const store = createLevelStore({ location: join(dir, 'db'), durability: 'os' });
  await store.open();
  // With a read cache, as the daemon runs by default: every API test also checks cache invalidation.
  const engine = new LocalEngine({ store, clock: createHlc({ node: 'n1' }) }, { readCacheBytes: 1024 * 1024 });
  const accesses: Access[] = [];
  const app = await createApi(
    {
      logger: pino({ level: 'silent' }),
      engine,
      registry: createMetricsRegistry(),
      ready: () => true,
      onAccess: (a) => accesses.push(a),
      status: testStatus,
    },
    { zone: 'z1', ...options },
  );
  return {
    app,
    store,
    accesses,
    async close() {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const recUrl = (key: string, query = '') => `/v1/records/${encodeURIComponent(key)}${query}`;
