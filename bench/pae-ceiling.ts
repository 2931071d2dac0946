/**
 * `npm run bench:pae-ceiling [-- --trace <file> ...] [--samples 1000] [--seed 1] [--no-reference]`: oracle ceiling
 * of precision@k (docs/pae.md, "precision@k" and the goals). Over the same rolling origins as `shoal pae eval`
 * (`backtestOrigins`, `seriesAt`, `actualsBetween`), each key's actual total over the scored window (summed over
 * zones) is taken as its true rate; `samples` Poisson resamples of all keys' totals (`src/pae/ceiling.ts`: Knuth
 * below mean 30, normal approximation above; one mulberry32 stream per trace, seeded with `--seed`) are scored by
 * the same `precisionAtK` against the ranking by the true rate. The ceiling is the mean over resamples, then over
 * origins with at least one access (as `pae eval` averages precision). It is optimistic: realized counts are more
 * spread than true rates, so the oracle's ranking is easier than a real one.
 *
 * For reference (unless `--no-reference`) the GRU (`models/default.onnx`) and SPAR precision@k at the same origins.
 * Writes bench/results/pae-ceiling.json. Default traces: worldcup98_day6_even and nasa_jul95_3h from ../shared.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { createBaseline } from '../src/pae/baselines.ts';
import { keyTotals, oracleCeiling } from '../src/pae/ceiling.ts';
import { DEFAULT_HORIZON, DEFAULT_LOOKBACK } from '../src/pae/contract.ts';
import { backtestOrigins, precisionAtK } from '../src/pae/eval.ts';
import type { Forecaster } from '../src/pae/index.ts';
import { fitSparForecaster } from '../src/pae/linear.ts';
import { loadOnnxForecaster } from '../src/pae/onnx-forecaster.ts';
import { mulberry32 } from '../src/pae/rng.ts';
import { actualsBetween, loadTraceTable, seriesAt } from '../src/pae/trace-series.ts';

const SHARED = new URL('../../shared/traces/', import.meta.url).pathname;
const MODEL = new URL('../models/default.onnx', import.meta.url).pathname;
const OUT = new URL('./results/pae-ceiling.json', import.meta.url).pathname;
const H = DEFAULT_HORIZON;

const { values } = parseArgs({
  options: {
    trace: { type: 'string', multiple: true },
    samples: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const traces = values.trace ?? [`${SHARED}worldcup98_day6_even.csv.gz`, `${SHARED}nasa_jul95_3h.csv`];
const samples = Number(values.samples);
const seed = Number(values.seed);
const withReference = !values['no-reference'];
if (!(Number.isInteger(samples) && samples > 0) || !Number.isInteger(seed)) {
  throw new Error('--samples must be a positive integer and --seed an integer');
}

interface OriginResult {
  at: number;
  bucketMs: number;
  keys: number;
  accessedKeys: number;
  k: number;
  /** k-th largest actual window total (the hot-set threshold of the real window). */
  kthTotal: number;
  ceiling: number;
  gru?: number;
  spar?: number;
}

const mean = (xs: number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const round = (x: number): number => Math.round(x * 1e4) / 1e4;

const gru: Forecaster | undefined = withReference ? await loadOnnxForecaster(MODEL, { horizonBuckets: H }) : undefined;
const naive = createBaseline('seasonal-naive', H);

const results = [];
for (const trace of traces) {
  const t0 = performance.now();
  const table = await loadTraceTable(trace);
  const rand = mulberry32(seed);
  const perOrigin: OriginResult[] = [];
  for (const { at, bucketMs } of backtestOrigins(table, { horizonBuckets: H })) {
    const batch = seriesAt(table, at, bucketMs, 512);
    if (batch.rows === 0) continue;
    const actual = actualsBetween(table, batch, at, at + H * bucketMs);
    const { keys, totals } = keyTotals(batch.keys, actual);
    const positive = totals.filter((v) => v > 0).sort((a, b) => b - a);
    if (positive.length === 0) continue; // `pae eval` skips such origins for precision too
    const c = oracleCeiling(keys, totals, rand, samples);
    const row: OriginResult = {
      at,
      bucketMs,
      keys: keys.length,
      accessedKeys: positive.length,
      k: c.k,
      kthTotal: positive[Math.min(c.k, positive.length) - 1],
      ceiling: round(c.ceiling),
    };
    if (gru) {
      row.gru = round(precisionAtK(batch.keys, await gru.forecast(batch), actual) ?? Number.NaN);
      const spar = await fitSparForecaster(batch, { lookback: DEFAULT_LOOKBACK, horizonBuckets: H });
      const sparPred = spar ? await spar.forecast(batch) : await naive.forecast(batch); // as `pae eval`
      await spar?.close?.();
      row.spar = round(precisionAtK(batch.keys, sparPred, actual) ?? Number.NaN);
    }
    perOrigin.push(row);
  }
  const ceiling = mean(perOrigin.map((o) => o.ceiling));
  const ks = perOrigin.map((o) => o.k);
  const result = {
    trace: basename(trace),
    origins: perOrigin.length,
    samples,
    seed,
    k: ks.length > 0 ? { min: Math.min(...ks), max: Math.max(...ks) } : undefined,
    ceiling: round(ceiling),
    ...(gru
      ? {
          reference: {
            gru: round(mean(perOrigin.map((o) => o.gru!))),
            spar: round(mean(perOrigin.map((o) => o.spar!))),
          },
        }
      : {}),
    perOrigin,
  };
  results.push(result);
  const kText = result.k ? `${result.k.min}${result.k.max !== result.k.min ? `–${result.k.max}` : ''}` : '–';
  const ref = result.reference
    ? `  (GRU ${result.reference.gru.toFixed(3)}, SPAR ${result.reference.spar.toFixed(3)})`
    : '';
  console.log(
    `${result.trace}: ${result.origins} origins, k = ${kText}, ${samples} resamples each: ` +
      `oracle ceiling of precision@k ${ceiling.toFixed(3)}${ref}  [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
  );
  console.log(`  per origin: ${perOrigin.map((o) => o.ceiling.toFixed(3)).join(' ')}`);
}

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(OUT, `${JSON.stringify({ date: new Date().toISOString(), traces: results }, null, 2)}\n`);
console.log(`wrote ${OUT}`);
await gru?.close?.();
