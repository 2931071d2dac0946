// bench:cluster — (a) quorum PUT/GET on a 3-daemon loopback cluster against one daemon, with autocannon
//     (the cluster's load spread over its three daemons, and for reference all through one), each also
//     at half its saturated rate for p50/p99 below saturation, with CPU µs per request per daemon;
// (b) bulk-stream MB/s between two Nets with the cluster secret, as a daemon runs them (TLS-PSK side
//     channel), against a raw node:net socket pair in the same run, and records/s through the stream;
//     the libp2p stream path (pnet on / off) for reference;
// (c) time for a restarted daemon to get 1,000 records it missed.
// Targets: cluster GET >= 0.4x, PUT >= 0.3x one daemon, p99 at half rate < 5 ms; bulk >= 0.5x raw TCP; >= 50k records/s per stream; 1,000-record sync < 500 ms.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { type Cluster, startCluster } from '../test/support/cluster.ts';
import { type LoadResult, recordGets, recordPuts } from './support/autocannon.ts';
import { bulkBench } from './support/bulk-bench.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 64);
const SYNC_RECORDS = 1000;
const value = Buffer.alloc(100, 'v');

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Runs `fn` with a deadline; a failure or timeout becomes `{ ok: false, reason }` so the other parts still run. */
async function bounded<T>(name: string, ms: number, fn: () => Promise<T>): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${name}: no result within ${ms / 1000} s`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([fn(), timeout]) };
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    console.error(`${name}: ${reason}`);
    return { ok: false, reason };
  } finally {
    clearTimeout(timer);
  }
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const put = (url: string, key: string, consistency: string, body: Buffer<ArrayBuffer> = value) =>
  fetch(`${url}/v1/records/${encodeURIComponent(key)}?consistency=${consistency}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/octet-stream' },
    signal: AbortSignal.timeout(10_000),
  }).then(async (r) => {
    await r.arrayBuffer();
    if (r.status >= 300) throw new Error(`PUT ${key} answered ${r.status}`);
  });

/** Runs `fn` over `items` with `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** The saturating GET and PUT runs, then each again at half its saturated rate (for p50/p99 below saturation). */
async function httpLoad(label: string, urls: string[], pids: Array<number | undefined>): Promise<HttpParts> {
  await pool(
    Array.from({ length: 1000 }, (_, i) => `k${i}`),
    16,
    (k) => put(urls[0], k, 'quorum'),
  );
  // autocannon spreads its connections over several URLs at run time; its types take one
  const url = (urls.length === 1 ? urls[0] : urls) as string;
  const get = await recordGets(`${label} GET quorum`, url, SECONDS, '?consistency=quorum', { pids });
  const putRun = await recordPuts(`${label} PUT quorum`, url, SECONDS, value, '?consistency=quorum', { pids });
  const half = (r: LoadResult) => ({ pids, ratePerSec: Math.max(1, Math.round(r.reqPerSec / 2)) });
  const getHalf = await recordGets(`${label} GET quorum, half rate`, url, SECONDS, '?consistency=quorum', half(get));
  const putHalf = await recordPuts(
    `${label} PUT quorum, half rate`,
    url,
    SECONDS,
    value,
    '?consistency=quorum',
    half(putRun),
  );
  return { get, put: putRun, getHalfRate: getHalf, putHalfRate: putHalf };
}

interface HttpParts {
  get: LoadResult;
  put: LoadResult;
  getHalfRate: LoadResult;
  putHalfRate: LoadResult;
}

const pidsOf = (c: Cluster) => c.daemons.map((d) => d.proc.pid);

async function httpSingle() {
  const c = await startCluster({ n: 1, durability: 'os', logLevel: 'error' });
  try {
    return await httpLoad('1 daemon', [c.daemons[0].url], pidsOf(c));
  } finally {
    await c.stopAll();
  }
}

/** Clients of a cluster talk to every daemon: the load is spread over the three (and, for reference, all through one). */
async function httpCluster() {
  const c = await startCluster({ n: 3, durability: 'os', logLevel: 'error' });
  try {
    const spread = await httpLoad(
      '3-daemon cluster',
      c.daemons.map((d) => d.url),
      pidsOf(c),
    );
    const get = await recordGets(
      '3-daemon cluster GET quorum, one entry daemon',
      c.daemons[0].url,
      SECONDS,
      '?consistency=quorum',
      { pids: pidsOf(c) },
    );
    const putRun = await recordPuts(
      '3-daemon cluster PUT quorum, one entry daemon',
      c.daemons[0].url,
      SECONDS,
      value,
      '?consistency=quorum',
      { pids: pidsOf(c) },
    );
    return { ...spread, oneEntry: { get, put: putRun } };
  } finally {
    await c.stopAll();
  }
}

/**
 * Walks `keys` with 8 GETs in flight at consistency=one until each answers with its value (a missing
 * one is retried every 10 ms), so the poll itself loads the daemon little. Returns the GET count.
 */
async function scanUntilPresent(url: string, keys: string[], body: (k: string) => Buffer, deadline: number) {
  let requests = 0;
  await pool(keys, 8, async (k) => {
    for (;;) {
      const r = await fetch(`${url}/v1/records/${encodeURIComponent(k)}?consistency=one`, {
        signal: AbortSignal.timeout(5_000),
      });
      requests++;
      const got = Buffer.from(await r.arrayBuffer());
      if (r.status === 200 && got.equals(body(k))) return;
      if (Date.now() > deadline) throw new Error(`${url} still lacks ${k} (and maybe more) at the deadline`);
      await new Promise((res) => setTimeout(res, 10));
    }
  });
  return requests;
}

async function syncBench() {
  const c = await startCluster({ n: 2, durability: 'os', logLevel: 'error' });
  try {
    const [a] = c.daemons;
    await c.kill9(1);
    const keys = Array.from({ length: SYNC_RECORDS }, (_, i) => `sync:${i}`);
    const body = (k: string): Buffer<ArrayBuffer> => Buffer.from(`value-of-${k}`.padEnd(100, '.'));
    await pool(keys, 16, (k) => put(a.url, k, 'one', body(k)));
    // The same scan against A (which has every record) is the floor of this measurement.
    const tf = performance.now();
    await scanUntilPresent(a.url, keys, body, Date.now() + 10_000);
    const pollFloorMs = Math.round(performance.now() - tf);
    const t0 = performance.now();
    const b = await c.restart(1);
    const tReady = performance.now();
    const requests = await scanUntilPresent(b.url, keys, body, Date.now() + 30_000);
    const tDone = performance.now();
    return {
      records: SYNC_RECORDS,
      restartToReadyMs: Math.round(tReady - t0),
      readyToAllPresentMs: Math.round(tDone - tReady),
      restartToAllPresentMs: Math.round(tDone - t0),
      pollFloorMs,
      pollRequests: requests,
      note: 'B is scanned at consistency=one (served from its own store), 8 GETs in flight, a missing key retried every 10 ms; pollFloorMs is the same scan on A',
    };
  } finally {
    await c.stopAll();
  }
}

const loadavgAtStart = loadavg().map((x) => round(x, 2));
const parts = (process.env.BENCH_PARTS ?? 'http,bulk,sync').split(','); // e.g. BENCH_PARTS=bulk
const skip = async (): Promise<never> => Promise.reject(new Error('skipped (BENCH_PARTS)'));
const single = await bounded('http single daemon', 90_000, parts.includes('http') ? httpSingle : skip);
const cluster = await bounded('http 3-daemon cluster', 120_000, parts.includes('http') ? httpCluster : skip);
const bulk = await bounded('bulk stream', 180_000, parts.includes('bulk') ? bulkBench : skip);
const sync = await bounded('sync 1,000 records', 90_000, parts.includes('sync') ? syncBench : skip);

const val = <T>(o: Outcome<T>) => (o.ok ? o.value : null);
const why = <T>(o: Outcome<T>) => (o.ok ? undefined : o.reason);
const ratio = (x: number | undefined, y: number | undefined) => (x && y ? round(x / y, 3) : null);
const s = val(single);
const c = val(cluster);
const bk = val(bulk);
const sy = val(sync);
const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    node: process.version,
    loadavgAtStart,
    loadavgAtEnd: loadavg().map((x) => round(x, 2)),
  },
  http: { seconds: SECONDS, single: s, cluster: c, reason: why(single) ?? why(cluster) },
  bulk: bk?.bytes ?? null,
  records: bk?.records ?? null,
  bulkReason: why(bulk),
  sync: sy,
  syncReason: why(sync),
  ratios: {
    clusterGetVsSingle: ratio(c?.get.reqPerSec, s?.get.reqPerSec),
    clusterPutVsSingle: ratio(c?.put.reqPerSec, s?.put.reqPerSec),
    clusterOneEntryGetVsSingle: ratio(c?.oneEntry.get.reqPerSec, s?.get.reqPerSec),
    clusterOneEntryPutVsSingle: ratio(c?.oneEntry.put.reqPerSec, s?.put.reqPerSec),
    bulkVsRawTcp: ratio(bk?.bytes.bulkMBps, bk?.bytes.rawTcpMBps),
    bulkVsRawTcpWithRecordsHeap: ratio(bk?.bytes.withRecordsHeap.bulkMBps, bk?.bytes.withRecordsHeap.rawTcpMBps),
    libp2pPnetVsRawTcp: ratio(bk?.bytes.libp2pPnetMBps, bk?.bytes.rawTcpMBps),
    recordsVsRawTcp: ratio(bk?.records.bulkRecordsPerSec, bk?.records.rawTcpRecordsPerSec),
  },
  targets: {
    clusterGetVsSingle: 0.4,
    clusterPutVsSingle: 0.3,
    clusterP99AtHalfRateMs: 5,
    bulkVsRawTcp: 0.5,
    bulkRecordsPerSec: 50_000,
    syncReadyToAllPresentMs: 500,
  },
};

// Parts not run this time (BENCH_PARTS) keep their previous results, marked with the date they were measured.
const previous = ((): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(resolve(ROOT, 'bench/results/cluster.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
})();
const carriedOver: Record<string, unknown> = {};
const keep = (part: string, measured: unknown, keys: string[], ratioKeys: string[]) => {
  if (parts.includes(part) || measured == null) return;
  const out = results as Record<string, unknown>;
  for (const k of keys) out[k] = previous[k];
  const prevRatios = (previous.ratios ?? {}) as Record<string, unknown>;
  for (const k of ratioKeys) (results.ratios as Record<string, unknown>)[k] = prevRatios[k] ?? null;
  carriedOver[part] = (previous.carriedOver as Record<string, unknown> | undefined)?.[part] ?? previous.date;
};
const prevHttp = previous.http as { single?: unknown } | undefined;
keep(
  'http',
  prevHttp?.single,
  ['http'],
  ['clusterGetVsSingle', 'clusterPutVsSingle', 'clusterOneEntryGetVsSingle', 'clusterOneEntryPutVsSingle'],
);
keep(
  'bulk',
  previous.bulk,
  ['bulk', 'records', 'bulkReason'],
  ['bulkVsRawTcp', 'bulkVsRawTcpWithRecordsHeap', 'libp2pPnetVsRawTcp', 'recordsVsRawTcp'],
);
keep('sync', previous.sync, ['sync', 'syncReason'], []);
if (Object.keys(carriedOver).length > 0) (results as Record<string, unknown>).carriedOver = carriedOver;

const runs = [s?.get, s?.put, s?.getHalfRate, s?.putHalfRate, c?.get, c?.put, c?.getHalfRate, c?.putHalfRate];
for (const r of [...runs, c?.oneEntry.get, c?.oneEntry.put]) {
  if (r)
    console.log(
      `${r.name.padEnd(48)} ${String(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  errors ${r.errors} non2xx ${r.non2xx}` +
        (r.cpuUsPerRequest ? `  CPU µs/request per daemon ${r.cpuUsPerRequest.join(' / ')}` : ''),
    );
}
if (bk) {
  console.log(
    `bulk ${BULK_MB} MB: raw TCP ${bk.bytes.rawTcpMBps} MB/s, side channel ${bk.bytes.bulkMBps} MB/s (window ${bk.bytes.windowKiB} KiB), ${bk.bytes.bulkWindow4MiBMBps} MB/s (4 MiB window); libp2p stream ${bk.bytes.libp2pPnetMBps} MB/s with pnet, ${bk.bytes.libp2pNoPnetMBps} MB/s without`,
  );
  const late = bk.bytes.withRecordsHeap;
  console.log(`  with the records' heap alive: raw TCP ${late.rawTcpMBps} MB/s, side channel ${late.bulkMBps} MB/s`);
  console.log(`records: raw TCP ${bk.records.rawTcpRecordsPerSec}/s, side channel ${bk.records.bulkRecordsPerSec}/s`);
}
if (sy)
  console.log(
    `sync ${sy.records} records: ${sy.readyToAllPresentMs} ms after B was ready (${sy.restartToAllPresentMs} ms from restart; poll floor ${sy.pollFloorMs} ms)`,
  );
const r = results.ratios;
console.log(
  `ratios: cluster/single GET ${r.clusterGetVsSingle} (target >= 0.4), PUT ${r.clusterPutVsSingle} (target >= 0.3), ` +
    `p99 at half rate GET ${c?.getHalfRate.p99Ms ?? 'n/a'} / PUT ${c?.putHalfRate.p99Ms ?? 'n/a'} ms (target < 5); ` +
    `through one entry daemon GET ${r.clusterOneEntryGetVsSingle}, PUT ${r.clusterOneEntryPutVsSingle}; bulk/raw ${r.bulkVsRawTcp} (target >= 0.5); ` +
    `records ${bk?.records.bulkRecordsPerSec ?? 'n/a'}/s (target >= 50000); sync ${sy?.readyToAllPresentMs ?? 'n/a'} ms (target < 500)`,
);
mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench/results/cluster.json'), `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
