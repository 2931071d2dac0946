/**
 * Ensemble forecaster: combines the forecasts of member forecasters row by row, by a weighted mean (weights
 * normalised to sum 1; equal by default) or by the median. It is itself a {@link Forecaster}, so the backtest
 * scores it like any other model. It does not own its members: `close()` releases nothing, the caller closes
 * the members (SPAR, for one, is refitted per origin or per cycle and closed by whoever fitted it).
 *
 * Measured (docs/pae.md, "Results"): the mean and the median of the GRU with SPAR (and seasonal naive) trade
 * WAPE for hot-set precision and are better on neither metric on every shared trace, so the daemon does not use
 * them; `shoal pae eval` shows them beside the other models.
 * @module
 */
import { throwIfAborted } from '../errors/index.ts';
import type { Forecaster, SeriesBatch } from './index.ts';

/** Options of {@link createEnsemble}. */
export interface EnsembleOptions {
  /** Default: `mean(a,b)` or `median(a,b,c)` from the members' names. */
  name?: string;
  /** `mean` (weighted mean, default) or `median` (unweighted; the mean of the two middle values for an even count). */
  combine?: 'mean' | 'median';
  /** Mean weights, one per member, finite and >= 0 with a positive sum (normalised); default equal. */
  weights?: readonly number[];
}

/** Row-wise weighted mean of forecasts (`weights` already normalised). */
export function weightedMean(preds: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const out = new Float32Array(preds[0].length);
  for (let r = 0; r < out.length; r++) {
    let t = 0;
    for (let m = 0; m < preds.length; m++) t += weights[m] * preds[m][r];
    out[r] = t;
  }
  return out;
}

/** Row-wise median of forecasts. */
export function rowMedian(preds: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(preds[0].length);
  const v = new Float64Array(preds.length);
  const mid = preds.length >> 1;
  for (let r = 0; r < out.length; r++) {
    for (let m = 0; m < preds.length; m++) v[m] = preds[m][r];
    v.sort();
    out[r] = preds.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  }
  return out;
}

/** A {@link Forecaster} combining `members` (same horizon) row by row; see the module doc. */
export function createEnsemble(members: readonly Forecaster[], options: EnsembleOptions = {}): Forecaster {
  if (members.length === 0) throw new RangeError('an ensemble needs at least one member');
  const horizonBuckets = members[0].horizonBuckets;
  const odd = members.find((m) => m.horizonBuckets !== horizonBuckets);
  if (odd) throw new RangeError(`ensemble members disagree on the horizon: ${odd.name} has ${odd.horizonBuckets}`);
  const combine = options.combine ?? 'mean';
  const raw = options.weights ?? members.map(() => 1);
  if (raw.length !== members.length) throw new RangeError(`${raw.length} weights for ${members.length} members`);
  if (raw.some((w) => !Number.isFinite(w) || w < 0)) throw new RangeError('ensemble weights must be finite and >= 0');
  const sum = raw.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError('ensemble weights must have a positive sum');
  const weights = raw.map((w) => w / sum);
  const name = options.name ?? `${combine}(${members.map((m) => m.name).join(',')})`;
  return {
    name,
    kind: members.some((m) => m.kind === 'onnx') ? 'onnx' : 'baseline',
    horizonBuckets,
    async forecast(batch: SeriesBatch, opts?: { signal?: AbortSignal }): Promise<Float32Array> {
      const preds: Float32Array[] = [];
      for (const m of members) {
        throwIfAborted(opts?.signal);
        preds.push(await m.forecast(batch, opts));
      }
      return combine === 'median' ? rowMedian(preds) : weightedMean(preds, weights);
    },
  };
}
