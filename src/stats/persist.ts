/**
 * Persistence of the rolled-up series in the local store, under {@link KEYSPACE.stats}:
 * - `s` + `meta`: `{ v: 1, bucketMs, cur, total, zones, apps, zoneTotals, appTotals }` (msgpack);
 * - `s` + `k/` + key: `{ v: 1, key, score, size, first, apps: [[app, reads, writes]], lanes: [[zone,
 *   baseLast, base, hourLast, hour, dayLast, day]] }`, rings as little-endian uint32 (reads, writes) pairs.
 * Space-Saving slots, the sketch and the open bucket's cells are not persisted (the open bucket is flushed
 * into the series first). Loading merges counts into what the instance holds; base buckets are skipped
 * when the bucket width changed; rings are re-cut to the current retention.
 */
import { decode, encode } from '@msgpack/msgpack';
import { throwIfAborted } from '../errors/index.ts';
import { type BatchOp, checksumOf, KEYSPACE, prefixKey, type Store, type StoredRecord } from '../store/index.ts';
import type { StatsCore } from './core.ts';
import type { StatsLogger } from './index.ts';
import { type Ring, ringAdd, ringReads, ringWrites } from './ring.ts';

const utf8 = new TextEncoder();
const META_KEY = prefixKey(KEYSPACE.stats, utf8.encode('meta'));
const SERIES_PREFIX = prefixKey(KEYSPACE.stats, utf8.encode('k/'));
const BATCH = 512;

type LaneRow = [string, number, Uint8Array, number, Uint8Array, number, Uint8Array];
interface EntryDoc {
  v: 1;
  key: string;
  score: number;
  size: number;
  first: number;
  apps: Array<[string, number, number]>;
  lanes: LaneRow[];
}

function seriesKey(key: string): Uint8Array {
  const k = utf8.encode(key);
  const out = new Uint8Array(SERIES_PREFIX.length + k.length);
  out.set(SERIES_PREFIX);
  out.set(k, SERIES_PREFIX.length);
  return out;
}

function recordOf(value: Uint8Array, now: number): StoredRecord {
  return {
    value,
    meta: {
      version: '0',
      type: 'blob',
      contentType: 'application/msgpack',
      size: value.length,
      checksum: checksumOf(value),
      createdAt: now,
      updatedAt: now,
    },
  };
}

function ringBytes(r: Ring): Uint8Array {
  return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
}

function ringFrom(bytes: Uint8Array, last: number): Ring {
  if (!(bytes instanceof Uint8Array) || bytes.length % 8 !== 0 || !Number.isInteger(last)) {
    throw new TypeError('bad ring');
  }
  // A copy (Buffer#slice would return a view of the pooled buffer).
  const data = new Uint32Array(new Uint8Array(bytes).buffer);
  return { data, len: data.length / 2, last };
}

export async function persistCore(core: StatsCore, store: Store, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const now = Date.now();
  const meta = {
    v: 1,
    bucketMs: core.o.bucketMs,
    cur: core.cur,
    total: core.total,
    zones: core.zones.names,
    apps: core.apps.names,
    zoneTotals: Array.from(core.zoneTotals.subarray(0, core.zones.size * 4)),
    appTotals: Array.from(core.appTotals.subarray(0, core.apps.size * 2)),
  };
  let ops: BatchOp[] = [{ type: 'put', key: META_KEY, record: recordOf(encode(meta), now) }];
  const flush = async () => {
    if (ops.length) await store.batch(ops, { signal });
    ops = [];
  };
  for (const e of core.series.entries.values()) {
    const doc: EntryDoc = {
      v: 1,
      key: e.key,
      score: e.score,
      size: e.size,
      first: e.firstSeenMs,
      apps: [...e.apps].map(([a, [r, w]]) => [core.apps.names[a], r, w]),
      lanes: e.lanes
        .filter((l) => l !== undefined)
        .map((l) => [
          core.zones.names[l.zone],
          l.base.last,
          ringBytes(l.base),
          l.hour.last,
          ringBytes(l.hour),
          l.day.last,
          ringBytes(l.day),
        ]),
    };
    ops.push({ type: 'put', key: seriesKey(e.key), record: recordOf(encode(doc), now) });
    if (ops.length >= BATCH) await flush();
  }
  await flush();
  // Drop series that are no longer kept.
  const dec = new TextDecoder();
  let after: Uint8Array | undefined;
  for (;;) {
    const page = await store.scan({ prefix: SERIES_PREFIX, after, limit: 1000, keysOnly: true, signal });
    for (const { key } of page.entries) {
      if (!core.series.entries.has(dec.decode(key.subarray(SERIES_PREFIX.length)))) ops.push({ type: 'del', key });
    }
    if (ops.length >= BATCH) await flush();
    if (!page.cursor) break;
    after = page.cursor;
  }
  await flush();
}

/** The bucket width and open bucket start of persisted stats, or undefined when none are persisted. */
export async function readPersistedMeta(
  store: Store,
  signal?: AbortSignal,
): Promise<{ bucketMs: number; openBucketStartMs: number } | undefined> {
  const rec = await store.get(META_KEY, { signal });
  if (!rec) return undefined;
  try {
    const m = decode(rec.value) as Record<string, unknown>;
    if (typeof m.bucketMs !== 'number' || typeof m.cur !== 'number') return undefined;
    return { bucketMs: m.bucketMs, openBucketStartMs: Math.max(m.cur, 0) * m.bucketMs };
  } catch {
    return undefined;
  }
}

export async function loadCore(core: StatsCore, store: Store, logger: StatsLogger, signal?: AbortSignal) {
  throwIfAborted(signal);
  const metaRec = await store.get(META_KEY, { signal });
  if (!metaRec) return;
  let sameWidth = true;
  try {
    const m = decode(metaRec.value) as Record<string, unknown>;
    sameWidth = m.bucketMs === core.o.bucketMs;
    if (sameWidth && typeof m.cur === 'number' && m.cur > core.cur) core.roll(m.cur);
    if (typeof m.total === 'number') core.total += m.total;
    mergeTotals(m.zones, m.zoneTotals, 4, (n) => core.zones.id(n), core.zoneTotals);
    mergeTotals(m.apps, m.appTotals, 2, (n) => core.apps.id(n), core.appTotals);
  } catch (err) {
    logger.warn({ err }, 'stats: persisted meta is malformed; loading series only');
  }
  const docs: EntryDoc[] = [];
  let after: Uint8Array | undefined;
  for (;;) {
    const page = await store.scan({ prefix: SERIES_PREFIX, after, limit: 1000, signal });
    for (const { record } of page.entries) {
      try {
        const d = decode(record.value) as EntryDoc;
        if (d?.v !== 1 || typeof d.key !== 'string' || !Array.isArray(d.lanes)) throw new TypeError('bad entry');
        docs.push(d);
      } catch (err) {
        logger.warn({ err }, 'stats: skipping a malformed persisted series');
      }
    }
    if (!page.cursor) break;
    after = page.cursor;
  }
  docs.sort((a, b) => b.score - a.score);
  for (const d of docs) {
    try {
      mergeEntry(core, d, sameWidth);
    } catch (err) {
      logger.warn({ err, key: d.key }, 'stats: skipping a malformed persisted series');
    }
  }
}

function mergeTotals(names: unknown, values: unknown, stride: number, id: (n: string) => number, into: Float64Array) {
  if (!Array.isArray(names) || !Array.isArray(values)) return;
  names.forEach((n, i) => {
    if (typeof n !== 'string') return;
    const at = id(n) * stride;
    for (let k = 0; k < stride; k++) {
      const v = values[i * stride + k];
      if (typeof v === 'number' && v >= 0) into[at + k] += v;
    }
  });
}

function mergeEntry(core: StatsCore, d: EntryDoc, sameWidth: boolean): void {
  const series = core.series;
  const rings = d.lanes.map((l) => ({
    zone: String(l[0]),
    base: ringFrom(l[2], l[1]),
    hour: ringFrom(l[4], l[3]),
    day: ringFrom(l[6], l[5]),
  }));
  const had = series.entries.get(d.key);
  const e = had ?? series.create(d.key, Number(d.first) || 0);
  e.score += Number(d.score) || 0;
  if (!e.size) e.size = Number(d.size) || 0;
  for (const l of rings) {
    const lane = series.lane(e, core.zones.id(l.zone));
    if (!lane) {
      series.droppedLanes++;
      continue;
    }
    if (sameWidth) copyRing(l.base, lane.base);
    copyRing(l.hour, lane.hour);
    copyRing(l.day, lane.day);
  }
  if (e.laneCount === 0 && !had) series.remove(d.key);
  for (const [app, r, w] of Array.isArray(d.apps) ? d.apps : []) {
    const a = core.apps.id(String(app));
    const have = e.apps.get(a);
    if (have) {
      have[0] += Number(r) || 0;
      have[1] += Number(w) || 0;
    } else e.apps.set(a, [Number(r) || 0, Number(w) || 0]);
  }
}

function copyRing(src: Ring, dst: Ring): void {
  if (src.last === -1) return;
  for (let i = Math.max(0, src.last - Math.min(src.len, dst.len) + 1); i <= src.last; i++) {
    const r = ringReads(src, i);
    const w = ringWrites(src, i);
    if (r || w) ringAdd(dst, i, r, w);
  }
}
