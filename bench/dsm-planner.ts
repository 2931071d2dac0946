/**
 * `npm run bench:dsm`: one DSM planning cycle (`planCycle`, policy hybrid, default config) over 1,000,000 records
 * × 10 zones, against a bare pass over the same input that only reads its demand arrays (sums every ZoneDemand
 * field of every record's `observed` and `forecast`), measured in the same run. Target: ratio ≤ 5.
 *
 * Synthetic input (seeded xorshift): 10 zones × 3 members; each record on 3 distinct zones; popularity Zipf-like
 * (expected accesses ∝ 1/rank^1.1, 2M accesses over the horizon in all), so most records are cold; a record's
 * demand comes 80 % from its main zone and the rest from one to three other zones (hot records), or from its main
 * zone only (cold ones); half the records have a forecast accuracy of 0.7, the rest none (hybrid = reactive).
 * Writes its figures under `"planner"` in bench/results/dsm.json, keeping the file's other keys.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import {
  DEFAULT_PLANNER_CONFIG,
  type PlanMember,
  type PlannerInput,
  type PlanRecord,
  planCycle,
  type ZoneDemand,
} from '../src/dsm/index.ts';
import { mulberry32 } from '../src/pae/rng.ts';

const loadAtStart = loadavg();
const RECORDS = 1_000_000;
const ZONE_COUNT = 10;
const PER_ZONE = 3;
const TOTAL_ACCESSES = 2_000_000;
const RUNS = 5;

const rnd = mulberry32(7);
const zones = Array.from({ length: ZONE_COUNT }, (_, i) => `zone-${i}`);
const members: PlanMember[] = zones.flatMap((zone) =>
  Array.from({ length: PER_ZONE }, (_, i) => ({
    id: `${zone}-node-${i}`,
    zone,
    up: true,
    capacityBytes: 4 * 2 ** 40,
    usedBytes: Math.floor(rnd() * 2 ** 40),
  })),
);
// Two "continents" of five zones: 20 ms within one, 120 ms across.
const latency: Record<string, Record<string, number>> = {};
for (let a = 0; a < ZONE_COUNT; a++) {
  latency[zones[a]] = {};
  for (let b = 0; b < ZONE_COUNT; b++) {
    if (a !== b) latency[zones[a]][zones[b]] = Math.floor(a / 5) === Math.floor(b / 5) ? 20 : 120;
  }
}

let harmonic = 0;
for (let r = 1; r <= RECORDS; r++) harmonic += 1 / r ** 1.1;

function split(total: number, main: number, hot: boolean): ZoneDemand[] {
  const entry = (z: number, n: number): ZoneDemand => ({
    zone: zones[z],
    one: n * 0.7,
    majority: n * 0.28,
    all: n * 0.02,
  });
  if (!hot) return [entry(main, total)];
  const extra = 1 + Math.floor(rnd() * 3);
  const out = [entry(main, total * 0.8)];
  for (let k = 1; k <= extra; k++) out.push(entry((main + k) % ZONE_COUNT, (total * 0.2) / extra));
  return out;
}

console.log(`building ${RECORDS} records × ${ZONE_COUNT} zones ...`);
const records: PlanRecord[] = new Array(RECORDS);
for (let i = 0; i < RECORDS; i++) {
  const rank = 1 + Math.floor(rnd() * RECORDS);
  const expected = TOTAL_ACCESSES / harmonic / rank ** 1.1;
  const main = Math.floor(rnd() * ZONE_COUNT);
  const z0 = Math.floor(rnd() * ZONE_COUNT);
  const z1 = (z0 + 1 + Math.floor(rnd() * (ZONE_COUNT - 1))) % ZONE_COUNT;
  let z2 = (z0 + 1 + Math.floor(rnd() * (ZONE_COUNT - 1))) % ZONE_COUNT;
  while (z2 === z0 || z2 === z1) z2 = (z2 + 1) % ZONE_COUNT;
  const holders = [z0, z1, z2].map((z) => `${zones[z]}-node-${Math.floor(rnd() * PER_ZONE)}`);
  const hot = expected >= 2;
  const observed = split(expected * (0.5 + rnd()), main, hot);
  const forecast = split(expected, main, hot);
  records[i] = {
    key: `user/${i.toString(36)}/profile`,
    partition: i % 4096,
    sizeBytes: 512 + Math.floor(rnd() * 64 * 1024),
    holders,
    home: holders,
    overridden: false,
    observed,
    forecast,
    ...(i % 2 === 0 ? { forecastAccuracy: 0.7 } : {}),
  };
}
const input: PlannerInput = {
  now: Date.UTC(2025, 0, 6, 12),
  config: DEFAULT_PLANNER_CONFIG,
  members,
  records,
  latency,
  overridesHeld: 0,
};

let sink = 0;
function sumList(list: readonly ZoneDemand[] | undefined): number {
  if (list === undefined) return 0;
  let s = 0;
  for (let j = 0; j < list.length; j++) {
    const d = list[j];
    s += d.one + d.majority + d.all;
  }
  return s;
}
function bare(): number {
  const t = process.hrtime.bigint();
  let s = 0;
  for (let i = 0; i < records.length; i++) s += sumList(records[i].observed) + sumList(records[i].forecast);
  sink += s;
  return Number(process.hrtime.bigint() - t) / 1e6;
}
let plan = planCycle(input);
function planned(): number {
  const t = process.hrtime.bigint();
  plan = planCycle(input);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

bare();
const bareMs: number[] = [];
const planMs: number[] = [];
for (let r = 0; r < RUNS; r++) {
  bareMs.push(bare());
  planMs.push(planned());
  console.log(`run ${r + 1}/${RUNS}: bare pass ${bareMs[r].toFixed(1)} ms, planCycle ${planMs[r].toFixed(1)} ms`);
}
const ratio = median(planMs) / median(bareMs);

const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadavg(),
  records: RECORDS,
  zones: ZONE_COUNT,
  members: members.length,
  runs: RUNS,
  barePassMs: median(bareMs),
  planCycleMs: median(planMs),
  ratioToBarePass: ratio,
  target: 5,
  moves: plan.moves.length,
  skipped: plan.skipped.length,
  skipCounts: plan.skipCounts,
};
const path = new URL('./results/dsm.json', import.meta.url);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const previous: Record<string, unknown> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
writeFileSync(path, `${JSON.stringify({ ...previous, planner: result }, null, 2)}\n`);
console.log(
  `planCycle ${result.planCycleMs.toFixed(1)} ms vs bare pass ${result.barePassMs.toFixed(1)} ms: ratio ` +
    `${ratio.toFixed(2)} (target ≤ 5); ${plan.moves.length} moves; skips ${JSON.stringify(plan.skipCounts)} ` +
    `(sink ${sink > 0})`,
);
