/**
 * Trace → {@link Workload}: the rows of a trace in columns, with origins mapped to zone indices and keys scaled
 * (rules in the module doc of `index.ts`). Reading goes through the shared loader (`loadTraceTable` →
 * `readTrace`), so a malformed row fails with `TRACE_FORMAT` naming its line.
 * @module
 */
import { chooseBucketMs, loadTraceTable } from '../pae/trace-series.ts';
import { hashKey, hashWords, unitInterval } from '../ring/hash.ts';
import { DEFAULT_RECORD_BYTES } from './index.ts';
import { sunZone } from './sun.ts';

/** A trace ready to replay. Record `rid = base · keyScale + i` is key `baseKeys[base]` copy i. */
export interface Workload {
  readonly name: string;
  readonly rows: number;
  readonly ts: Float64Array;
  readonly rid: Int32Array;
  readonly zone: Uint8Array;
  readonly write: Uint8Array;
  readonly baseKeys: readonly string[];
  /** Bytes per trace key (the largest size seen; 0 → {@link DEFAULT_RECORD_BYTES}). */
  readonly baseSize: Float64Array;
  readonly keyScale: number;
  readonly records: number;
  readonly zoneNames: readonly string[];
  /** Trace origin → zone name (the mapping applied). */
  readonly originZones: Readonly<Record<string, string>>;
  readonly startMs: number;
  readonly endMs: number;
}

export interface WorkloadOptions {
  readonly zoneNames: readonly string[];
  readonly keyScale?: number;
  readonly seed?: number;
  /** Scenario C: `shares[h * zones + z]` (see `sun.ts`); replaces every origin. */
  readonly sunShares?: Float64Array;
  readonly signal?: AbortSignal;
}

/** The record key of `rid`. */
export function keyOf(w: Workload, rid: number): string {
  if (w.keyScale === 1) return w.baseKeys[rid];
  return `${w.baseKeys[Math.floor(rid / w.keyScale)]}#${rid % w.keyScale}`;
}

/** The record size of `rid`, bytes. */
export function sizeOf(w: Workload, rid: number): number {
  return w.baseSize[w.keyScale === 1 ? rid : Math.floor(rid / w.keyScale)];
}

/** Default bucket width of a workload: the PAE's rule on its span. */
export function bucketOf(w: Workload): number {
  return chooseBucketMs(w.endMs - w.startMs);
}

/** Origins → zone indices: by request count (desc, then name), the first `zones` one each, the rest hashed. */
export function mapOrigins(origins: readonly string[], counts: ArrayLike<number>, zones: number): Int32Array {
  const order = origins.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || (origins[a] < origins[b] ? -1 : 1));
  const out = new Int32Array(origins.length);
  order.forEach((o, rank) => {
    out[o] = rank < zones ? rank : (hashKey(origins[o]) >>> 0) % zones;
  });
  return out;
}

/** Loads a trace file as a workload (see the module doc). */
export async function loadWorkload(path: string, options: WorkloadOptions): Promise<Workload> {
  const t = await loadTraceTable(path, { signal: options.signal });
  const Z = options.zoneNames.length;
  const s = Math.max(1, Math.floor(options.keyScale ?? 1));
  const seed = options.seed ?? 1;
  const counts = new Float64Array(t.zones.length);
  for (let i = 0; i < t.rows; i++) counts[t.zone[i]]++;
  const map = mapOrigins(t.zones, counts, Z);
  const zone = new Uint8Array(t.rows);
  const rid = new Int32Array(t.rows);
  for (let i = 0; i < t.rows; i++) {
    zone[i] = options.sunShares
      ? sunZone(options.sunShares, Z, t.ts[i], unitInterval(hashWords(seed, i, 0x5)))
      : map[t.zone[i]];
    rid[i] = s === 1 ? t.key[i] : t.key[i] * s + ((hashWords(seed, i, 0x7) >>> 0) % s);
  }
  const baseSize = Float64Array.from(t.keySize, (b) => (b > 0 ? b : DEFAULT_RECORD_BYTES));
  const originZones: Record<string, string> = {};
  t.zones.forEach((o, i) => {
    originZones[o] = options.sunShares ? '(follow-the-sun)' : options.zoneNames[map[i]];
  });
  return {
    name: path.split('/').pop() ?? path,
    rows: t.rows,
    ts: t.ts,
    rid,
    zone,
    write: t.write,
    baseKeys: t.keys,
    baseSize,
    keyScale: s,
    records: t.keys.length * s,
    zoneNames: options.zoneNames,
    originZones,
    startMs: t.minTs,
    endMs: t.maxTs,
  };
}
