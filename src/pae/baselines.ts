/**
 * Baseline forecasters, pure TypeScript (no fitting):
 * - `ewma`: exponentially weighted moving average of the per-bucket total, alpha = 0.3 (fixed, not tuned),
 *   times the horizon;
 * - `seasonal-naive`: the total of the same H buckets one season earlier (daily or weekly, see
 *   `seasonPeriod`); without a season in the history it is the plain naive forecast (the last H buckets).
 * The third baseline, the SPAR-style ridge autoregression, is fitted and runs through ONNX (`linear.ts`).
 * @module
 */
import { throwIfAborted } from '../errors/index.ts';
import { seasonPeriod } from './features.ts';
import type { Forecaster, SeriesBatch } from './index.ts';

/** EWMA of the per-bucket total of each row over buckets [0, end). */
export function ewmaForecast(batch: SeriesBatch, horizon: number, alpha = 0.3, end = batch.buckets): Float32Array {
  const out = new Float32Array(batch.rows);
  const n = batch.buckets;
  for (let r = 0; r < batch.rows; r++) {
    let level = 0;
    let started = false;
    for (let b = 0; b < end; b++) {
      const c = batch.reads[r * n + b] + batch.writes[r * n + b];
      if (!started) {
        if (c === 0) continue;
        started = true;
        level = c;
      } else level = alpha * c + (1 - alpha) * level;
    }
    out[r] = level * horizon;
  }
  return out;
}

/** Seasonal naive forecast (naive: last H buckets, when no season fits in [0, end)). */
export function seasonalNaiveForecast(batch: SeriesBatch, horizon: number, end = batch.buckets): Float32Array {
  const out = new Float32Array(batch.rows);
  const n = batch.buckets;
  const p = seasonPeriod(batch.bucketMs, horizon);
  const from = p > 0 && end - p >= 0 ? end - p : end - horizon;
  for (let r = 0; r < batch.rows; r++) {
    let t = 0;
    for (let b = Math.max(0, from); b < Math.min(end, from + horizon); b++) {
      t += batch.reads[r * n + b] + batch.writes[r * n + b];
    }
    out[r] = t;
  }
  return out;
}

/** Names of the built-in baselines. */
export const BASELINES = ['ewma', 'seasonal-naive'] as const;
export type BaselineName = (typeof BASELINES)[number];

/** A {@link Forecaster} for one baseline. */
export function createBaseline(name: BaselineName, horizonBuckets: number): Forecaster {
  const fn = name === 'ewma' ? ewmaForecast : seasonalNaiveForecast;
  return {
    name,
    kind: 'baseline',
    horizonBuckets,
    async forecast(batch, options) {
      throwIfAborted(options?.signal);
      return fn(batch, horizonBuckets);
    },
  };
}
