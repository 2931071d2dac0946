/**
 * Adapter from a trace file to {@link SeriesBatch}es, for the CLI, eval and training. The trace is read once
 * (streaming) into a compact columnar table; series are cut from it at any origin `at` using rows with
 * `ts_ms < at` only.
 *
 * Bucket width rule ({@link chooseBucketMs}): the span of history before `at` divided by 96, rounded to the
 * nearest (in log scale) "nice" width (1 s, 2 s, 5 s, 10 s, 15 s, 30 s, 1 min, 2, 5, 10, 15, 30 min, 1 h, 2, 3,
 * 6, 12 h, 1 day, 2 days, 1 week), at least 1 s. With the default 4-bucket horizon the forecast covers ~1/24 of
 * the history: 8 min for 3 h of history, 1 h for a day, 2 days for two months.
 * @module
 */
import { throwIfAborted } from '../errors/index.ts';
import { identityZone, readTrace, type ZoneMapper } from '../stats/trace.ts';
import type { SeriesBatch } from './index.ts';

/** A trace in columns; `key` and `zone` index `keys` and `zones`. Sorted by time. */
export interface TraceTable {
  rows: number;
  ts: Float64Array;
  key: Int32Array;
  zone: Int32Array;
  write: Uint8Array;
  /** Largest size seen per key. */
  keySize: Float64Array;
  keys: string[];
  zones: string[];
  minTs: number;
  maxTs: number;
  /** Set when reading stopped before the end of the file: after `limit` rows, or at a row beyond `maxSpanMs`. */
  truncated?: 'limit' | 'span';
}

/** Options of {@link loadTraceTable}. */
export interface LoadTraceOptions {
  zoneMapper?: ZoneMapper;
  signal?: AbortSignal;
  /** Stop after this many rows (the rest of the file is not read). Default: every row. */
  limit?: number;
  /** Stop at the first row more than this many ms after the first row (traces are sorted by time). */
  maxSpanMs?: number;
}

/**
 * Reads a trace into a {@link TraceTable}, mapping origins to zones with `zoneMapper` (default identity); with
 * `limit` or `maxSpanMs`, only its first rows (`shoal replay` reads its slice so).
 */
export async function loadTraceTable(path: string, options: LoadTraceOptions = {}): Promise<TraceTable> {
  const mapper = options.zoneMapper ?? identityZone;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const maxSpan = options.maxSpanMs ?? Number.POSITIVE_INFINITY;
  let truncated: TraceTable['truncated'];
  const keyIds = new Map<string, number>();
  const zoneIds = new Map<string, number>();
  const ts: number[] = [];
  const key: number[] = [];
  const zone: number[] = [];
  const write: number[] = [];
  const sizes: number[] = [];
  let sorted = true;
  for await (const row of readTrace(path, { signal: options.signal })) {
    if (ts.length >= limit) {
      truncated = 'limit';
      break;
    }
    if (ts.length > 0 && row.tsMs - ts[0] > maxSpan) {
      truncated = 'span';
      break;
    }
    let k = keyIds.get(row.key);
    if (k === undefined) {
      k = keyIds.size;
      keyIds.set(row.key, k);
      sizes.push(0);
    }
    const zName = mapper(row.origin);
    let z = zoneIds.get(zName);
    if (z === undefined) {
      z = zoneIds.size;
      zoneIds.set(zName, z);
    }
    if (ts.length > 0 && row.tsMs < ts[ts.length - 1]) sorted = false;
    ts.push(row.tsMs);
    key.push(k);
    zone.push(z);
    write.push(row.op === 'w' ? 1 : 0);
    if (row.size > sizes[k]) sizes[k] = row.size;
  }
  let order: number[] | undefined;
  if (!sorted) order = ts.map((_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
  const pick = <T extends Float64Array | Int32Array | Uint8Array>(src: number[], out: T): T => {
    for (let i = 0; i < src.length; i++) out[i] = src[order ? order[i] : i];
    return out;
  };
  const n = ts.length;
  const t = pick(ts, new Float64Array(n));
  return {
    rows: n,
    ts: t,
    key: pick(key, new Int32Array(n)),
    zone: pick(zone, new Int32Array(n)),
    write: pick(write, new Uint8Array(n)),
    keySize: Float64Array.from(sizes),
    keys: [...keyIds.keys()],
    zones: [...zoneIds.keys()],
    minTs: n > 0 ? t[0] : 0,
    maxTs: n > 0 ? t[n - 1] : 0,
    ...(truncated ? { truncated } : {}),
  };
}

const S = 1000;
const M = 60 * S;
const HR = 60 * M;
const D = 24 * HR;
/** The "nice" bucket widths, ms. */
export const NICE_BUCKETS = [
  S,
  2 * S,
  5 * S,
  10 * S,
  15 * S,
  30 * S,
  M,
  2 * M,
  5 * M,
  10 * M,
  15 * M,
  30 * M,
  HR,
  2 * HR,
  3 * HR,
  6 * HR,
  12 * HR,
  D,
  2 * D,
  7 * D,
];

/** Bucket width for `spanMs` of history (see the module doc). */
export function chooseBucketMs(spanMs: number, bucketsPerSpan = 96): number {
  const raw = Math.max(S, spanMs / bucketsPerSpan);
  let best = NICE_BUCKETS[0];
  for (const b of NICE_BUCKETS) if (Math.abs(Math.log(b / raw)) < Math.abs(Math.log(best / raw))) best = b;
  return best;
}

/** Index of the first row with ts >= t (binary search). */
export function lowerBound(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Series of every (key, zone) with a row before `at`, on buckets ending exactly at `at` (at most `maxBuckets`
 * of them, the most recent). Rows are ordered by key then zone.
 */
export function seriesAt(
  table: TraceTable,
  at: number,
  bucketMs: number,
  maxBuckets = 512,
  signal?: AbortSignal,
): SeriesBatch {
  const end = lowerBound(table.ts, at);
  const Z = table.zones.length;
  const pairRow = new Map<number, number>();
  const pairs: number[] = [];
  for (let i = 0; i < end; i++) {
    const p = table.key[i] * Z + table.zone[i];
    if (!pairRow.has(p)) {
      pairRow.set(p, -1);
      pairs.push(p);
    }
  }
  throwIfAborted(signal);
  pairs.sort((a, b) => a - b);
  pairs.forEach((p, r) => {
    pairRow.set(p, r);
  });
  const span = end > 0 ? at - table.ts[0] : 0;
  const n = Math.max(1, Math.min(maxBuckets, Math.ceil(span / bucketMs)));
  const startMs = at - n * bucketMs;
  const rows = pairs.length;
  const reads = new Float32Array(rows * n);
  const writes = new Float32Array(rows * n);
  for (let i = lowerBound(table.ts, startMs); i < end; i++) {
    const r = pairRow.get(table.key[i] * Z + table.zone[i])!;
    const b = Math.min(n - 1, Math.floor((table.ts[i] - startMs) / bucketMs));
    if (table.write[i]) writes[r * n + b]++;
    else reads[r * n + b]++;
  }
  const sizeBytes = new Float64Array(rows);
  const keys: string[] = new Array(rows);
  const zones: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const k = Math.floor(pairs[r] / Z);
    keys[r] = table.keys[k];
    zones[r] = table.zones[pairs[r] % Z];
    sizeBytes[r] = table.keySize[k];
  }
  return { bucketMs, startMs, buckets: n, rows, keys, zones, reads, writes, sizeBytes };
}

/** Actual accesses per row of `batch` in `[from, to)` (rows unseen before are ignored). */
export function actualsBetween(table: TraceTable, batch: SeriesBatch, from: number, to: number): Float64Array {
  const Z = table.zones.length;
  const keyId = new Map<string, number>();
  table.keys.forEach((k, i) => {
    keyId.set(k, i);
  });
  const zoneId = new Map(table.zones.map((z, i) => [z, i]));
  const rowOf = new Map<number, number>();
  for (let r = 0; r < batch.rows; r++) rowOf.set(keyId.get(batch.keys[r])! * Z + zoneId.get(batch.zones[r])!, r);
  const out = new Float64Array(batch.rows);
  for (let i = lowerBound(table.ts, from); i < table.rows && table.ts[i] < to; i++) {
    const r = rowOf.get(table.key[i] * Z + table.zone[i]);
    if (r !== undefined) out[r]++;
  }
  return out;
}
