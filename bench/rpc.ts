// bench:rpc — Net.request() between two Nets in one process, with and without a cluster secret (pnet):
// sequential latency p50/p99 of small requests, concurrent throughput (64 in flight), and 1 MiB requests.
// Usage: node bench/rpc.ts [label]   (results merged into bench/results/rpc.json under `label`, default "after")
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { createNet, generateClusterSecret, type Net } from '../src/net/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const LABEL = process.argv[2] ?? 'after';
const SEQUENTIAL = Number(process.env.BENCH_SEQ ?? 2000);
const CONCURRENT_TOTAL = Number(process.env.BENCH_CONC ?? 20_000);
const IN_FLIGHT = 64;
const ECHO = '/shoal/bench-echo/1.0.0';
const logger = pino({ level: 'warn' });
const dirs: string[] = [];

async function startPair(secret: Uint8Array | undefined): Promise<[Net, Net]> {
  const make = (zone: string, join?: string[]): Net => {
    const dataDir = mkdtempSync(join_(tmpdir(), 'shoal-bench-rpc-'));
    dirs.push(dataDir);
    return createNet(
      { logger },
      { dataDir, zone, capacity: 1, storeKind: 'memory', apiUrl: 'http://127.0.0.1:1', clusterSecret: secret, join },
    );
  };
  const a = make('z0');
  await a.start();
  const b = make('z1', a.multiaddrs());
  await b.start();
  await b.handle(ECHO, async (req) => req);
  await a.handle(ECHO, async (req) => req);
  return [a, b];
}
const join_ = join;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const ms = (n: number): number => Math.round(n * 1000) / 1000;

async function sequential(a: Net, b: Net, bytes: number, n: number): Promise<{ p50: number; p99: number }> {
  const payload = new Uint8Array(bytes).fill(7);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await a.request(b.peerId, ECHO, payload);
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return { p50: ms(quantile(times, 0.5)), p99: ms(quantile(times, 0.99)) };
}

async function concurrent(a: Net, b: Net, bytes: number, total: number): Promise<{ reqPerSec: number }> {
  const payload = new Uint8Array(bytes).fill(7);
  let next = 0;
  const t = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      await a.request(b.peerId, ECHO, payload, { timeoutMs: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { reqPerSec: Math.round(total / ((performance.now() - t) / 1000)) };
}

async function run(secret: Uint8Array | undefined): Promise<Record<string, unknown>> {
  const [a, b] = await startPair(secret);
  try {
    await sequential(a, b, 100, 200); // warm up
    const seq = await sequential(a, b, 100, SEQUENTIAL);
    const conc = await concurrent(a, b, 100, CONCURRENT_TOTAL);
    const big = await sequential(a, b, 1024 * 1024, 30);
    return {
      sequential100B: { n: SEQUENTIAL, p50Ms: seq.p50, p99Ms: seq.p99 },
      concurrent100B: { inFlight: IN_FLIGHT, n: CONCURRENT_TOTAL, reqPerSec: conc.reqPerSec },
      sequential1MiB: { n: 30, p50Ms: big.p50, p99Ms: big.p99 },
    };
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
  }
}

const pnet = await run(generateClusterSecret());
console.log(LABEL, 'pnet', JSON.stringify(pnet));
const plain = await run(undefined);
console.log(LABEL, 'plain', JSON.stringify(plain));
for (const d of dirs) rmSync(d, { recursive: true, force: true });

const file = join(ROOT, 'bench/results/rpc.json');
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
const results = {
  ...previous,
  machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
  [LABEL]: { at: new Date().toISOString(), pnet, plain },
};
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${file}`);
