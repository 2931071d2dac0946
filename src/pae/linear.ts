/**
 * SPAR-style seasonal linear autoregression (after P-Store's SPAR: recent history plus the same period in
 * earlier seasons), fitted by weighted ridge regression on the series' own history and exported to ONNX, so it
 * runs through the same inference path as every learned model.
 *
 * Regressors (a subset of the contract's `[L, F]` window; other weights are 0): `reads`, `writes`, `seasonal`,
 * `has_season` at every step (the autoregressive and seasonal terms), and the static/calendar features at the last
 * step; plus an intercept. Ridge penalty `lambda * mean(diag(XᵀWX))`, intercept unpenalised.
 * @module
 */
import { FEATURE_COUNT } from './contract.ts';
import type { SeriesBatch } from './index.ts';
import { buildLinearOnnx, type LinearWeights } from './onnx-build.ts';
import { loadOnnxForecaster, type OnnxForecaster } from './onnx-forecaster.ts';
import { mulberry32 } from './rng.ts';
import { addSamples, emptySamples, type SampleSet } from './samples.ts';

/** Flat indices (step * F + feature) of the regressors used. */
export function sparRegressors(lookback: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < lookback; j++) for (const f of [0, 1, 2, 3]) idx.push(j * FEATURE_COUNT + f);
  for (let f = 4; f < FEATURE_COUNT; f++) idx.push((lookback - 1) * FEATURE_COUNT + f);
  return idx;
}

/** Solves the symmetric positive definite system A x = b (A is d×d row-major) by Cholesky; A is overwritten. */
export function solveSpd(A: Float64Array, b: Float64Array, d: number): Float64Array {
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
    const diag = Math.sqrt(Math.max(s, 1e-12));
    A[j * d + j] = diag;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = t / diag;
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= A[i * d + k] * y[k];
    y[i] = t / A[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let t = y[i];
    for (let k = i + 1; k < d; k++) t -= A[k * d + i] * x[k];
    x[i] = t / A[i * d + i];
  }
  return x;
}

/** Fits the linear model on samples by weighted ridge regression. */
export function fitLinear(samples: SampleSet, lambda = 1e-2): LinearWeights {
  const L = samples.lookback;
  const idx = sparRegressors(L);
  const d = idx.length + 1;
  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const row = new Float64Array(d);
  const stride = L * FEATURE_COUNT;
  for (let s = 0; s < samples.count; s++) {
    const w = samples.w[s];
    for (let i = 0; i < idx.length; i++) row[i] = samples.x[s * stride + idx[i]];
    row[d - 1] = 1;
    const yw = samples.y[s] * w;
    for (let i = 0; i < d; i++) {
      const ri = row[i] * w;
      if (ri === 0) continue;
      rhs[i] += row[i] * yw;
      for (let k = 0; k <= i; k++) A[i * d + k] += ri * row[k];
    }
  }
  let tr = 0;
  for (let i = 0; i < d; i++) {
    for (let k = i + 1; k < d; k++) A[i * d + k] = A[k * d + i];
    tr += A[i * d + i];
  }
  const pen = lambda * (tr / d || 1);
  for (let i = 0; i < d - 1; i++) A[i * d + i] += pen;
  A[(d - 1) * d + d - 1] += 1e-9;
  const beta = solveSpd(A, rhs, d);
  const w = new Float32Array(stride);
  for (let i = 0; i < idx.length; i++) w[idx[i]] = beta[i];
  return { lookback: L, w, b: beta[d - 1] };
}

/** The linear model's output in TypeScript (same as its ONNX graph): max(0, w·x + b) per row. */
export function linearPredict(m: LinearWeights, x: Float32Array, rows: number): Float32Array {
  const stride = m.lookback * FEATURE_COUNT;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let t = m.b;
    for (let i = 0; i < stride; i++) t += m.w[i] * x[r * stride + i];
    out[r] = Math.max(0, t);
  }
  return out;
}

/** Options of {@link fitSparForecaster}. */
export interface SparOptions {
  lookback: number;
  horizonBuckets: number;
  maxSamples?: number;
  lambda?: number;
  seed?: number;
}

/**
 * Fits SPAR on the history held by `batch` (origins up to its end minus the horizon) and loads it as an ONNX
 * forecaster named `spar`. Returns undefined when the history has no sample to fit.
 */
export async function fitSparForecaster(batch: SeriesBatch, o: SparOptions): Promise<OnnxForecaster | undefined> {
  const set = emptySamples(o.lookback, o.maxSamples ?? 20_000);
  addSamples(set, batch, {
    lookback: o.lookback,
    horizon: o.horizonBuckets,
    maxSamples: set.y.length,
    rand: mulberry32(o.seed ?? 1),
  });
  if (set.count < 8) return undefined;
  const model = fitLinear(set, o.lambda);
  const bytes = buildLinearOnnx(model, o.horizonBuckets, 'spar');
  return loadOnnxForecaster(bytes, { horizonBuckets: o.horizonBuckets, name: 'spar' });
}
