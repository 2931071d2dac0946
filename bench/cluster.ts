// bench:cluster — (a) quorum PUT/GET on a 3-daemon loopback cluster against one daemon, with autocannon;
// (b) bulk-stream MB/s (pnet on) against a raw node:net socket pair, and records/s through the stream;
// (c) time for a restarted daemon to get 1,000 records it missed.
// Targets: bulk >= 0.5x raw TCP; >= 50k records/s per stream; 1,000-record sync < 500 ms.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { pino } from 'pino';
import { createNet, DEFAULT_WINDOW_BYTES, generateClusterSecret, type Net } from '../src/net/index.ts';
import { startCluster } from '../test/support/cluster.ts';
import { type LoadResult, recordGets, recordPuts } from './support/autocannon.ts';
import { rawTcpTransfer } from './support/raw-tcp.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 64);
const FRAME = 256 * 1024;
const RECORDS = 100_000;
const RECORD_VALUE = 100;
const SYNC_RECORDS = 1000;
const value = Buffer.alloc(100, 'v');
const logger = pino({ level: 'warn' });

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

async function httpLoad(label: string, url: string): Promise<{ get: LoadResult; put: LoadResult }> {
  await pool(
    Array.from({ length: 1000 }, (_, i) => `k${i}`),
    16,
    (k) => put(url, k, 'quorum'),
  );
  const get = await recordGets(`${label} GET quorum`, url, SECONDS, '?consistency=quorum');
  const putRun = await recordPuts(`${label} PUT quorum`, url, SECONDS, value, '?consistency=quorum');
  return { get, put: putRun };
}

async function httpSingle() {
  const c = await startCluster({ n: 1, durability: 'os', logLevel: 'error' });
  try {
    return await httpLoad('1 daemon', c.daemons[0].url);
  } finally {
    await c.stopAll();
  }
}

async function httpCluster() {
  const c = await startCluster({ n: 3, durability: 'os', logLevel: 'error' });
  try {
    return await httpLoad('3-daemon cluster', c.daemons[0].url);
  } finally {
    await c.stopAll();
  }
}

async function netPair(secret: Uint8Array | undefined): Promise<{ a: Net; b: Net; close: () => Promise<void> }> {
  const dirs = [mkdtempSync(join(tmpdir(), 'shoal-bench-')), mkdtempSync(join(tmpdir(), 'shoal-bench-'))];
  const base = { zone: 'z', capacity: 1, storeKind: 'none', apiUrl: 'http://127.0.0.1:1', clusterSecret: secret };
  const a = createNet({ logger }, { ...base, dataDir: dirs[0] });
  const b = createNet({ logger }, { ...base, dataDir: dirs[1] });
  await a.start();
  await b.start();
  await a.join(b.multiaddrs()[0]);
  return {
    a,
    b,
    close: async () => {
      await Promise.allSettled([a.stop(), b.stop()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const SINK = '/shoal/bench-sink/1.0.0';
const RECORD_SINK = '/shoal/bench-records/1.0.0';

/** Sends `frames` over a new bulk stream; returns ms until the receiver's result came back. */
async function bulkSend(a: Net, b: Net, protocol: string, frames: Iterable<Uint8Array>, windowBytes?: number) {
  const t0 = performance.now();
  let sent = 0;
  try {
    const s = await a.openBulk(b.peerId, protocol, { windowBytes });
    for (const f of frames) {
      await s.write(f);
      sent++;
    }
    const result = new TextDecoder().decode(await s.end({ timeoutMs: 60_000 }));
    return { ms: performance.now() - t0, result };
  } catch (err) {
    const at = `${protocol}, window ${windowBytes ?? 'default'}, after ${sent} frames, ${Math.round(performance.now() - t0)} ms`;
    throw new Error(`${(err as Error).message} (${at})`, { cause: err });
  }
}

/** Records in the transfer wire format (`[key, { v, m }]`), batched into ~256 KiB msgpack frames. */
function recordBatches(): Array<Array<[string, { v: Uint8Array; m: Record<string, unknown> }]>> {
  const now = Date.now();
  const batches: Array<Array<[string, { v: Uint8Array; m: Record<string, unknown> }]>> = [[]];
  let bytes = 0;
  for (let i = 0; i < RECORDS; i++) {
    const v = randomBytes(RECORD_VALUE);
    const m = {
      version: `${now.toString(16)}.0000.bench${i % 7}`,
      type: 'blob',
      contentType: 'application/octet-stream',
      size: RECORD_VALUE,
      checksum: randomBytes(32).toString('hex'),
      createdAt: now,
      updatedAt: now,
    };
    batches[batches.length - 1].push([`rec:${i.toString().padStart(8, '0')}`, { v, m }]);
    bytes += RECORD_VALUE + 12 + 200;
    if (bytes >= FRAME) {
      batches.push([]);
      bytes = 0;
    }
  }
  return batches.filter((b) => b.length > 0);
}

function countRecords(frame: Uint8Array): number {
  const batch = decode(frame);
  if (!Array.isArray(batch)) throw new Error('bad record frame');
  return batch.length;
}

/** The same bytes without a cluster secret (noise + yamux only): attributes the cost of pnet. */
async function bulkNoPnet(frames: Uint8Array[]): Promise<number> {
  const { a, b, close } = await netPair(undefined);
  try {
    await b.handleBulk(SINK, async (incoming) => {
      for await (const _ of incoming);
      return undefined;
    });
    await bulkSend(a, b, SINK, frames.slice(0, 16));
    return (await bulkSend(a, b, SINK, frames)).ms;
  } finally {
    await close();
  }
}

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function bulkBench() {
  const chunk = randomBytes(FRAME);
  const frames = Array.from({ length: (BULK_MB * 1024 * 1024) / FRAME }, () => chunk);
  const bytes = frames.length * FRAME;
  const mbps = (ms: number) => round(bytes / 1024 / 1024 / (ms / 1000));
  const batches = recordBatches();
  const { a, b, close } = await netPair(generateClusterSecret());
  try {
    await b.handleBulk(SINK, async (incoming) => {
      let n = 0;
      for await (const f of incoming) n += f.byteLength;
      return new TextEncoder().encode(String(n));
    });
    await b.handleBulk(RECORD_SINK, async (incoming) => {
      let n = 0;
      for await (const f of incoming) n += countRecords(f);
      return new TextEncoder().encode(String(n));
    });
    await rawTcpTransfer(frames.slice(0, 16)); // warm-up
    await bulkSend(a, b, SINK, frames.slice(0, 16));
    // Interleaved repetitions, median reported: the machine is shared, so single runs are noisy.
    const ms = {
      raw: [] as number[],
      bulk: [] as number[],
      wide: [] as number[],
      rawRec: [] as number[],
      rec: [] as number[],
    };
    for (let rep = 0; rep < REPEAT; rep++) {
      ms.raw.push((await rawTcpTransfer(frames)).ms);
      const bulk = await bulkSend(a, b, SINK, frames);
      if (Number(bulk.result) !== bytes) throw new Error(`bulk receiver got ${bulk.result} of ${bytes} bytes`);
      ms.bulk.push(bulk.ms);
      ms.wide.push((await bulkSend(a, b, SINK, frames, 4 * 1024 * 1024)).ms);
      // many small records: msgpack encode on the sender, decode on the receiver, both timed
      let n = 0;
      const t0 = performance.now();
      await rawTcpTransfer(
        batches.map((batch) => encode(batch)),
        { onFrame: (f) => (n += countRecords(f)) },
      );
      if (n !== RECORDS) throw new Error(`raw receiver decoded ${n} of ${RECORDS} records`);
      ms.rawRec.push(performance.now() - t0);
      const rec = await bulkSend(
        a,
        b,
        RECORD_SINK,
        (function* () {
          for (const batch of batches) yield encode(batch);
        })(),
      );
      if (Number(rec.result) !== RECORDS) throw new Error(`bulk receiver decoded ${rec.result} of ${RECORDS} records`);
      ms.rec.push(rec.ms);
    }
    const plain = await bulkNoPnet(frames);
    const perSec = (t: number) => Math.round(RECORDS / (t / 1000));
    return {
      bytes: {
        MB: BULK_MB,
        frameKiB: FRAME / 1024,
        repeat: REPEAT,
        rawTcpMBps: mbps(median(ms.raw)),
        bulkPnetMBps: mbps(median(ms.bulk)),
        windowKiB: DEFAULT_WINDOW_BYTES / 1024,
        bulkPnetWindow4MiBMBps: mbps(median(ms.wide)),
        bulkNoPnetMBps: mbps(plain),
        samplesMBps: { rawTcp: ms.raw.map(mbps), bulkPnet: ms.bulk.map(mbps), bulkPnetWindow4MiB: ms.wide.map(mbps) },
      },
      records: {
        records: RECORDS,
        valueBytes: RECORD_VALUE,
        frames: batches.length,
        rawTcpRecordsPerSec: perSec(median(ms.rawRec)),
        bulkPnetRecordsPerSec: perSec(median(ms.rec)),
        samples: { rawTcp: ms.rawRec.map(perSec), bulkPnet: ms.rec.map(perSec) },
      },
    };
  } finally {
    await close();
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
    bulkVsRawTcp: ratio(bk?.bytes.bulkPnetMBps, bk?.bytes.rawTcpMBps),
    recordsVsRawTcp: ratio(bk?.records.bulkPnetRecordsPerSec, bk?.records.rawTcpRecordsPerSec),
  },
  targets: { bulkVsRawTcp: 0.5, bulkRecordsPerSec: 50_000, syncReadyToAllPresentMs: 500 },
};

for (const r of [s?.get, s?.put, c?.get, c?.put]) {
  if (r)
    console.log(
      `${r.name.padEnd(28)} ${String(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  errors ${r.errors} non2xx ${r.non2xx}`,
    );
}
if (bk) {
  console.log(
    `bulk ${BULK_MB} MB: raw TCP ${bk.bytes.rawTcpMBps} MB/s, bulk+pnet ${bk.bytes.bulkPnetMBps} MB/s (window ${bk.bytes.windowKiB} KiB), ${bk.bytes.bulkPnetWindow4MiBMBps} MB/s (4 MiB window), ${bk.bytes.bulkNoPnetMBps} MB/s without pnet`,
  );
  console.log(`records: raw TCP ${bk.records.rawTcpRecordsPerSec}/s, bulk+pnet ${bk.records.bulkPnetRecordsPerSec}/s`);
}
if (sy)
  console.log(
    `sync ${sy.records} records: ${sy.readyToAllPresentMs} ms after B was ready (${sy.restartToAllPresentMs} ms from restart; poll floor ${sy.pollFloorMs} ms)`,
  );
const r = results.ratios;
console.log(
  `ratios: cluster/single GET ${r.clusterGetVsSingle}, PUT ${r.clusterPutVsSingle}; bulk/raw ${r.bulkVsRawTcp} (target >= 0.5); ` +
    `records ${bk?.records.bulkPnetRecordsPerSec ?? 'n/a'}/s (target >= 50000); sync ${sy?.readyToAllPresentMs ?? 'n/a'} ms (target < 500)`,
);
mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench/results/cluster.json'), `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
