/**
 * The part of a trace that `shoal replay` sends, and the zone each of its origins maps to.
 *
 * **Reading.** The simulator's reader: `loadTraceTable` (`src/pae/trace-series.ts`, under `loadWorkload` of
 * `src/sim/workload.ts`), streaming through `readTrace`: `.gz` is gunzipped, a malformed row fails with
 * `TRACE_FORMAT` naming its line, the rows come sorted by time. Reading stops after `limit` rows, or at the
 * first row more than `maxSpanMs` of trace time after the first one (traces are sorted by time,
 * `../shared/traces/README.md`), so a replay never holds more than `limit` rows whatever the file's size.
 * Rows whose key cannot travel in a URL path (`.` and `..`, or longer than 1024 bytes) are then dropped and
 * counted (so a slice may hold fewer than `limit` rows).
 *
 * **Origin → zone** ({@link zonesOfOrigins}). The simulator's rule, reused ({@link mapOrigins} of
 * `src/sim/workload.ts`): origins sorted by their request count in the slice (descending, ties by name), the
 * first Z get one zone each in the cluster's zone order (zone names sorted), every further origin goes to zone
 * `murmur3(origin) mod Z`. With a mapping file (`--zones`, the format of `loadZoneMapping`: `{"origin": "zone",
 * "*": "default"}`) each origin goes where the file says, and must land on a zone of the cluster.
 * @module
 */

import { loadTraceTable } from '../../src/pae/trace-series.ts';
import { mapOrigins } from '../../src/sim/workload.ts';
import type { ZoneMapper } from '../../src/stats/trace.ts';

/** Rows of a trace in columns; `key` and `origin` index `keys` and `origins`. Sorted by time. */
export interface TraceSlice {
  readonly rows: number;
  /** The trace's `ts_ms`. */
  readonly ts: Float64Array;
  readonly key: Int32Array;
  readonly origin: Int32Array;
  /** 1 for a write. */
  readonly write: Uint8Array;
  readonly keys: readonly string[];
  /** Largest size seen per key, bytes (0: unknown). */
  readonly keySize: Float64Array;
  readonly origins: readonly string[];
  /** Rows per origin. */
  readonly originCounts: Float64Array;
  /** Why reading stopped: the file ended, `limit` rows were read, or the next row lay beyond `maxSpanMs`. */
  readonly stoppedBy: 'end' | 'limit' | 'span';
  /** Rows skipped because their key cannot be sent in a URL path. */
  readonly skipped: number;
}

export interface SliceOptions {
  /** Most rows to keep (at least 1). */
  limit: number;
  /** Most trace time after the first row, ms. Default: no bound. */
  maxSpanMs?: number;
  signal?: AbortSignal;
}

const MAX_KEY_BYTES = 1024;
const sendable = (key: string) => key !== '.' && key !== '..' && Buffer.byteLength(key) <= MAX_KEY_BYTES;

/** Reads the first rows of a trace (see the module doc). */
export async function readSlice(path: string, options: SliceOptions): Promise<TraceSlice> {
  // Origins stay origins (identity mapping): the zones are chosen afterwards, from the slice's counts.
  const t = await loadTraceTable(path, { limit: options.limit, maxSpanMs: options.maxSpanMs, signal: options.signal });
  const stoppedBy = t.truncated ?? 'end';
  const counts = (rows: number, origin: Int32Array) => {
    const c = new Float64Array(t.zones.length);
    for (let i = 0; i < rows; i++) c[origin[i]]++;
    return c;
  };
  const ok = t.keys.map(sendable);
  if (ok.every(Boolean)) {
    const { rows, ts, key, zone: origin, write, keys, keySize, zones: origins } = t;
    return {
      rows,
      ts,
      key,
      origin,
      write,
      keys,
      keySize,
      origins,
      originCounts: counts(rows, origin),
      stoppedBy,
      skipped: 0,
    };
  }
  // Drop the rows of unsendable keys, and renumber the keys left.
  const newId = new Int32Array(t.keys.length).fill(-1);
  const keys: string[] = [];
  const sizes: number[] = [];
  t.keys.forEach((k, i) => {
    if (!ok[i]) return;
    newId[i] = keys.push(k) - 1;
    sizes.push(t.keySize[i]);
  });
  const kept: number[] = [];
  for (let i = 0; i < t.rows; i++) if (ok[t.key[i]]) kept.push(i);
  const origin = Int32Array.from(kept, (i) => t.zone[i]);
  return {
    rows: kept.length,
    ts: Float64Array.from(kept, (i) => t.ts[i]),
    key: Int32Array.from(kept, (i) => newId[t.key[i]]),
    origin,
    write: Uint8Array.from(kept, (i) => t.write[i]),
    keys,
    keySize: Float64Array.from(sizes),
    origins: t.zones,
    originCounts: counts(kept.length, origin),
    stoppedBy,
    skipped: t.rows - kept.length,
  };
}

/** An origin mapped to a zone no daemon of the cluster is in (with a mapping file). */
export class UnknownZoneError extends Error {
  override name = 'UnknownZoneError';
}

/**
 * The zone of every origin of `slice`, as an index into `zones` (the cluster's zones in their stable order):
 * the simulator's rule, or `mapper` when given (see the module doc).
 */
export function zonesOfOrigins(
  slice: Pick<TraceSlice, 'origins' | 'originCounts'>,
  zones: readonly string[],
  mapper?: ZoneMapper,
): Int32Array {
  if (zones.length === 0) throw new UnknownZoneError('the cluster has no zones');
  if (!mapper) return mapOrigins(slice.origins, slice.originCounts, zones.length);
  return Int32Array.from(slice.origins, (o) => {
    const z = zones.indexOf(mapper(o));
    if (z < 0)
      throw new UnknownZoneError(
        `origin ${JSON.stringify(o)} maps to zone ${JSON.stringify(mapper(o))}, which no daemon is in (zones: ${zones.join(', ')})`,
      );
    return z;
  });
}
