/**
 * Feature construction: a {@link SeriesBatch} → the model input `x` `[N, L, F]` plus each row's scale `s`.
 * Pure and allocation-free per row (writes into caller-owned buffers so batches reuse memory).
 *
 * Window: the L buckets ending at `end` (exclusive); buckets before 0 read as zero. Scale
 * `s = 1 + mean(reads + writes)` over the window. Features (order = {@link FEATURE_NAMES}):
 * - `reads`, `writes`: the bucket's counts / s;
 * - `seasonal`: total one season earlier, led by the horizon: at step t, total of bucket `t + H - P` / s, so the
 *   last H steps show the season-ago twin of the forecast window; `has_season` = 1 when that bucket exists;
 *   P = {@link seasonPeriod};
 * - `long_mean`: mean total per bucket over all held history before `end` (the rolled-up long window) / s;
 * - `tod_sin/cos`, `dow_sin/cos`: calendar of the bucket start (UTC; epoch day 0 is a Thursday);
 * - `write_ratio`: writes / (reads + writes) over held history; `zone_share`: this row's share of its key's
 *   accesses over held history (rows of one key are grouped within a batch); `app_share`: share of the dominant
 *   application (1 when unknown);
 * - `log_size` = ln(1 + bytes) / 20; `log_age` = ln(1 + buckets since last move or first access) / 10;
 *   `log_scale` = ln(s) / 10.
 * @module
 */
import { FEATURE_COUNT } from './contract.ts';
import type { SeriesBatch } from './index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/**
 * Seasonal period in buckets: daily when bucketMs <= 3 h, weekly when bucketMs <= 1 day, else 0 (none).
 * A period shorter than `minBuckets` (the horizon) or not an integer number of buckets (±2%) is 0.
 */
export function seasonPeriod(bucketMs: number, minBuckets: number): number {
  const season = bucketMs <= 3 * HOUR ? DAY : bucketMs <= DAY ? WEEK : 0;
  if (season === 0) return 0;
  const p = Math.round(season / bucketMs);
  if (p < Math.max(1, minBuckets) || Math.abs(p * bucketMs - season) > 0.02 * season) return 0;
  return p;
}

/** Reusable output buffers of {@link buildFeatures}. */
export interface FeatureBuffers {
  x: Float32Array;
  scale: Float32Array;
}

/** Allocates buffers for up to `rows` rows. */
export function allocFeatures(rows: number, lookback: number): FeatureBuffers {
  return { x: new Float32Array(rows * lookback * FEATURE_COUNT), scale: new Float32Array(rows) };
}

/** Per-row history statistics over buckets [0, end). */
function rowStats(batch: SeriesBatch, end: number, total: Float64Array, writes: Float64Array, first: Int32Array): void {
  const n = batch.buckets;
  const rd = batch.reads;
  const wr = batch.writes;
  for (let r = 0; r < batch.rows; r++) {
    let t = 0;
    let w = 0;
    let f = -1;
    const base = r * n;
    for (let b = 0; b < end; b++) {
      const wb = wr[base + b];
      const c = rd[base + b] + wb;
      if (f < 0 && c > 0) f = b;
      t += c;
      w += wb;
    }
    total[r] = t;
    writes[r] = w;
    first[r] = f;
  }
}

/**
 * Fills `out.x` (`[rows, L, F]`) and `out.scale` for the window ending at bucket `end` (default: the batch end).
 * Returns the number of rows written.
 */
export function buildFeatures(
  batch: SeriesBatch,
  lookback: number,
  horizon: number,
  out: FeatureBuffers,
  end: number = batch.buckets,
): number {
  const rows = batch.rows;
  const n = batch.buckets;
  const F = FEATURE_COUNT;
  const L = lookback;
  if (out.x.length < rows * L * F || out.scale.length < rows) throw new RangeError('feature buffers too small');
  const P = seasonPeriod(batch.bucketMs, horizon);
  const total = new Float64Array(rows);
  const wtot = new Float64Array(rows);
  const first = new Int32Array(rows);
  rowStats(batch, end, total, wtot, first);
  const keyTotal = new Map<string, number>();
  if (!batch.zoneShare)
    for (let r = 0; r < rows; r++) keyTotal.set(batch.keys[r], (keyTotal.get(batch.keys[r]) ?? 0) + total[r]);
  // Calendar of each window step (shared by all rows).
  const cal = new Float32Array(L * 4);
  for (let j = 0; j < L; j++) {
    const t = batch.startMs + (end - L + j) * batch.bucketMs;
    const tod = (((t % DAY) + DAY) % DAY) / DAY;
    const dow = (((t / DAY + 4) % 7) + 7) % 7;
    cal[j * 4] = Math.sin(2 * Math.PI * tod);
    cal[j * 4 + 1] = Math.cos(2 * Math.PI * tod);
    cal[j * 4 + 2] = Math.sin((2 * Math.PI * dow) / 7);
    cal[j * 4 + 3] = Math.cos((2 * Math.PI * dow) / 7);
  }
  const x = out.x;
  const rd = batch.reads;
  const wr = batch.writes;
  const zs = batch.zoneShare;
  const as = batch.appShare;
  const ages = batch.ageBuckets;
  const sizes = batch.sizeBytes;
  const lo = Math.max(0, end - L);
  const hi = Math.min(n, end);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let win = 0;
    for (let b = lo; b < hi; b++) win += rd[base + b] + wr[base + b];
    const s = 1 + win / L;
    const inv = 1 / s;
    out.scale[r] = s;
    const longMean = end > 0 ? total[r] / end / s : 0;
    const writeRatio = total[r] > 0 ? wtot[r] / total[r] : 0;
    const kt = zs ? 0 : (keyTotal.get(batch.keys[r]) ?? 0);
    const zoneShare = zs ? zs[r] : kt > 0 ? total[r] / kt : 0;
    const appShare = as ? as[r] : 1;
    const logSize = Math.log1p(sizes[r]) / 20;
    const age = ages ? ages[r] : first[r] >= 0 ? end - first[r] : 0;
    const logAge = Math.log1p(Math.max(0, age)) / 10;
    const logScale = Math.log(s) / 10;
    let o = r * L * F;
    for (let j = 0; j < L; j++, o += F) {
      const b = end - L + j;
      const inside = b >= 0 && b < n;
      x[o] = inside ? rd[base + b] * inv : 0;
      x[o + 1] = inside ? wr[base + b] * inv : 0;
      const sb = b + horizon - P;
      const hasSeason = P > 0 && sb >= 0 && sb < end;
      x[o + 2] = hasSeason ? (rd[base + sb] + wr[base + sb]) * inv : 0;
      x[o + 3] = hasSeason ? 1 : 0;
      x[o + 4] = longMean;
      x[o + 5] = cal[j * 4];
      x[o + 6] = cal[j * 4 + 1];
      x[o + 7] = cal[j * 4 + 2];
      x[o + 8] = cal[j * 4 + 3];
      x[o + 9] = writeRatio;
      x[o + 10] = zoneShare;
      x[o + 11] = appShare;
      x[o + 12] = logSize;
      x[o + 13] = logAge;
      x[o + 14] = logScale;
    }
  }
  return rows;
}

/** Sum of reads + writes of each row over buckets [from, to) (clipped to the batch): the target of training. */
export function windowTotals(
  batch: SeriesBatch,
  from: number,
  to: number,
  out = new Float64Array(batch.rows),
): Float64Array {
  const n = batch.buckets;
  const lo = Math.max(0, from);
  const hi = Math.min(n, to);
  for (let r = 0; r < batch.rows; r++) {
    let t = 0;
    for (let b = lo; b < hi; b++) t += batch.reads[r * n + b] + batch.writes[r * n + b];
    out[r] = t;
  }
  return out;
}
