// bench:http — the daemon's GET and PUT against a bare fastify route, with autocannon, in the same run.
// The bare routes are hit with the same request mix (50 keys for GET, rotating keys for PUT), so the
// load generator's own cost is the same for both. Runs are interleaved over several rounds and the median is reported, so load from other work on the
// machine hits every variant alike. Targets (issue 3): GET >= 0.6x bare fastify; PUT (durability os)
// >= 0.4x; access stats cost <= 10% of GET throughput.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../node/node-flags.ts';
import { type DaemonProcess, freePort, kill9, startDaemonProcess, tempDir } from '../test/support/daemon-process.ts';
import { type LoadResult, recordGets, recordPuts } from './support/autocannon.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 6);
const value = Buffer.alloc(100, 'v');

/** Bare fastify, by default on the daemon's Node flags, so the ratio compares code on the same runtime. */
async function startBare(nodeFlags = DAEMON_NODE_FLAGS): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const script = resolve(import.meta.dirname, 'support/bare-fastify.ts');
  const proc = spawn(process.execPath, [...nodeFlags, script, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res) => proc.stdout?.once('data', () => res()));
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function daemon(durability: 'os' | 'fsync', stats: 'on' | 'off'): Promise<DaemonProcess> {
  const d = await startDaemonProcess(
    ['--durability', durability, '--log-level', 'error', '--access-stats', stats],
    tempDir(),
  );
  for (let i = 0; i < 1000; i++) await fetch(`${d.url}/v1/records/k${i}`, { method: 'PUT', body: value });
  return d;
}

const getLoad = (name: string, url: string) => (seconds: number) => recordGets(name, url, seconds);
const putLoad = (name: string, url: string) => (seconds: number) => recordPuts(name, url, seconds, value);

const median = (runs: LoadResult[]): LoadResult => {
  const sorted = [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec);
  return { ...sorted[Math.floor(sorted.length / 2)], samples: runs.map((r) => r.reqPerSec) } as LoadResult;
};

const loadBefore = loadavg()[0];
const bare = await startBare();
// The same reference on Node's default flags: shows what the daemon's GC flag does to fastify itself.
const bareDefaults = await startBare([]);
const os = await daemon('os', 'on');
const fsync = await daemon('fsync', 'on');
const noStats = await daemon('os', 'off');
const variants: Array<[string, (seconds: number) => Promise<LoadResult>]> = [
  ['bare fastify GET', getLoad('bare fastify GET', bare.url)],
  ['bare fastify GET (node defaults)', getLoad('bare fastify GET (node defaults)', bareDefaults.url)],
  ['daemon GET (os, stats on)', getLoad('daemon GET (os, stats on)', os.url)],
  ['daemon GET (os, stats off)', getLoad('daemon GET (os, stats off)', noStats.url)],
  ['daemon GET (fsync)', getLoad('daemon GET (fsync)', fsync.url)],
  ['bare fastify PUT', putLoad('bare fastify PUT', bare.url)],
  ['bare fastify PUT (node defaults)', putLoad('bare fastify PUT (node defaults)', bareDefaults.url)],
  ['daemon PUT (os)', putLoad('daemon PUT (os)', os.url)],
  // Same write history as the stats-on daemon, so the GET stats on/off comparison compares like with like.
  ['daemon PUT (os, stats off)', putLoad('daemon PUT (os, stats off)', noStats.url)],
  ['daemon PUT (fsync)', putLoad('daemon PUT (fsync)', fsync.url)],
];
const samples = new Map<string, LoadResult[]>();
try {
  // Every process reaches its steady speed only after several seconds of load (JIT tiers, young-generation
  // sizing): measured on a fresh daemon, 3-s GET runs went 46k, 58k, 62k req/s. One unrecorded pass first.
  for (const [name, run] of variants) {
    console.error(`warm-up ${name}: ${(await run(WARMUP_SECONDS)).reqPerSec} req/s`);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of variants) {
      const r = await run(SECONDS);
      samples.set(name, [...(samples.get(name) ?? []), r]);
      console.error(`round ${round + 1}/${ROUNDS} ${name}: ${r.reqPerSec} req/s`);
    }
  }
} finally {
  for (const b of [bare, bareDefaults]) b.proc.kill('SIGKILL');
  for (const d of [os, fsync, noStats]) await kill9(d);
}
const m = (name: string) => median(samples.get(name)!);
const ratio = (a: string, b: string) => +(m(a).reqPerSec / m(b).reqPerSec).toFixed(3);
const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadavg()[0] },
  method: `Node flags ${DAEMON_NODE_FLAGS.join(' ')} for the daemons and the bare reference; one unrecorded ${WARMUP_SECONDS}-s pass over every variant, then ${ROUNDS} interleaved rounds of ${SECONDS} s per variant (after a 2 s warm-up each), median reported; 16 connections; 100-byte values`,
  runs: variants.map(([name]) => m(name)),
  ratios: {
    getVsBare: ratio('daemon GET (os, stats on)', 'bare fastify GET'),
    putOsVsBare: ratio('daemon PUT (os)', 'bare fastify PUT'),
    putFsyncVsBare: ratio('daemon PUT (fsync)', 'bare fastify PUT'),
    getStatsOnVsOff: ratio('daemon GET (os, stats on)', 'daemon GET (os, stats off)'),
    putStatsOnVsOff: ratio('daemon PUT (os)', 'daemon PUT (os, stats off)'),
    // For comparison only: the same daemons against bare fastify on Node's default flags.
    getVsBareDefaults: ratio('daemon GET (os, stats on)', 'bare fastify GET (node defaults)'),
    putOsVsBareDefaults: ratio('daemon PUT (os)', 'bare fastify PUT (node defaults)'),
  },
  targets: { getVsBare: 0.6, putOsVsBare: 0.4, getStatsOnVsOff: 0.9 },
};
for (const r of results.runs) {
  console.log(
    `${r.name.padEnd(30)} ${String(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  errors ${r.errors} non2xx ${r.non2xx}`,
  );
}
console.log(
  `GET ratio ${results.ratios.getVsBare} (target >= 0.6); PUT os ratio ${results.ratios.putOsVsBare} (target >= 0.4); PUT fsync ratio ${results.ratios.putFsyncVsBare}; GET stats on/off ${results.ratios.getStatsOnVsOff} (target >= 0.9); PUT stats on/off ${results.ratios.putStatsOnVsOff}; against bare fastify on Node's default flags: GET ${results.ratios.getVsBareDefaults}, PUT os ${results.ratios.putOsVsBareDefaults}`,
);
mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
writeFileSync(resolve(ROOT, 'bench/results/http.json'), `${JSON.stringify(results, null, 2)}\n`);
