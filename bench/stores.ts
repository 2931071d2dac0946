/**
 * `npm run bench:stores`: put, get and scan throughput of every store plugin against its raw library
 * called directly in the same run (classic-level, a node:sqlite statement, a pg query, the S3 client),
 * on the same data: N records of 1 KiB with 16-byte keys, durability 'os' everywhere (level without
 * sync, SQLite WAL + synchronous=NORMAL, PostgreSQL synchronous_commit=off; S3 has no knob).
 *
 * - put: N upserts, get: N point reads in a shuffled order, both with CONCURRENCY calls in flight;
 *   scan: every record once, in pages of 1000 (records/s). Each op runs twice, raw (and its alt) and
 *   plugin alternating, and the best round of each side counts.
 * - The reference does the work the plugin must do, in the plugin's API style: level stores values as
 *   long as the plugin's entries (value + metadata header), writes through the same group-commit queue
 *   and reads with getSync; postgres uses a table of the same columns; S3 objects carry user metadata
 *   as long as the plugin's. The other styles (db.put, async db.get, a (key, value) table of 1 KiB
 *   values) are measured in the same rounds and reported as `alt`. sqlite: a (key, value) table.
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
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ClassicLevel } from 'classic-level';
import pg from 'pg';
import { encodeEntry } from '../plugins/store-level/codec.ts';
import { GroupCommit } from '../plugins/store-level/group-commit.ts';
import { createLevelStore } from '../plugins/store-level/index.ts';
import { createPostgresStore } from '../plugins/store-postgres/index.ts';
import { putParams, statements } from '../plugins/store-postgres/sql.ts';
import { createS3Store } from '../plugins/store-s3/index.ts';
import { encodeMeta } from '../plugins/store-s3/meta.ts';
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
  /** Other raw API styles, reported beside the reference: [label, op]. */
  alt?: Partial<Record<'put' | 'get', [string, (i: number) => unknown]>>;
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

// The plugin stores a header (metadata) before each value: the raw side stores values of the same size.
const levelValue = randomBytes(encodeEntry(record).length);
const level: Backend = {
  name: 'level',
  records: N,
  raw: async () => {
    const db = new ClassicLevel<Buffer, Buffer>(join(await tempDir(), 'raw'), {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    await db.open();
    // The plugin gathers concurrent puts into one batch (group commit) and reads with getSync: the
    // reference does the same through the same queue; db.put and async db.get are reported as alt.
    const commits = new GroupCommit((ops) => db.batch(ops as Array<{ type: 'put'; key: Buffer; value: Buffer }>));
    return {
      put: (i) => commits.submit([{ type: 'put', key: keyOf(i), value: levelValue }]),
      get: (i) => db.getSync(keyOf(i)),
      page: async (after) => {
        const rows = await db.iterator(after ? { gt: after, limit: PAGE } : { limit: PAGE }).all();
        return { n: rows.length, last: rows.length === PAGE ? rows[rows.length - 1][0] : undefined };
      },
      alt: {
        put: ['db.put', (i) => db.put(keyOf(i), levelValue)],
        get: ['db.get (async)', (i) => db.get(keyOf(i))],
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

const pgTables = {
  raw: `bench_raw_${process.pid}`,
  kv: `bench_kv_${process.pid}`,
  plugin: `bench_plugin_${process.pid}`,
};
const postgres: Backend = {
  name: 'postgres',
  records: N,
  // The reference stores what the plugin must store: a table of the same columns (the metadata beside
  // the value), the same upsert and point read, as named queries through the pool; a (key, value) table
  // of 1 KiB values is reported as alt, to show what the metadata columns cost.
  raw: async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 10, options: '-c synchronous_commit=off' });
    const sql = statements('public', pgTables.raw);
    const kv = `"${pgTables.kv}"`;
    const kvPut = `INSERT INTO ${kv} VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
    await pool.query(sql.migrations[0]);
    await pool.query(`CREATE TABLE ${kv} (key bytea PRIMARY KEY, value bytea NOT NULL)`);
    const q = (name: string, text: string, values: unknown[]) => pool.query({ name, text, values, rowMode: 'array' });
    const cols = 'key, version, type, content_type, size, checksum, created_at, updated_at, tombstone, value';
    const scan = `SELECT ${cols} FROM "${pgTables.raw}" WHERE key > $1 ORDER BY key LIMIT $2`;
    return {
      put: (i) => q('raw_put', sql.put, putParams(keyOf(i), record)),
      get: (i) => q('raw_get', sql.get, [keyOf(i)]),
      page: async (after) => {
        const rows = (await q('raw_scan', scan, [after ?? Buffer.alloc(0), PAGE])).rows as Buffer[][];
        return { n: rows.length, last: rows.length === PAGE ? rows[rows.length - 1][0] : undefined };
      },
      alt: {
        put: ['(key, value) table', (i) => q('kv_put', kvPut, [keyOf(i), value])],
        get: ['(key, value) table', (i) => q('kv_get', `SELECT value FROM ${kv} WHERE key = $1`, [keyOf(i)])],
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
      // The plugin stores the metadata as one user-metadata field: the reference stores one as long.
      const Metadata = { shoal: encodeMeta(record.meta) };
      return {
        put: (i) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: name(i), Body: value, Metadata })),
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
          // the same bounded parallelism as the plugin's scan: 16 GETs in flight
          let next = 0;
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (next < keys.length) await get(keys[next++]);
            }),
          );
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
  /** Another raw API style, same run: its label, ops/s, and plugin ÷ it. */
  alt?: { api: string; rawOpsPerSec: number; ratio: number };
}

const perSec = (x: number) => Math.round(x).toString().padStart(8);
const ratioOf = (p: number, r: number) => Math.round((p / r) * 1000) / 1000;

async function measure(b: Backend): Promise<Result[]> {
  const order = shuffled(b.records);
  const raw = await b.raw();
  const plugin = await b.plugin();
  const out: Result[] = [];
  const add = (op: Result['op'], [r, p, a]: readonly [number, number, number], api?: string) => {
    const alt = api ? { api, rawOpsPerSec: Math.round(a), ratio: ratioOf(p, a) } : undefined;
    const res = { backend: b.name, op, records: b.records, rawOpsPerSec: Math.round(r) };
    out.push({ ...res, pluginOpsPerSec: Math.round(p), ratio: ratioOf(p, r), ...(alt ? { alt } : {}) });
    const altText = alt ? `  (${alt.api} ${perSec(a)}/s, ratio ${(p / a).toFixed(2)})` : '';
    console.log(
      `${b.name.padEnd(9)} ${op.padEnd(5)} raw ${perSec(r)}/s  plugin ${perSec(p)}/s  ratio ${(p / r).toFixed(2)}${altText}`,
    );
  };
  // Best of 2 rounds, raw (and its alt) and plugin alternating, so warm-up and drift favour neither side.
  const rounds = 2;
  const best = async (fn: (t: Target) => Promise<number>, alt?: () => Promise<number>) => {
    let r = 0;
    let p = 0;
    let a = 0;
    for (let round = 0; round < rounds; round++) {
      r = Math.max(r, await fn(raw));
      if (alt) a = Math.max(a, await alt());
      p = Math.max(p, await fn(plugin));
    }
    return [r, p, a] as const;
  };
  const ops = (fn: (i: number) => unknown) => runOps(b.records, order, fn);
  const altOps = (op: 'put' | 'get') => {
    const alt = raw.alt?.[op];
    return alt ? ([() => ops(alt[1]), alt[0]] as const) : ([undefined, undefined] as const);
  };
  try {
    const [putAlt, putApi] = altOps('put');
    add('put', await best((t) => ops(t.put), putAlt), putApi);
    const [getAlt, getApi] = altOps('get');
    add('get', await best((t) => ops(t.get), getAlt), getApi);
    add('scan', await best((t) => scanAll(t, b.records)));
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
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
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
    // 1, 5 and 15-minute load averages of the host before and after the run (it is shared).
    loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
    target: 0.7,
    results,
    skipped,
  };
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
