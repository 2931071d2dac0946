/**
 * `npm run bench:stats`: the cost of recording one access, against an empty function-call loop over the same
 * keys in the same run, and the memory per tracked hot key (real heap + ArrayBuffers, and the estimate).
 * Writes bench/results/stats.json. The daemon's GET throughput with stats on vs off is measured by the HTTP
 * benchmark (it needs the daemon), not here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStats } from '../src/stats/index.ts';

const loadAtStart = loadavg();
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

const N = 2_000_000;
const DISTINCT = 200_000;
const ZONES = ['eu-west', 'us-east', 'ap-south'];
const APPS = ['web', 'mobile', 'batch', 'sync'];

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

// Skewed (roughly Zipf-like) keys: rank = DISTINCT * u^4.
const rnd = rng(42);
const names = Array.from({ length: DISTINCT }, (_, i) => `/v1/records/user/${i.toString(36)}/profile`);
const stream = Array.from({ length: 1 << 20 }, () => names[Math.floor(DISTINCT * rnd() ** 4)]);
const mask = stream.length - 1;

type RecordFn = (key: string, op: 'r' | 'w', zone: string, app: string, bytes: number, ts?: number) => void;

function loop(fn: RecordFn, n: number, withTs: boolean): number {
  const t0 = Date.UTC(2025, 0, 6);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ts = withTs ? t0 + (i >>> 6) : undefined;
    fn(stream[i & mask], (i & 7) === 0 ? 'w' : 'r', ZONES[i % 3], APPS[i & 3], 1024, ts);
  }
  return Number(process.hrtime.bigint() - start) / n;
}

let sink = 0;
const empty: RecordFn = (key, _op, _zone, _app, bytes) => {
  sink += bytes + key.length;
};

function bestOf(runs: number, f: () => number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) best = Math.min(best, f());
  return best;
}

// Warm up both paths, then measure alternately.
const stats = createStats({ logger: silent });
loop(empty, N / 5, true);
loop(stats.record.bind(stats), N / 5, true);
const emptyNs = bestOf(3, () => loop(empty, N, true));
const recordNs = bestOf(3, () => loop(stats.record.bind(stats), N, true));
const recordClockNs = bestOf(3, () => loop(stats.record.bind(stats), N, false));

// Worst case: every access is a key Space-Saving does not hold (uniform over DISTINCT keys, about 4x the
// default capacity), so each one evicts the minimum slot.
function loopUniform(fn: RecordFn, n: number): number {
  const t0 = Date.UTC(2025, 0, 6);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(names[(i * 7919) % DISTINCT], 'r', ZONES[i % 3], APPS[i & 3], 1024, t0 + (i >>> 6));
  return Number(process.hrtime.bigint() - start) / n;
}
const churn = createStats({ logger: silent });
loopUniform(churn.record.bind(churn), N / 5);
const recordChurnNs = bestOf(3, () => loopUniform(churn.record.bind(churn), N));

function realBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// Memory per tracked hot key: fill every Space-Saving slot with a distinct ~30-char key (series tier minimal,
// one open-bucket cell per key). The key strings are measured apart: the bench builds them with template
// literals (cons strings) and reads each at once the way record() does when hashing it (charCodeAt flattens
// it), so they cost what a key handed to record() costs; the stats structures hold the caller's string.
function memoryPerHotKey(hotCapacity: number) {
  const t = Date.UTC(2025, 0, 6);
  const before = realBytes();
  const keys = new Array<string>(hotCapacity).fill('');
  let keyChars = 0;
  for (let i = 0; i < hotCapacity; i++) {
    // Built and hashed right away, as a request's key is: record() reads it with charCodeAt, which flattens.
    const k = `/v1/records/object/${(i * 2654435761) >>> 0}/x`;
    for (let j = 0; j < k.length; j++) keyChars += k.charCodeAt(j) >= 0 ? 1 : 0;
    keys[i] = k;
  }
  const withKeys = realBytes();
  // The bench's own array of keys holds one 8-byte pointer per key; the rest is the strings themselves.
  const keyStringBytes = (withKeys - before - hotCapacity * 8) / hotCapacity;
  const s = createStats({ logger: silent, clock: () => t }, { hotCapacity, seriesLanes: 1 });
  for (let i = 0; i < hotCapacity; i++) s.record(keys[i], 'r', ZONES[i % 3], 'web', 1, t);
  const { sketch } = s.summary();
  const sketchBytes = sketch.width * sketch.depth * 4;
  const structures = (realBytes() - withKeys - sketchBytes) / hotCapacity;
  return {
    hotCapacity,
    realBytesPerKey: structures + keyStringBytes,
    structureBytesPerKey: structures,
    keyStringBytesPerKey: keyStringBytes,
    estimateBytesPerKey: (s.memoryBytes() - sketchBytes) / hotCapacity,
    keyCharsPerKey: keyChars / hotCapacity,
    keep: [s, keys],
  };
}
const hot = memoryPerHotKey(100_000);

// The default 32 MiB configuration with 1M distinct keys.
const before1m = realBytes();
const big = createStats({ logger: silent, clock: () => Date.UTC(2025, 0, 6, 1) });
for (let i = 0; i < 1_000_000; i++)
  big.record(`/tail/${i}/${(i * 40503) >>> 0}`, 'r', ZONES[i % 3], 'web', 1, Date.UTC(2025, 0, 6) + i);
big.tick();
const oneM = { estimateBytes: big.memoryBytes(), realBytes: realBytes() - before1m, summary: big.summary() };

const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadavg(),
  accesses: N,
  distinctKeys: DISTINCT,
  emptyCallNsPerAccess: emptyNs,
  recordNsPerAccess: recordNs,
  recordWithClockNsPerAccess: recordClockNs,
  recordAllEvictionsNsPerAccess: recordChurnNs,
  recordingCostNsPerAccess: recordNs - emptyNs,
  recordingCostRatioToEmptyCall: recordNs / emptyNs,
  bytesPerTrackedHotKey: {
    real: hot.realBytesPerKey,
    realExcludingKeyString: hot.structureBytesPerKey,
    keyString: hot.keyStringBytesPerKey,
    keyChars: hot.keyCharsPerKey,
    estimate: hot.estimateBytesPerKey,
    includes:
      'JS heap + ArrayBuffers after full GC: Space-Saving slot and group records, key index, keys array, ' +
      'the key string (header + chars, as handed to record()), one open-bucket cell per key, interners; ' +
      'excludes the fixed count-min sketch (640 KiB)',
    target: 200,
    keys: hot.hotCapacity,
  },
  oneMillionKeys: {
    budgetBytes: oneM.summary.memoryBudgetBytes,
    estimateBytes: oneM.estimateBytes,
    realBytes: oneM.realBytes,
    trackedKeys: oneM.summary.trackedKeys,
    seriesLanes: oneM.summary.seriesLanes,
  },
  getThroughputStatsOnVsOff: 'not measured here: needs the daemon (see bench/http.ts)',
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/stats.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `record: ${recordNs.toFixed(1)} ns/access (with Date.now: ${recordClockNs.toFixed(1)}; every access an eviction: ` +
    `${recordChurnNs.toFixed(1)}), empty call loop: ${emptyNs.toFixed(1)} ns → cost ${(recordNs - emptyNs).toFixed(1)} ns/access\n` +
    `hot key: ${hot.realBytesPerKey.toFixed(0)} B real incl. its key string (${hot.keyStringBytesPerKey.toFixed(0)} B for ` +
    `${hot.keyCharsPerKey.toFixed(0)} chars; structures ${hot.structureBytesPerKey.toFixed(0)} B), ` +
    `${hot.estimateBytesPerKey.toFixed(0)} B estimated (target <= 200)\n` +
    `1M keys, 32 MiB budget: estimate ${(oneM.estimateBytes / 2 ** 20).toFixed(1)} MiB, real ${(oneM.realBytes / 2 ** 20).toFixed(1)} MiB` +
    ` (sink ${sink > 0}); load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} → ` +
    `${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
