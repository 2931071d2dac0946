/**
 * `npm run bench:pae`: throughput of the whole PAE step (features + ONNX inference + heatmap/score bookkeeping,
 * through createPae().runCycle) against bare `session.run` on pre-built tensors of the same batches, same session,
 * same run. Then one full cycle over 1M tracked (record, zone) rows. Writes bench/results/pae.json.
 *
 * Series are synthetic (Poisson counts, 2 zones per key) and pre-built, so the stats module's cost is not counted.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { DEFAULT_HORIZON, FEATURE_COUNT } from '../src/pae/contract.ts';
import { allocFeatures, buildFeatures } from '../src/pae/features.ts';
import { createPae, type PaeSource, type SeriesBatch } from '../src/pae/index.ts';
import { buildLinearOnnx } from '../src/pae/onnx-build.ts';
import { loadOnnxForecaster } from '../src/pae/onnx-forecaster.ts';
import { mulberry32 } from '../src/pae/rng.ts';

const ROWS = 4096;
const BUCKETS = 96;
const MODEL = new URL('../models/default.onnx', import.meta.url).pathname;

function makeBatch(seed: number): SeriesBatch {
  const rand = mulberry32(seed);
  const reads = new Float32Array(ROWS * BUCKETS);
  const writes = new Float32Array(ROWS * BUCKETS);
  for (let i = 0; i < reads.length; i++) {
    const u = rand();
    reads[i] = u < 0.6 ? 0 : Math.floor(u * 20);
    writes[i] = u > 0.95 ? 1 : 0;
  }
  return {
    bucketMs: 600_000,
    startMs: Date.UTC(2024, 0, 1),
    buckets: BUCKETS,
    rows: ROWS,
    keys: Array.from({ length: ROWS }, (_, r) => `key-${seed}-${r >> 1}`),
    zones: Array.from({ length: ROWS }, (_, r) => (r & 1 ? 'eu' : 'na')),
    reads,
    writes,
    sizeBytes: new Float64Array(ROWS).fill(4096),
  };
}

function sourceOf(batches: SeriesBatch[], total: number): PaeSource {
  return {
    async *series() {
      for (let i = 0; i < total; i++) yield batches[i % batches.length];
    },
  };
}

const modelPath = existsSync(MODEL) ? MODEL : undefined;
const modelBytes =
  modelPath ??
  buildLinearOnnx({ lookback: 24, w: new Float32Array(24 * FEATURE_COUNT).fill(0.01), b: 0 }, DEFAULT_HORIZON);
const forecaster = await loadOnnxForecaster(modelBytes, { horizonBuckets: DEFAULT_HORIZON, maxBatchRows: ROWS });
const L = forecaster.contract.lookback;
const batches = Array.from({ length: 8 }, (_, i) => makeBatch(i + 1));

// Bare inference: pre-built tensors, same session, same batch size.
const tensors = batches.map((b) => {
  const buf = allocFeatures(ROWS, L);
  buildFeatures(b, L, DEFAULT_HORIZON, buf);
  return new ort.Tensor('float32', buf.x, [ROWS, L, FEATURE_COUNT]);
});
const ITER = 48;
for (let i = 0; i < 4; i++) await forecaster.session.run({ x: tensors[i % tensors.length] });
let t = performance.now();
for (let i = 0; i < ITER; i++) await forecaster.session.run({ x: tensors[i % tensors.length] });
const bareMs = performance.now() - t;
const bareRowsPerS = (ITER * ROWS) / (bareMs / 1000);

// Whole PAE step through the engine (no CPU budget sleep: cpuBudget 1).
const logger = pino({ level: 'silent' });
const step = createPae({ logger, source: sourceOf(batches, ITER) }, { modelPath, batchRows: ROWS, cpuBudget: 1 });
await step.start();
await step.runCycle(); // warm-up
t = performance.now();
await step.runCycle();
const stepMs = performance.now() - t;
const stepRowsPerS = (ITER * ROWS) / (stepMs / 1000);
await step.stop();

// Full cycle over 1M (record, zone) rows.
const FULL = Math.ceil(1_000_000 / ROWS);
const full = createPae({ logger, source: sourceOf(batches, FULL) }, { modelPath, batchRows: ROWS, cpuBudget: 1 });
await full.start();
t = performance.now();
await full.runCycle();
const fullMs = performance.now() - t;
const heat = full.heatmap({ limit: 10 });
await full.stop();
await forecaster.close?.();

const result = {
  date: new Date().toISOString(),
  cores: cpus().length,
  model: modelPath ? 'models/default.onnx' : 'synthetic linear (models/default.onnx missing)',
  lookback: L,
  batchRows: ROWS,
  bareRowsPerS: Math.round(bareRowsPerS),
  stepRowsPerS: Math.round(stepRowsPerS),
  ratio: Number((stepRowsPerS / bareRowsPerS).toFixed(3)),
  targetRatio: 0.5,
  fullCycleRows: FULL * ROWS,
  fullCycleMs: Math.round(fullMs),
  targetFullCycleMs: 10_000,
  heatmapTopExpected: heat[0]?.expected,
};
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/pae.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
console.log(
  `pae step ${result.stepRowsPerS} rows/s vs bare session.run ${result.bareRowsPerS} rows/s: ratio ${result.ratio} (target >= 0.5); ` +
    `full cycle over ${result.fullCycleRows} rows: ${result.fullCycleMs} ms (target < 10000)`,
);
