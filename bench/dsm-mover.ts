/**
 * `npm run bench:dsm`, part "mover": how fast the WaveRunner moves records, through `POST /admin/placements` on 3
 * loopback daemons (`--replicas 2`, so every record has one daemon without a copy; `--durability os`).
 *
 * - **small**: 10,000 records of 1 KB are written (PUT, consistency all), their holders read back
 *   (`GET /admin/records/:key`), and one request places every record on a holder set that replaces one of its
 *   holders by the non-holder. Each partition coordinator runs its share as one wave. Timed from the request to its
 *   answer; every result must say changed, without error. Target: ≥ 2,000 records/s.
 * - **large**: the same with 2,000 records of 64 KiB. References, measured in the same run just before (median of 3
 *   each): the bulk transfer protocol moving the same number of records store to store between two Nets
 *   (bench/support/transfer-rate.ts: read, TLS side channel, checksum, merge, LevelDB write); the raw side
 *   channel's MB/s between two Nets, memory to memory (bench/support/bulk-bench.ts, 256 KiB frames); and the store's
 *   own write rate for those records. Target: the wave's MB/s ≥ 0.5× the transfer protocol's. The raw channel's
 *   ratio is printed too; the store alone writes well below it, so 0.5× of it is out of reach for any copy.
 *
 * The daemons log each wave's `wave: done` line (with the time of every step) at info; those lines are printed.
 * Knobs: BENCH_MOVER_SMALL, BENCH_MOVER_LARGE (record counts), BENCH_PARTS=small,large, BENCH_IDLE_MS (measure the
 * daemons' CPU for that long before each wave: their background work, which the wave competes with).
 * Writes `"mover"` in bench/results/dsm.json, keeping the file's other keys.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { createRing } from '../src/ring/index.ts';
import { type Cluster, startCluster, statusOf } from '../test/support/cluster.ts';
import { sideChannelRate } from './support/bulk-bench.ts';
import { daemonCpuMs } from './support/proc-cpu.ts';
import { storeWriteRate, transferProtocolRate } from './support/transfer-rate.ts';

const SMALL = Number(process.env.BENCH_MOVER_SMALL ?? 10_000);
const LARGE = Number(process.env.BENCH_MOVER_LARGE ?? 2_000);
const SMALL_BYTES = 1024;
const LARGE_BYTES = 64 * 1024;
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 0);
const PARTS = (process.env.BENCH_PARTS ?? 'small,large').split(',');
const TARGET_RECORDS_PER_S = 2000;
const TARGET_RATIO = 0.5;

const loadAtStart = loadavg();
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` with a deadline: a part that does not finish in time fails the run instead of hanging it. */
async function bounded<T>(name: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${name}: no result within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` over `items` with `width` in flight, printing progress every `every` items. */
async function pool<T>(label: string, items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let done = 0;
  const every = Math.max(1, Math.ceil(items.length / 5));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        await fn(items[next++]);
        if (++done % every === 0 || done === items.length) {
          const s = (performance.now() - t0) / 1000;
          console.log(`  ${label}: ${done}/${items.length} (${Math.round(done / s)}/s)`);
        }
      }
    }),
  );
}

async function ok(r: Response, what: string): Promise<Response> {
  if (r.status >= 300) throw new Error(`${what} answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  return r;
}

type Placement = { source: string; replicas: string[] };
type Result = { key: string; changed: boolean; wave?: string; error?: { code: string; message: string } };

/** One `wave: done` line of a daemon's JSON log. */
interface WaveLine {
  wave: string;
  done: number;
  failed: number;
  epochs: number;
  stepMs?: Record<string, number>;
}

/** The cluster's ring as the daemons build it (members sorted by id, R = 2, default partitions). */
async function ringOf(c: Cluster) {
  const r = await ok(await fetch(`${c.daemons[0].url}/admin/peers`), 'GET /admin/peers');
  const { members } = (await r.json()) as { members: Array<{ peerId: string; zone: string; capacity?: number }> };
  const ringMembers = members
    .map((m) => ({ id: m.peerId, zone: m.zone, capacity: m.capacity ?? 1, state: 'up' as const }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return createRing({ replicas: 2, members: ringMembers });
}

function waveLines(c: Cluster, ids: ReadonlySet<string>): WaveLine[] {
  const out: WaveLine[] = [];
  for (const d of c.daemons) {
    for (const line of d.output().split('\n')) {
      if (!line.includes('"wave: done"')) continue;
      try {
        const o = JSON.parse(line) as WaveLine;
        if (ids.has(o.wave)) out.push(o);
      } catch {
        // a line cut by the output tail
      }
    }
  }
  return out;
}

/** Writes `count` records of `bytes` under `prefix`, moves each off one holder onto the non-holder, times it. */
async function moveWave(c: Cluster, ids: string[], prefix: string, count: number, bytes: number) {
  const [entry] = c.daemons;
  const keys = Array.from({ length: count }, (_, i) => `${prefix}/${i.toString().padStart(6, '0')}`);
  const value = randomBytes(bytes).toString('base64');
  const perBatch = Math.max(1, Math.min(100, Math.floor((1024 * 1024) / bytes)));
  const batches = Array.from({ length: Math.ceil(count / perBatch) }, (_, b) =>
    keys.slice(b * perBatch, (b + 1) * perBatch),
  );
  let written = 0;
  await pool(`write ${bytes} B (batches of ${perBatch})`, batches, 4, async (batch) => {
    const ops = batch.map((key) => ({ op: 'put', key, value, encoding: 'base64' }));
    const send = () =>
      fetch(`${entry.url}/v1/batch?consistency=all`, {
        method: 'POST',
        body: JSON.stringify({ ops }),
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(60_000),
      });
    let res = await send();
    // A replica call that timed out on the loaded machine: the puts are idempotent, send the batch again.
    for (let retry = 0; res.status === 503 && retry < 3; retry++) {
      await res.arrayBuffer();
      res = await send();
    }
    const r = await ok(res, 'POST /v1/batch');
    const { results } = (await r.json()) as { results: Array<{ version?: string }> };
    if (results.length !== batch.length || results.some((x) => !x.version)) throw new Error('a batch put failed');
    written += batch.length;
  });
  if (written !== count) throw new Error(`wrote ${written} of ${count}`);
  // Holders from the ring itself (every record is on its ring replicas: no overrides yet), checked on a sample.
  const ring = await ringOf(c);
  const holdersOf = (k: string) => ring.replicasFor(ring.partitionOf(k));
  await pool('check holders (sample)', keys.slice(0, 50), 8, async (k) => {
    const r = await ok(
      await fetch(`${entry.url}/admin/records/${encodeURIComponent(k)}`, { signal: AbortSignal.timeout(10_000) }),
      `GET /admin/records/${k}`,
    );
    const { placement } = (await r.json()) as { placement: Placement };
    if (placement.source !== 'ring' || placement.replicas.join() !== holdersOf(k).join()) {
      throw new Error(`${k}: the daemon places it on ${placement.replicas}, the ring here on ${holdersOf(k)}`);
    }
  });
  const targets = new Map<string, string[]>();
  for (const [i, k] of keys.entries()) {
    const holders = holdersOf(k);
    if (holders.length !== 2) throw new Error(`${k} has ${holders.length} holders, not 2`);
    const spare = ids.find((p) => !holders.includes(p));
    if (spare === undefined) throw new Error(`${k}: no non-holder`);
    const target = [...holders];
    target[i % 2] = spare; // replace the first holder of one record, the second of the next
    targets.set(k, target);
  }
  await sleep(500); // let the write path's background work settle before timing
  const idle0 = daemonCpuMs(c);
  await sleep(IDLE_MS);
  const idle1 = daemonCpuMs(c);
  if (IDLE_MS > 0) console.log(`  daemons' CPU while idle for ${IDLE_MS} ms before the wave: ${idle1! - idle0!} ms`);
  const placements = keys.map((key) => ({ key, replicas: targets.get(key)! }));
  const cpu0 = process.cpuUsage();
  const daemonCpu0 = daemonCpuMs(c);
  const t0 = performance.now();
  const res = await ok(
    await fetch(`${entry.url}/admin/placements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ placements, reason: 'bench:dsm mover' }),
      signal: AbortSignal.timeout(150_000),
    }),
    'POST /admin/placements',
  );
  const { results } = (await res.json()) as { results: Result[] };
  const ms = performance.now() - t0;
  const daemonCpu1 = daemonCpuMs(c);
  const cpuMs = daemonCpu0 === undefined || daemonCpu1 === undefined ? undefined : daemonCpu1 - daemonCpu0;
  const benchCpuMs = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000;
  const bad = results.filter((r) => !r.changed || r.error !== undefined);
  if (results.length !== count || bad.length > 0) {
    for (const [i, d] of c.daemons.entries()) {
      const notable = d
        .output()
        .split('\n')
        .filter((l) => /"level":(40|50)|wave: done/.test(l));
      console.error(`--- daemon ${i} (${ids[i]}), last warnings:\n${notable.slice(-8).join('\n').slice(0, 3000)}`);
    }
    throw new Error(
      `after ${Math.round(ms)} ms: ` +
        `${bad.length} of ${count} placements not changed (${results.length} results), e.g. ${JSON.stringify(bad[0])}`,
    );
  }
  const waves = new Set(results.map((r) => r.wave!));
  await sleep(300); // the `wave: done` lines reach the log tails
  const lines = waveLines(c, waves);
  const recordsPerSec = Math.round(count / (ms / 1000));
  const MBps = round((count * bytes) / 1024 / 1024 / (ms / 1000));
  console.log(
    `  wave of ${count} × ${bytes} B: ${Math.round(ms)} ms, ${recordsPerSec} records/s, ${MBps} MB/s, ${waves.size} waves, ` +
      `${lines.reduce((n, l) => n + l.epochs, 0)} partition epochs; daemons' CPU ${cpuMs} ms (${cpuMs && round(cpuMs / count, 2)} ms per record)`,
  );
  for (const l of lines)
    console.log(`    ${l.wave}: ${l.done} moves, ${l.epochs} epochs, steps ${JSON.stringify(l.stepMs)}`);
  return {
    records: count,
    valueBytes: bytes,
    ms: Math.round(ms),
    recordsPerSec,
    MBps,
    // CPU time of the three daemons during the wave: steadier than wall time on a shared machine
    daemonCpuMs: cpuMs,
    waves: lines.map((l) => ({ moves: l.done, epochs: l.epochs, stepMs: l.stepMs })),
    benchCpuMs: Math.round(benchCpuMs),
  };
}

type Large = Awaited<ReturnType<typeof moveWave>> & {
  bulk: Rate;
  transfer: Rate;
  storeWrite: Rate;
  ratioToBulk: number;
  ratioToTransfer: number;
};
type Rate = { MBps: number; samplesMBps: number[] };

async function run() {
  console.log('starting 3 daemons (--replicas 2, --durability os) ...');
  const c = await startCluster({
    n: 3,
    durability: 'os',
    logLevel: 'info',
    extra: Array.from({ length: 3 }, () => ['--replicas', '2']),
  });
  try {
    const ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
    let small: Awaited<ReturnType<typeof moveWave>> | undefined;
    let large: Large | undefined;
    if (PARTS.includes('small')) {
      console.log(`small: ${SMALL} records of ${SMALL_BYTES} B`);
      small = await bounded('small wave', 150_000, () => moveWave(c, ids, 'small', SMALL, SMALL_BYTES));
    }
    if (PARTS.includes('large')) {
      console.log(`large: ${LARGE} records of ${LARGE_BYTES} B`);
      const mb = (LARGE * LARGE_BYTES) / 1024 / 1024;
      const bulk = await bounded('bulk reference', 60_000, () => sideChannelRate(Math.min(mb, 128)));
      console.log(
        `  bulk side channel (reference, same run): ${bulk.MBps} MB/s, samples ${bulk.samplesMBps.join(', ')}`,
      );
      const transfer = await bounded('transfer reference', 60_000, () => transferProtocolRate(LARGE, LARGE_BYTES));
      console.log(
        `  transfer protocol store to store (reference, same run): ${transfer.MBps} MB/s, samples ${transfer.samplesMBps.join(', ')}`,
      );
      const storeWrite = await bounded('store reference', 60_000, () => storeWriteRate(LARGE, LARGE_BYTES));
      console.log(
        `  store writes alone (ceiling, same run): ${storeWrite.MBps} MB/s, samples ${storeWrite.samplesMBps.join(', ')}`,
      );
      const w = await bounded('large wave', 150_000, () => moveWave(c, ids, 'large', LARGE, LARGE_BYTES));
      large = {
        ...w,
        bulk,
        transfer,
        storeWrite,
        ratioToBulk: round(w.MBps / bulk.MBps, 3),
        ratioToTransfer: round(w.MBps / transfer.MBps, 3),
      };
    }
    return { small, large };
  } finally {
    await c.stopAll();
  }
}

const { small, large } = await bounded('bench:dsm mover', 170_000, run);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  loadAverageAtStart: loadAtStart.map((x) => round(x, 2)),
  loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
  daemons: 3,
  replicas: 2,
  small: small ?? null,
  large: large ?? null,
  targets: { smallRecordsPerSec: TARGET_RECORDS_PER_S, largeRatioToTransfer: TARGET_RATIO },
  met: {
    small: small ? small.recordsPerSec >= TARGET_RECORDS_PER_S : null,
    large: large ? large.ratioToTransfer >= TARGET_RATIO : null,
    // The raw side channel's rate is above what the store alone writes (storeWrite): 0.5× of it is out of reach.
    largeAgainstRawSideChannel: large ? large.ratioToBulk >= TARGET_RATIO : null,
  },
};
const path = new URL('./results/dsm.json', import.meta.url);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const previous: Record<string, unknown> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
writeFileSync(path, `${JSON.stringify({ ...previous, mover: result }, null, 2)}\n`);
console.log(
  `mover: ${small ? `${small.recordsPerSec} records/s (target ≥ ${TARGET_RECORDS_PER_S})` : 'small skipped'}; ` +
    `${large ? `${large.MBps} MB/s = ${large.ratioToTransfer}× the transfer protocol (target ≥ ${TARGET_RATIO}), ${large.ratioToBulk}× the raw side channel` : 'large skipped'}`,
);
process.exit(0);
