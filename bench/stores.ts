/**
 * `npm run bench:stores`: put, get and scan throughput of every store plugin against its raw library
 * called directly in the same run (classic-level, a node:sqlite statement, a pg query, the S3 client),
 * on the same data: N records of 1 KiB with 16-byte keys, durability 'os' everywhere (level without
 * sync, SQLite WAL + synchronous=NORMAL, PostgreSQL synchronous_commit=off; S3 has no knob).
 *
 * - put: N upserts, get: N point reads in a shuffled order, both with CONCURRENCY calls in flight;
 *   scan: every record once, in pages of 1000 (records/s). Each op runs twice (once for S3), raw and
 *   plugin alternating, and the best round of each side counts.
 * - N = 100,000 for level, sqlite and postgres, 5,000 for S3 (a local s3rver writes three files per
 *   object, so 100k would take minutes without telling more). Override with SHOAL_BENCH_RECORDS and
 *   SHOAL_BENCH_S3_RECORDS; run some backends only with SHOAL_BENCH_ONLY=sqlite,postgres.
 * - PostgreSQL from SHOAL_TEST_PG_URL (default postgres://shoal:shoal@127.0.0.1:5432/shoal_test, see
 *   .ci/postgres.sh); skipped with a message when unreachable. S3: s3rver started locally.
 *
 * Target: plugin ≥ 0.7 × raw for each op. Results: bench/results/stores.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ClassicLevel } from 'classic-level';
import pg from 'pg';
import { createLevelStore } from '../plugins/store-level/index.ts';
import { createPostgresStore } from '../plugins/store-postgres/index.ts';
import { createS3Store } from '../plugins/store-s3/index.ts';
import { createSqliteStore } from '../plugins/store-sqlite/index.ts';
import { makeRecord } from '../src/store/compliance.ts';
import type { Store } from '../src/store/index.ts';
import { startS3Server } from '../test/support/s3-server.ts';

const N = Number(process.env.SHOAL_BENCH_RECORDS ?? 100_000);
const N_S3 = Number(process.env.SHOAL_BENCH_S3_RECORDS ?? 5_000);
const VALUE_BYTES = 1024;
const CONCURRENCY = 32;
const PAGE = 1000;
/** Comma-separated backends to run (default all): level, sqlite, postgres, s3. */
const ONLY = new Set((process.env.SHOAL_BENCH_ONLY ?? 'level,sqlite,postgres,s3').split(','));
const PG_URL = process.env.SHOAL_TEST_PG_URL ?? 'postgres://shoal:shoal@127.0.0.1:5432/shoal_test';

const value = randomBytes(VALUE_BYTES);
const record = makeRecord(value);
const keyOf = (i: number) => Buffer.from(`k${i.toString().padStart(15, '0')}`);

/** One side of a comparison: the raw library or the plugin. */
interface Target {
  put(i: number): Promise<unknown> | unknown;
  get(i: number): Promise<unknown> | unknown;
  /** Reads one page after `after` (undefined: from the start); returns its size and last key. */
  page(after: Buffer | undefined): Promise<{ n: number; last?: Buffer }> | { n: number; last?: Buffer };
  close(): Promise<void> | void;
}

interface Backend {
  name: string;
  records: number;
  raw: () => Promise<Target>;
  plugin: () => Promise<Target>;
  cleanup?: () => Promise<void>;
}

function storeTarget(store: Store): Target {
  return {
    put: (i) => store.put(keyOf(i), record),
    get: (i) => store.get(keyOf(i)),
    page: async (after) => {
      const res = await store.scan({ after, limit: PAGE });
      return { n: res.entries.length, last: res.cursor ? Buffer.from(res.cursor) : undefined };
    },
    close: () => store.close(),
  };
}

async function runOps(n: number, order: number[], fn: (i: number) => unknown): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(order[next++]);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function scanAll(t: Target, n: number): Promise<number> {
  const start = performance.now();
  let seen = 0;
  let after: Buffer | undefined;
  for (;;) {
    const { n: got, last } = await t.page(after);
    seen += got;
    if (!last || got === 0) break;
    after = last;
  }
  if (seen !== n) throw new Error(`scan saw ${seen} records, expected ${n}`);
  return seen / ((performance.now() - start) / 1000);
}

function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-'));
  dirs.push(dir);
  return dir;
}

const level: Backend = {
  name: 'level',
  records: N,
  raw: async () => {
    const db = new ClassicLevel<Buffer, Buffer>(join(await tempDir(), 'raw'), {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    await db.open();
    return {
      put: (i) => db.put(keyOf(i), value),
      get: (i) => db.get(keyOf(i)),
      page: async (after) => {
        const rows = await db.iterator(after ? { gt: after, limit: PAGE } : { limit: PAGE }).all();
        return { n: rows.length, last: rows.length === PAGE ? rows[rows.length - 1][0] : undefined };
      },
      close: () => db.close(),
    };
  },
  plugin: async () => {
    const store = createLevelStore({ location: join(await tempDir(), 'plugin'), durability: 'os' });
    await store.open();
    return storeTarget(store);
  },
};

const sqlite: Backend = {
  name: 'sqlite',
  records: N,
  raw: async () => {
    const db = new DatabaseSync(join(await tempDir(), 'raw.sqlite'));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)');
    const put = db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    const get = db.prepare('SELECT value FROM kv WHERE key = ?');
    const scan = db.prepare('SELECT key, value FROM kv WHERE key > ? ORDER BY key LIMIT ?');
    return {
      put: (i) => put.run(keyOf(i), value),
      get: (i) => get.get(keyOf(i)),
      page: (after) => {
        const rows = scan.all(after ?? new Uint8Array(0), PAGE);
        return { n: rows.length, last: rows.length === PAGE ? (rows[rows.length - 1].key as Buffer) : undefined };
      },
      close: () => db.close(),
    };
  },
  plugin: async () => {
    const store = createSqliteStore({ path: join(await tempDir(), 'plugin.sqlite'), durability: 'os' });
    await store.open();
    return storeTarget(store);
  },
};

const pgTables = { raw: `bench_raw_${process.pid}`, plugin: `bench_plugin_${process.pid}` };
const postgres: Backend = {
  name: 'postgres',
  records: N,
  raw: async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 10, options: '-c synchronous_commit=off' });
    const t = `"${pgTables.raw}"`;
    await pool.query(`CREATE TABLE ${t} (key bytea PRIMARY KEY, value bytea NOT NULL)`);
    const q = (name: string, text: string, values: unknown[]) => pool.query({ name, text, values });
    return {
      put: (i) =>
        q(
          'raw_put',
          `INSERT INTO ${t} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          [keyOf(i), value],
        ),
      get: (i) => q('raw_get', `SELECT value FROM ${t} WHERE key = $1`, [keyOf(i)]),
      page: async (after) => {
        const res = await q('raw_scan', `SELECT key, value FROM ${t} WHERE key > $1 ORDER BY key LIMIT $2`, [
          after ?? Buffer.alloc(0),
          PAGE,
        ]);
        const rows = res.rows as Array<{ key: Buffer }>;
        return { n: rows.length, last: rows.length === PAGE ? rows[rows.length - 1].key : undefined };
      },
      close: () => pool.end(),
    };
  },
  plugin: async () => {
    const store = createPostgresStore({
      connectionString: PG_URL,
      table: pgTables.plugin,
      poolSize: 10,
      durability: 'os',
    });
    await store.open();
    return storeTarget(store);
  },
  cleanup: async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const t of Object.values(pgTables)) {
      await client.query(`DROP TABLE IF EXISTS "${t}"`);
      await client.query('DELETE FROM shoal_migrations WHERE table_name = $1', [t]).catch(() => {});
    }
    await client.end();
  },
};

async function s3Backend(): Promise<Backend> {
  const server = await startS3Server(['bench']);
  const base = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
  return {
    name: 's3',
    records: N_S3,
    raw: async () => {
      const client = new S3Client({
        ...base,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      const name = (i: number) => `raw/${keyOf(i).toString('hex')}`;
      const get = async (key: string) => {
        const res = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: key }));
        return res.Body?.transformToByteArray();
      };
      return {
        put: (i) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: name(i), Body: value })),
        get: (i) => get(name(i)),
        page: async (after) => {
          const res = await client.send(
            new ListObjectsV2Command({
              Bucket: 'bench',
              Prefix: 'raw/',
              StartAfter: after ? `raw/${after.toString('hex')}` : undefined,
              MaxKeys: PAGE,
            }),
          );
          const keys = (res.Contents ?? []).map((o) => o.Key!);
          // the same bounded parallelism as the plugin's scan (16 GETs in flight)
          for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map(get));
          const last = res.IsTruncated ? Buffer.from(keys[keys.length - 1].slice(4), 'hex') : undefined;
          return { n: keys.length, last };
        },
        close: () => client.destroy(),
      };
    },
    plugin: async () => {
      const store = createS3Store({ ...base, bucket: 'bench', prefix: 'plugin/' });
      await store.open();
      return storeTarget(store);
    },
    cleanup: () => server.stop(),
  };
}

interface Result {
  backend: string;
  op: 'put' | 'get' | 'scan';
  records: number;
  rawOpsPerSec: number;
  pluginOpsPerSec: number;
  ratio: number;
}

async function measure(b: Backend): Promise<Result[]> {
  const order = shuffled(b.records);
  const raw = await b.raw();
  const plugin = await b.plugin();
  const out: Result[] = [];
  const add = (op: Result['op'], r: number, p: number) => {
    out.push({
      backend: b.name,
      op,
      records: b.records,
      rawOpsPerSec: Math.round(r),
      pluginOpsPerSec: Math.round(p),
      ratio: Math.round((p / r) * 1000) / 1000,
    });
    console.log(
      `${b.name.padEnd(9)} ${op.padEnd(5)} raw ${Math.round(r).toString().padStart(8)}/s  ` +
        `plugin ${Math.round(p).toString().padStart(8)}/s  ratio ${(p / r).toFixed(2)}`,
    );
  };
  // Best of ROUNDS, raw and plugin alternating, so warm-up and drift do not favour either side.
  const rounds = b.name === 's3' ? 1 : 2;
  const best = async (fn: (t: Target) => Promise<number>) => {
    let r = 0;
    let p = 0;
    for (let round = 0; round < rounds; round++) {
      r = Math.max(r, await fn(raw));
      p = Math.max(p, await fn(plugin));
    }
    return [r, p] as const;
  };
  try {
    add('put', ...(await best((t) => runOps(b.records, order, t.put))));
    add('get', ...(await best((t) => runOps(b.records, order, t.get))));
    add('scan', ...(await best((t) => scanAll(t, b.records))));
  } finally {
    await raw.close();
    await plugin.close();
    await b.cleanup?.();
  }
  return out;
}

async function pgReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const skipped: Record<string, string> = {};
  console.log(`stores bench: ${N} records (S3: ${N_S3}) of ${VALUE_BYTES} B, ${CONCURRENCY} in flight`);
  try {
    if (ONLY.has('level')) results.push(...(await measure(level)));
    if (ONLY.has('sqlite')) results.push(...(await measure(sqlite)));
    const pgProblem = ONLY.has('postgres') ? await pgReachable() : undefined;
    if (pgProblem) {
      skipped.postgres = `unreachable at ${PG_URL}: ${pgProblem} (run .ci/postgres.sh)`;
      console.log(`postgres skipped: ${skipped.postgres}`);
    } else if (ONLY.has('postgres')) {
      results.push(...(await measure(postgres)));
    }
    if (ONLY.has('s3')) results.push(...(await measure(await s3Backend())));
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
  const below = results.filter((r) => r.ratio < 0.7);
  console.log(below.length === 0 ? 'all ratios >= 0.7' : `below 0.7: ${below.map((r) => `${r.backend} ${r.op}`)}`);
  await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
  const file = join(import.meta.dirname, 'results', 'stores.json');
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    valueBytes: VALUE_BYTES,
    concurrency: CONCURRENCY,
    scanPage: PAGE,
    durability: 'os',
    target: 0.7,
    results,
    skipped,
  };
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
