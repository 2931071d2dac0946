/**
 * `shoal stats <import|top> ...`: loads an access trace into the stats structures and persists them in a data
 * directory's store, or prints the hottest records: of a running daemon through its admin API
 * (`stats-top.ts`), or, with `--data-dir`, from a stopped daemon's persisted stats.
 *
 * Trace rows become `record(key, op, zone, app, size, ts_ms)` with zone = the origin mapped by `--zones`
 * (default: one zone per origin value) and app = the raw origin value (the closest thing to an app or tenant
 * tag a trace has). Time is the trace's: buckets are cut on `ts_ms`, and rows older than the open bucket
 * (unsorted traces) are counted in the open bucket. The store is the level store of the data directory
 * (`<data-dir>/level`, the same place `shoal start --store level` uses); stop the daemon first (lock).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createStats, readPersistedMeta, type Stats } from '../../src/stats/index.ts';
import { identityZone, loadZoneMapping, readTrace } from '../../src/stats/trace.ts';
import type { Store } from '../../src/store/index.ts';
import { progressBar } from '../progress.ts';
import { HELP_OPTION, printedHelp, renamedFlag, subUsage } from '../usage.ts';
import { fmtWindow, TOP_CLIENT_USAGE, topFromDaemon, windowFlag } from './stats-top.ts';

const LINES: Record<string, string> = {
  import: `  shoal stats import --trace <csv[.gz]> [--data-dir ./data] [--zones <mapping.json>] [--stats-bucket-ms 60000]
                     [--memory-mb 32] [--json]
      load an access trace into the persisted stats of a data directory (stop its daemon first);
      --stats-bucket-ms as shoal start's (--bucket-ms is its older name)
`,
  top: TOP_CLIENT_USAGE,
};
const USAGE = subUsage(LINES);
const helped = (sub: string, values: { help?: boolean }) => printedHelp(LINES, sub, values);

class UsageError extends Error {}

const silent = { debug() {}, info() {}, warn() {}, error() {} } as const;

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

async function withStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = createLevelStore({ location: join(dataDir, 'level'), durability: 'fsync' });
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function printTop(stats: Stats, q: { zone?: string; windowMs: number; limit: number }): void {
  const rows = stats.top(q);
  if (rows.length === 0) process.stdout.write('  (no accesses in the window)\n');
  for (const r of rows) {
    process.stdout.write(
      `  ${String(r.total).padStart(9)}  r ${String(r.reads).padStart(8)}  w ${String(r.writes).padStart(8)}  ${r.key}\n`,
    );
  }
}

async function importTrace(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      trace: { type: 'string' },
      'data-dir': { type: 'string', default: './data' },
      zones: { type: 'string' },
      'stats-bucket-ms': { type: 'string' },
      'bucket-ms': { type: 'string' },
      'memory-mb': { type: 'string' },
      json: { type: 'boolean', default: false },
      ...HELP_OPTION,
    },
  });
  if (helped('import', values)) return 0;
  if (!values.trace) throw new UsageError('--trace is required');
  const zoneOf = values.zones ? await loadZoneMapping(values.zones) : identityZone;
  let now = 0;
  const stats = createStats(
    { logger: silent, clock: () => now },
    {
      bucketMs: num(renamedFlag(values, 'stats-bucket-ms', 'bucket-ms'), 'stats-bucket-ms', 60_000),
      memoryBudgetBytes: num(values['memory-mb'], 'memory-mb', 32) * 1024 * 1024,
    },
  );
  const bar = progressBar('importing {value} rows | {keys} keys | {zones} zones', { fps: 5 });
  const keys = new Set<string>();
  const KEY_SET_LIMIT = 5_000_000;
  let rows = 0;
  let first = Number.POSITIVE_INFINITY;
  bar.start(0, 0, { keys: 0, zones: 0 });
  try {
    for await (const row of readTrace(values.trace)) {
      now = Math.max(now, row.tsMs);
      first = Math.min(first, row.tsMs);
      stats.record(row.key, row.op, zoneOf(row.origin), row.origin, row.size, row.tsMs);
      if (keys.size < KEY_SET_LIMIT) keys.add(row.key);
      if ((++rows & 4095) === 0)
        bar.update(rows, { keys: keys.size, zones: Object.keys(stats.summary().zones).length });
    }
  } finally {
    bar.stop();
  }
  const summary = stats.summary();
  const spanMs = rows ? now - first + 1 : 0;
  await withStore(values['data-dir'], (store) => stats.persist(store));
  const hot = stats.top({ windowMs: Math.max(spanMs, stats.bucketMs), limit: 10 });
  const report = {
    rows,
    keys: keys.size,
    keysExact: keys.size < KEY_SET_LIMIT,
    zones: Object.keys(summary.zones),
    spanMs,
    trackedKeys: summary.trackedKeys,
    seriesKeys: summary.seriesKeys,
    memoryBytes: summary.memoryBytes,
    hot,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  process.stdout.write(
    `imported ${rows} rows, ${keys.size}${report.keysExact ? '' : '+'} keys, ${report.zones.length} zones ` +
      `(${report.zones.join(', ')}) over ${(spanMs / 3_600_000).toFixed(2)} h into ${values['data-dir']}\n` +
      `tracked ${summary.trackedKeys} hot keys, ${summary.seriesKeys} with series, ` +
      `${(summary.memoryBytes / 2 ** 20).toFixed(1)} MiB\nhottest records over the trace:\n`,
  );
  printTop(stats, { windowMs: Math.max(spanMs, stats.bucketMs), limit: 10 });
  return 0;
}

/** Offline (`--data-dir` given: the daemon must be stopped) or a client of the running daemon. */
async function top(argv: string[]): Promise<number> {
  const offline = argv.some((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  return offline ? topOffline(argv) : topFromDaemon(argv);
}

async function topOffline(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: './data' },
      zone: { type: 'string' },
      window: { type: 'string' },
      'window-ms': { type: 'string' },
      limit: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...HELP_OPTION,
    },
  });
  if (helped('top', values)) return 0;
  const q = {
    zone: values.zone,
    windowMs: windowFlag(values) ?? 3_600_000,
    limit: Math.floor(num(values.limit, 'limit', 10)),
  };
  return withStore(values['data-dir'], async (store) => {
    const meta = await readPersistedMeta(store);
    if (!meta) {
      process.stderr.write(`shoal stats: no persisted stats in ${values['data-dir']}\n`);
      return 1;
    }
    // Default "now": the last persisted bucket, so that an imported trace's history is inside the window.
    const now = values.at === undefined ? meta.openBucketStartMs : num(values.at, 'at', 0);
    const stats = createStats({ logger: silent, clock: () => now }, { bucketMs: meta.bucketMs });
    await stats.load(store);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(stats.top(q))}\n`);
      return 0;
    }
    process.stdout.write(
      `hottest records${q.zone ? ` from ${q.zone}` : ''} in the ${fmtWindow(q.windowMs)} before ${new Date(now).toISOString()}:\n`,
    );
    printTop(stats, q);
    return 0;
  });
}

/** Entry point: argv = the words after `stats`. Returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv[0] === 'stats' ? argv.slice(1) : argv;
  try {
    if (sub === 'import') return await importTrace(rest);
    if (sub === 'top') return await top(rest);
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown subcommand "${sub}"`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`shoal stats: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
