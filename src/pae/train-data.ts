/**
 * Training data from traces: only rows before `minTs + (1 - holdout) * span` of each trace are used, so the
 * backtest (`eval.ts`, same holdout) never scores a model on data it was trained on. Each trace is cut at its
 * adaptive bucket width and at the neighbouring "nice" widths (scale augmentation, so one model serves traces from
 * seconds to months long); each (trace, width) gets an equal share of the sample budget.
 * @module
 */
import { FEATURE_COUNT } from './contract.ts';
import { mulberry32 } from './rng.ts';
import { addSamples, emptySamples, type SampleSet } from './samples.ts';
import { chooseBucketMs, NICE_BUCKETS, seriesAt, type TraceTable } from './trace-series.ts';

/** Options of {@link trainingSamples}. */
export interface TrainDataOptions {
  lookback: number;
  horizon: number;
  holdout: number;
  maxSamples: number;
  seed: number;
  bucketMs?: number;
  /** Fraction of each cut's latest origins kept for validation (default 0.2). */
  valFraction?: number;
}

/** Training and (temporally later) validation samples. */
export interface TrainValSamples {
  train: SampleSet;
  validation: SampleSet;
}

/**
 * Builds the sample sets (see the module doc). Validation samples come from the latest origins of each cut
 * (their targets end at the cut), training samples from origins whose targets end before those: the split is in
 * time, so early stopping selects for forecasting the future, not for interpolating the past.
 */
export function trainingSamples(tables: TraceTable[], o: TrainDataOptions): TrainValSamples {
  const rand = mulberry32(o.seed);
  const cuts: Array<{ table: TraceTable; end: number; bucketMs: number }> = [];
  for (const table of tables) {
    const end = table.minTs + (1 - o.holdout) * (table.maxTs - table.minTs);
    const base = o.bucketMs ?? chooseBucketMs(end - table.minTs);
    const i = NICE_BUCKETS.indexOf(base);
    const widths = i < 0 ? [base] : [NICE_BUCKETS[i - 1], base, NICE_BUCKETS[i + 1]].filter((b) => b !== undefined);
    for (const bucketMs of widths) {
      if ((end - table.minTs) / bucketMs >= o.horizon * 3) cuts.push({ table, end, bucketMs });
    }
  }
  const vf = o.valFraction ?? 0.2;
  const per = Math.max(1, Math.floor(o.maxSamples / Math.max(1, cuts.length)));
  const perVal = Math.max(1, Math.floor(per * vf));
  const train: SampleSet[] = [];
  const validation: SampleSet[] = [];
  for (const cut of cuts) {
    const batch = seriesAt(cut.table, cut.end, cut.bucketMs, 4096);
    const split = Math.floor(o.horizon + (batch.buckets - 2 * o.horizon) * (1 - vf));
    const common = { lookback: o.lookback, horizon: o.horizon, rand };
    const v = emptySamples(o.lookback, perVal);
    addSamples(v, batch, { ...common, maxSamples: perVal, firstOrigin: split });
    validation.push(v);
    const t = emptySamples(o.lookback, per - perVal);
    addSamples(t, batch, { ...common, maxSamples: per - perVal, lastOrigin: split - o.horizon });
    train.push(t);
  }
  return { train: concat(train, o.lookback), validation: concat(validation, o.lookback) };
}

function concat(parts: SampleSet[], lookback: number): SampleSet {
  const stride = lookback * FEATURE_COUNT;
  const total = parts.reduce((s, p) => s + p.count, 0);
  const out = emptySamples(lookback, total);
  let at = 0;
  for (const p of parts) {
    out.x.set(p.x.subarray(0, p.count * stride), at * stride);
    out.y.set(p.y.subarray(0, p.count), at);
    out.w.set(p.w.subarray(0, p.count), at);
    at += p.count;
  }
  out.count = total;
  return out;
}
