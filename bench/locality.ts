/**
 * `npm run bench:locality -- [--trace <csv>]... [--scenario A,B,C] [--forecaster onnx|seasonal-naive|ewma]
 *  [--seed n] [--out-dir dir] [--scale]`
 *
 * Replays traces through the simulator (`src/sim`: the real ring, PAE forecasters and DSM planner) under the
 * policies static, reactive, proactive, hybrid, ttl and oracle, and writes `bench/results/locality.json` (fixed
 * interface: `{"traces":[{"trace","scenario","policies":[{"policy","meanLatencyMs","p99LatencyMs","remoteShare",
 * "bytesMoved","recordsMoved","goodMoveRatio","movedBackShare","cost"}]}]}`, extra fields allowed), a markdown
 * table (`locality.md`) and SVG charts. Default traces: every `*.csv` / `*.csv.gz` in `../shared/traces/`; a trace
 * with fewer than {@link MIN_ROWS} requests is skipped (said on stderr and in the JSON). Scenario C (follow-the-sun)
 * runs on traces spanning at least 12 h. `--scale` runs the scale measurement instead (`support/locality-scale.ts`).
 * Progress goes to stderr.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ForecasterChoice, loadWorkload, SCENARIOS, type SimResult, simulate } from '../src/sim/index.ts';
import { nasaHourlyShares } from '../src/sim/sun.ts';
import { charts, markdown } from './support/locality-report.ts';
import { runScale } from './support/locality-scale.ts';

const MIN_ROWS = 5000;
const ONNX_MAX_ROWS = 500_000;
/** `../shared/traces/` from the working directory, else from the nearest parent that has `shared/traces`. */
function tracesDir(): string {
  for (let d = resolve(process.cwd(), '..'); ; d = dirname(d)) {
    if (existsSync(join(d, 'shared', 'traces'))) return `${join(d, 'shared', 'traces')}/`;
    if (dirname(d) === d) return `${resolve(process.cwd(), '../shared/traces')}/`;
  }
}
const TRACES = tracesDir();
const MODEL = new URL('../models/default.onnx', import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    trace: { type: 'string', multiple: true },
    scenario: { type: 'string', default: 'A,B,C' },
    forecaster: { type: 'string', default: 'onnx' },
    seed: { type: 'string', default: '1' },
    'out-dir': { type: 'string', default: new URL('./results/', import.meta.url).pathname },
    scale: { type: 'boolean', default: false },
    daemons: { type: 'string' },
    zones: { type: 'string' },
    records: { type: 'string' },
    repeat: { type: 'string', default: '10' },
    'time-limit-s': { type: 'string', default: '900' },
    only: { type: 'string' },
  },
});
const outDir = values['out-dir']!;
await mkdir(outDir, { recursive: true });

if (values.scale) {
  await runScale(outDir, {
    daemons: Number(values.daemons ?? 1000),
    zones: Number(values.zones ?? 20),
    records: Number(values.records ?? 10_000_000),
    trace: values.trace?.[0] ?? `${TRACES}worldcup98_day6_even.csv.gz`,
    repeat: Number(values.repeat),
    timeLimitS: Number(values['time-limit-s']),
    only: values.only === 'small' || values.only === 'full' ? values.only : undefined,
  });
  process.exit(0);
}

const traces =
  values.trace ??
  readdirSync(TRACES)
    .filter((f) => /\.csv(\.gz)?$/.test(f))
    .sort()
    .map((f) => TRACES + f);
const scenarios = values.scenario!.split(',').map((s) => SCENARIOS[s.trim() as 'A' | 'B' | 'C']);
const seed = Number(values.seed);
const sparse = `${TRACES}nasa_1995_sparse.csv`;
const shares = existsSync(sparse) ? await nasaHourlyShares(sparse) : undefined;
const results: SimResult[] = [];
const skipped: { trace: string; reason: string }[] = [];
for (const path of traces) {
  const name = path.split('/').pop()!;
  for (const sc of scenarios) {
    const zoneNames = sc.zoneNames ?? Array.from({ length: sc.zones }, (_, i) => `z${i}`);
    if (sc.followTheSun && shares === undefined) {
      skipped.push({ trace: name, reason: `scenario C needs ${sparse}` });
      continue;
    }
    const w = await loadWorkload(path, { zoneNames, seed, sunShares: sc.followTheSun ? shares : undefined });
    if (w.rows < MIN_ROWS) {
      const reason = `${w.rows} requests (< ${MIN_ROWS}): too few for windows of demand to say anything`;
      if (!skipped.some((s) => s.trace === name)) skipped.push({ trace: name, reason });
      console.error(`skip ${name}: ${reason}`);
      break;
    }
    if (sc.followTheSun && w.endMs - w.startMs < 12 * 3_600_000) continue;
    const forecaster: ForecasterChoice =
      values.forecaster === 'onnx' && w.rows <= ONNX_MAX_ROWS && existsSync(MODEL)
        ? { kind: 'onnx', path: MODEL }
        : { kind: 'baseline', name: values.forecaster === 'ewma' ? 'ewma' : 'seasonal-naive' };
    console.error(`run ${name} scenario ${sc.name}: ${w.rows} requests, ${w.records} records`);
    const r = await simulate(w, {
      scenario: sc,
      seed,
      forecaster,
      onProgress: (p) =>
        console.error(
          `  ${name} ${sc.name}: ${(100 * p.fraction).toFixed(0)} % (${(p.elapsedMs / 1000).toFixed(0)} s)`,
        ),
    });
    console.error(`  done in ${(r.wallMs / 1000).toFixed(1)} s`);
    results.push(r);
  }
}
const json = {
  date: new Date().toISOString(),
  seed,
  traces: results.map((r) => ({
    trace: r.trace,
    scenario: r.scenario,
    scenarioLabel: r.scenarioLabel,
    requests: r.rows,
    records: r.records,
    daemons: r.daemons,
    bucketMs: r.bucketMs,
    horizonMs: r.horizonMs,
    forecaster: r.forecaster,
    wallMs: Math.round(r.wallMs),
    policies: r.policies,
  })),
  skipped,
};
await writeFile(`${outDir}locality.json`, `${JSON.stringify(json, null, 2)}\n`);
await writeFile(`${outDir}locality.md`, `# bench:locality\n\n${markdown(results, skipped)}`);
if (results.length > 0) await charts(results, outDir.replace(/\/$/, ''));
console.error(`wrote ${outDir}locality.json, locality.md, locality-remote.svg, locality-latency.svg`);
