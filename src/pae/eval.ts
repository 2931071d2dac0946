/**
 * Rolling-origin backtest over the last `holdout` fraction of a trace. Origins start at
 * `minTs + (1 - holdout) * span` and step by one horizon (`H * bucketMs`) while the whole forecast window lies
 * inside the trace. At each origin every model forecasts from rows before the origin only (SPAR is refitted on
 * that history), and is scored against the rows of the window.
 *
 * Metrics (over (key, zone) pairs seen before the origin; pairs first seen inside the window are not forecast):
 * - WAPE = Σ|forecast − actual| / Σ actual, MAE = mean |forecast − actual|, pooled over all origins;
 * - precision@k ({@link precisionAtK}): k = max(1, ceil(1% of keys seen)); key totals sum the zones; the actual
 *   hot set is every key whose window total reaches the k-th largest actual total (ties at the boundary all count:
 *   which of two equally hot keys is "in" the top k is arbitrary) and is > 0; precision = |predicted top-k ∩ hot
 *   set| / min(k, keys with accesses); averaged over origins with at least one access;
 * - calibration of the heatmap: for keys accessed in the window, predicted zone probability vs observed zone
 *   share, in 10 bins; `calibrationError` = access-weighted mean |predicted − observed| over bins (ECE).
 *
 * Each learned model is also scored in two ensembles with the baselines (`ensemble.ts`), rebuilt per origin
 * since SPAR is refitted there: `mean(<model>,spar)` and `median(<model>,spar,seasonal-naive)`.
 * @module
 */
import { throwIfAborted } from '../errors/index.ts';
import { createBaseline } from './baselines.ts';
import { DEFAULT_LOOKBACK } from './contract.ts';
import { createEnsemble } from './ensemble.ts';
import type { Forecaster, SeriesBatch } from './index.ts';
import { fitSparForecaster } from './linear.ts';
import { actualsBetween, chooseBucketMs, seriesAt, type TraceTable } from './trace-series.ts';

/** Options of {@link backtest}. */
export interface EvalOptions {
  horizonBuckets: number;
  /** Fraction of the trace span used for origins (default 0.25). */
  holdout?: number;
  /** Fixed bucket width; default: adaptive per origin (`chooseBucketMs`). */
  bucketMs?: number;
  /** Learned models, already loaded. Baselines and SPAR are always included. */
  models?: Forecaster[];
  /** At most this many origins (the last ones; default 24). */
  maxOrigins?: number;
  onOrigin?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Kind of a scored model. */
export type ModelKind = 'baseline' | 'learned' | 'ensemble';

/** Metrics of one model. */
export interface ModelMetrics {
  name: string;
  /** `baseline` (EWMA, seasonal naive, SPAR), `learned` (ONNX models given to the backtest) or `ensemble`. */
  kind: ModelKind;
  wape: number;
  mae: number;
  precisionAtK: number;
  calibrationError: number;
  /** 10 bins: mean predicted probability, observed share, weight. */
  calibration: Array<{ predicted: number; observed: number; weight: number }>;
}

/** Result of a backtest. */
export interface EvalReport {
  origins: number[];
  bucketMs: number[];
  horizonBuckets: number;
  pairsScored: number;
  models: ModelMetrics[];
  best: string;
}

interface Acc {
  name: string;
  kind: ModelKind;
  abs: number;
  actual: number;
  n: number;
  prec: number;
  precN: number;
  bins: Float64Array; // 10 × [sum p·w, sum o·w, sum w]
}

function keyTotals(keys: readonly string[], values: ArrayLike<number>): Map<string, number> {
  const byKey = new Map<string, number>();
  for (let r = 0; r < keys.length; r++) byKey.set(keys[r], (byKey.get(keys[r]) ?? 0) + values[r]);
  return byKey;
}

/**
 * Precision of the predicted hot set for one window (see the module doc); `keys[r]`, `pred[r]`, `actual[r]` per
 * (key, zone) row. Returns undefined when nothing was accessed in the window.
 */
export function precisionAtK(
  keys: readonly string[],
  pred: ArrayLike<number>,
  actual: ArrayLike<number>,
  fraction = 0.01,
): number | undefined {
  const act = keyTotals(keys, actual);
  const k = Math.max(1, Math.ceil(act.size * fraction));
  const positive = [...act.values()].filter((v) => v > 0).sort((a, b) => b - a);
  if (positive.length === 0) return undefined;
  const kth = positive[Math.min(k, positive.length) - 1];
  const predTop = [...keyTotals(keys, pred)].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k);
  let hit = 0;
  for (const [key] of predTop) if ((act.get(key) ?? 0) >= kth) hit++;
  return hit / Math.min(k, positive.length);
}

function score(acc: Acc, batch: SeriesBatch, pred: Float32Array, actual: Float64Array): void {
  for (let r = 0; r < batch.rows; r++) {
    acc.abs += Math.abs(pred[r] - actual[r]);
    acc.actual += actual[r];
    acc.n++;
  }
  const p = precisionAtK(batch.keys, pred, actual);
  if (p !== undefined) {
    acc.prec += p;
    acc.precN++;
  }
  // calibration: rows of one key are adjacent (seriesAt orders by key)
  for (let r0 = 0; r0 < batch.rows; ) {
    let r1 = r0;
    let pSum = 0;
    let aSum = 0;
    while (r1 < batch.rows && batch.keys[r1] === batch.keys[r0]) {
      pSum += pred[r1];
      aSum += actual[r1];
      r1++;
    }
    if (aSum > 0) {
      for (let r = r0; r < r1; r++) {
        const p = pSum > 0 ? pred[r] / pSum : 1 / (r1 - r0);
        const bin = Math.min(9, Math.floor(p * 10));
        acc.bins[bin * 3] += p * aSum;
        acc.bins[bin * 3 + 1] += (actual[r] / aSum) * aSum;
        acc.bins[bin * 3 + 2] += aSum;
      }
    }
    r0 = r1;
  }
}

function finish(acc: Acc): ModelMetrics {
  const calibration: ModelMetrics['calibration'] = [];
  let ece = 0;
  let wTot = 0;
  for (let b = 0; b < 10; b++) {
    const w = acc.bins[b * 3 + 2];
    const p = w > 0 ? acc.bins[b * 3] / w : 0;
    const o = w > 0 ? acc.bins[b * 3 + 1] / w : 0;
    calibration.push({ predicted: p, observed: o, weight: w });
    ece += Math.abs(p - o) * w;
    wTot += w;
  }
  return {
    name: acc.name,
    kind: acc.kind,
    wape: acc.actual > 0 ? acc.abs / acc.actual : Number.NaN,
    mae: acc.n > 0 ? acc.abs / acc.n : Number.NaN,
    precisionAtK: acc.precN > 0 ? acc.prec / acc.precN : Number.NaN,
    calibrationError: wTot > 0 ? ece / wTot : Number.NaN,
    calibration,
  };
}

/** Origins of the backtest (see the module doc). */
export function backtestOrigins(table: TraceTable, o: EvalOptions): Array<{ at: number; bucketMs: number }> {
  const span = table.maxTs - table.minTs;
  const out: Array<{ at: number; bucketMs: number }> = [];
  let at = table.minTs + (1 - (o.holdout ?? 0.25)) * span;
  for (;;) {
    const bucketMs = o.bucketMs ?? chooseBucketMs(at - table.minTs);
    if (at + o.horizonBuckets * bucketMs > table.maxTs + 1) break;
    out.push({ at: Math.round(at), bucketMs });
    at += o.horizonBuckets * bucketMs;
  }
  return out.slice(-(o.maxOrigins ?? 24));
}

/** Runs the backtest; `best` is the model with the lowest WAPE. */
export async function backtest(table: TraceTable, o: EvalOptions): Promise<EvalReport> {
  const H = o.horizonBuckets;
  const learned = o.models ?? [];
  const naive = createBaseline('seasonal-naive', H);
  const fixed: Forecaster[] = [createBaseline('ewma', H), naive, ...learned];
  const columns: Array<[string, ModelKind]> = [
    ['ewma', 'baseline'],
    ['seasonal-naive', 'baseline'],
    ['spar', 'baseline'],
    ...learned.map((m): [string, ModelKind] => [m.name, 'learned']),
    ...learned.flatMap(
      (m): Array<[string, ModelKind]> => [
        [`mean(${m.name},spar)`, 'ensemble'],
        [`median(${m.name},spar,seasonal-naive)`, 'ensemble'],
      ],
    ),
  ];
  const accs: Acc[] = columns.map(([name, kind]) => ({
    name,
    kind,
    abs: 0,
    actual: 0,
    n: 0,
    prec: 0,
    precN: 0,
    bins: new Float64Array(30),
  }));
  const origins = backtestOrigins(table, o);
  let pairs = 0;
  for (const [i, { at, bucketMs }] of origins.entries()) {
    throwIfAborted(o.signal);
    const batch = seriesAt(table, at, bucketMs, 512, o.signal);
    if (batch.rows === 0) continue;
    const actual = actualsBetween(table, batch, at, at + H * bucketMs);
    pairs += batch.rows;
    const spar = await fitSparForecaster(batch, { lookback: DEFAULT_LOOKBACK, horizonBuckets: H });
    const preds: Float32Array[] = [];
    for (const f of fixed.slice(0, 2)) preds.push(await f.forecast(batch, { signal: o.signal }));
    preds.push(spar ? await spar.forecast(batch, { signal: o.signal }) : preds[1]);
    for (const f of fixed.slice(2)) preds.push(await f.forecast(batch, { signal: o.signal }));
    const sparOrNaive = spar ?? naive; // as the spar column: seasonal naive when SPAR has nothing to fit
    for (const m of learned) {
      for (const e of [
        createEnsemble([m, sparOrNaive]),
        createEnsemble([m, sparOrNaive, naive], { combine: 'median' }),
      ]) {
        preds.push(await e.forecast(batch, { signal: o.signal }));
      }
    }
    await spar?.close?.();
    preds.forEach((p, m) => {
      score(accs[m], batch, p, actual);
    });
    o.onOrigin?.(i + 1, origins.length);
  }
  const models = accs.map(finish);
  const ranked = models.filter((m) => Number.isFinite(m.wape)).sort((a, b) => a.wape - b.wape);
  return {
    origins: origins.map((x) => x.at),
    bucketMs: origins.map((x) => x.bucketMs),
    horizonBuckets: H,
    pairsScored: pairs,
    models,
    best: ranked[0]?.name ?? 'seasonal-naive',
  };
}
