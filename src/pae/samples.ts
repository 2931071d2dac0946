/**
 * Supervised samples from series history: for origins `o` inside a batch (every max(1, H/2) buckets), the
 * features of the window ending at `o` and the target `sum(total[o, o+H)) / s`, with weight `s` (so a weighted
 * L1 loss on scaled values equals the L1 loss on raw counts, the numerator of WAPE). Rows idle in both the
 * window and the target are kept with probability `idleKeep` (and weight 1 / idleKeep, so the loss stays unbiased); a reservoir bounds the set to `maxSamples`.
 * @module
 */
import { FEATURE_COUNT } from './contract.ts';
import { allocFeatures, buildFeatures, windowTotals } from './features.ts';
import type { SeriesBatch } from './index.ts';

/** Samples in contract layout. */
export interface SampleSet {
  lookback: number;
  count: number;
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
}

/** Options of {@link makeSamples}. */
export interface SampleOptions {
  lookback: number;
  horizon: number;
  maxSamples: number;
  rand: () => number;
  /** Probability of keeping an idle row (default 0.2); kept ones weigh 1 / idleKeep. */
  idleKeep?: number;
  /** Last origin used, inclusive (default and maximum: batch end - horizon). */
  lastOrigin?: number;
  /** First origin used (default: the horizon). */
  firstOrigin?: number;
}

/** Creates an empty reservoir. */
export function emptySamples(lookback: number, maxSamples: number): SampleSet {
  return {
    lookback,
    count: 0,
    x: new Float32Array(maxSamples * lookback * FEATURE_COUNT),
    y: new Float32Array(maxSamples),
    w: new Float32Array(maxSamples),
  };
}

/** Adds the samples of one batch to `set` by reservoir sampling; `seen` counts candidates so far (returned). */
export function addSamples(set: SampleSet, batch: SeriesBatch, o: SampleOptions, seen = 0): number {
  const L = o.lookback;
  const H = o.horizon;
  const stride = L * FEATURE_COUNT;
  const cap = set.y.length;
  const idleKeep = o.idleKeep ?? 0.2;
  const buf = allocFeatures(batch.rows, L);
  const target = new Float64Array(batch.rows);
  const last = Math.min(o.lastOrigin ?? batch.buckets - H, batch.buckets - H);
  const step = Math.max(1, Math.floor(H / 2));
  let c = seen;
  for (let origin = last; origin >= Math.max(1, H, o.firstOrigin ?? 0); origin -= step) {
    buildFeatures(batch, L, H, buf, origin);
    windowTotals(batch, origin, origin + H, target);
    for (let r = 0; r < batch.rows; r++) {
      const s = buf.scale[r];
      let weight = s;
      if (s === 1 && target[r] === 0) {
        // idle in window and target: keep a few so the model learns that silence stays silent
        let idleHistory = true;
        for (let j = 0; j < L && idleHistory; j++)
          if (buf.x[r * stride + j * FEATURE_COUNT + 4] !== 0) idleHistory = false;
        if (idleHistory || o.rand() >= idleKeep) continue;
        weight = 1 / idleKeep; // importance weight keeps the loss unbiased
      }
      let slot = c;
      if (c >= cap) {
        slot = Math.floor(o.rand() * (c + 1));
        if (slot >= cap) {
          c++;
          continue;
        }
      }
      set.x.set(buf.x.subarray(r * stride, (r + 1) * stride), slot * stride);
      set.y[slot] = target[r] / s;
      set.w[slot] = weight;
      c++;
    }
  }
  set.count = Math.min(c, cap);
  return c;
}
