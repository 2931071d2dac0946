import { addPair, type StatsCore, TAG_SIZE } from './core.ts';
import type {
  AppShare,
  Resolution,
  SeriesBatch,
  SeriesBatchQuery,
  SeriesBuckets,
  SeriesView,
  TopEntry,
  TopQuery,
} from './index.ts';
import { ringReads, ringWrites } from './ring.ts';
import { DAY_MS, HOUR_MS, type Lane, type SeriesEntry, type ZoneCounts } from './series.ts';

const RES_KEY = { bucket: 'base', hour: 'hour', day: 'day' } as const;

/** Width in ms of a resolution. */
export function widthOf(core: StatsCore, res: Resolution): number {
  return res === 'bucket' ? core.o.bucketMs : res === 'hour' ? HOUR_MS : DAY_MS;
}

/** Absolute index at `res` of the bucket that holds time `ms`. */
function indexAt(core: StatsCore, res: Resolution, ms: number): number {
  return Math.floor(ms / widthOf(core, res));
}

function lenOf(core: StatsCore, res: Resolution): number {
  return res === 'bucket' ? core.o.baseLen : res === 'hour' ? core.o.hourLen : core.o.dayLen;
}

/** The finest resolution whose retention covers `windowMs`. */
export function resolutionFor(core: StatsCore, windowMs: number): Resolution {
  if (windowMs <= core.o.baseLen * core.o.bucketMs) return 'bucket';
  if (windowMs <= core.o.hourLen * HOUR_MS) return 'hour';
  return 'day';
}

/** Open-bucket counts of every key: key → zone id → [reads, writes, one, all]. */
function openByKey(core: StatsCore): Map<string, Map<number, ZoneCounts>> {
  const out = new Map<string, Map<number, ZoneCounts>>();
  for (const [key, agg] of core.aggregate()) out.set(key, agg.zones);
  return out;
}

export function top(core: StatsCore, q: TopQuery = {}): TopEntry[] {
  core.tick();
  const windowMs = q.windowMs ?? HOUR_MS;
  const limit = q.limit ?? 10;
  const zone = q.zone === undefined ? undefined : core.zones.peek(q.zone);
  if (q.zone !== undefined && zone === undefined) return [];
  if (core.cur === -1) return [];
  const res = resolutionFor(core, windowMs);
  const nowMs = core.cur * core.o.bucketMs;
  const to = indexAt(core, res, nowMs);
  const from = to - Math.ceil(windowMs / widthOf(core, res)) + 1;
  const open = openByKey(core);
  const rows: TopEntry[] = [];
  const push = (key: string, reads: number, writes: number) => {
    if (reads + writes > 0)
      rows.push({ key, reads, writes, total: reads + writes, ...(q.zone ? { zone: q.zone } : {}) });
  };
  for (const e of core.series.entries.values()) {
    const s = core.series.sum(e, RES_KEY[res], from, to, zone);
    const o = open.get(e.key);
    if (o) {
      addOpen(s, o, zone);
      open.delete(e.key);
    }
    push(e.key, s.reads, s.writes);
  }
  for (const [key, o] of open) {
    const s = { reads: 0, writes: 0 };
    addOpen(s, o, zone);
    push(key, s.reads, s.writes);
  }
  rows.sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
  return rows.slice(0, limit);
}

function addOpen(s: { reads: number; writes: number }, o: Map<number, ZoneCounts>, zone?: number): void {
  for (const [z, [r, w]] of o) {
    if (zone === undefined || z === zone) {
      s.reads += r;
      s.writes += w;
    }
  }
}

export function series(core: StatsCore, key: string): SeriesView {
  core.tick();
  const e = core.series.entries.get(key);
  const slot = core.ss.slotOf(key);
  const agg = core.aggregate().get(key);
  const view: SeriesView = {
    key,
    bucketMs: core.o.bucketMs,
    tracked: slot !== -1,
    estimate: core.sketch.estimate(key),
    size: agg?.size || e?.size || 0,
    firstSeenMs: e?.firstSeenMs ?? agg?.firstSeenMs ?? null,
    zones: {},
    apps: [],
  };
  if (slot !== -1) {
    view.count = core.ss.countOf(slot);
    view.error = core.ss.errorOf(slot);
  }
  if (core.cur === -1) return view;
  const zoneIds = new Set<number>();
  for (const lane of e?.lanes ?? []) if (lane) zoneIds.add(lane.zone);
  for (const z of agg?.zones.keys() ?? []) zoneIds.add(z);
  const nowMs = core.cur * core.o.bucketMs;
  for (const z of zoneIds) {
    const lane = e?.lanes[z];
    const open = agg?.zones.get(z) ?? [0, 0];
    const out = {} as Record<Resolution, SeriesBuckets>;
    for (const res of ['bucket', 'hour', 'day'] as const) {
      const len = lenOf(core, res);
      const to = indexAt(core, res, nowMs);
      const b = bucketsOf(lane, res, to - len + 1, len, widthOf(core, res));
      b.reads[len - 1] += open[0];
      b.writes[len - 1] += open[1];
      out[res] = b;
    }
    view.zones[core.zones.names[z]] = out;
  }
  const apps = new Map<number, [number, number]>();
  for (const [a, [r, w]] of e?.apps ?? []) addPair(apps, a, r, w);
  for (const [a, [r, w]] of agg?.apps ?? []) addPair(apps, a, r, w);
  view.apps = appShares(core, apps);
  return view;
}

function bucketsOf(lane: Lane | undefined, res: Resolution, from: number, len: number, width: number): SeriesBuckets {
  const reads = new Array<number>(len).fill(0);
  const writes = new Array<number>(len).fill(0);
  if (lane) {
    const ring = lane[RES_KEY[res]];
    for (let i = 0; i < len; i++) {
      reads[i] = ringReads(ring, from + i);
      writes[i] = ringWrites(ring, from + i);
    }
  }
  return { startMs: from * width, widthMs: width, reads, writes };
}

function appShares(core: StatsCore, apps: Map<number, [number, number]>): AppShare[] {
  let sum = 0;
  for (const [r, w] of apps.values()) sum += r + w;
  const out: AppShare[] = [];
  for (const [a, [r, w]] of apps)
    out.push({ app: core.apps.names[a], reads: r, writes: w, share: sum ? (r + w) / sum : 0 });
  return out.sort((x, y) => y.share - x.share);
}

/** Bucket counts of the kept series on one time grid, in batches of about `batchRows` rows (a key is never split). */
export function* seriesBatches(
  core: StatsCore,
  q: SeriesBatchQuery = {},
  batchRows = Infinity,
): Generator<SeriesBatch> {
  core.tick();
  const res = q.resolution ?? 'bucket';
  const buckets = Math.max(1, Math.min(q.length ?? 24, lenOf(core, res)));
  const width = widthOf(core, res);
  const endMs = q.endMs ?? Math.max(core.cur, 0) * core.o.bucketMs;
  const from = Math.floor(endMs / width) - buckets;
  const zone = q.zone === undefined ? undefined : core.zones.peek(q.zone);
  if (q.zone !== undefined && zone === undefined) return;
  let pending: Array<{ e: SeriesEntry; lane: Lane; appShare: number }> = [];
  const emit = (): SeriesBatch => {
    const n = pending.length;
    const b: SeriesBatch = {
      bucketMs: width,
      startMs: from * width,
      buckets,
      rows: n,
      keys: [],
      zones: [],
      reads: new Float32Array(n * buckets),
      writes: new Float32Array(n * buckets),
      sizeBytes: new Float64Array(n),
      appShare: new Float32Array(n),
    };
    pending.forEach(({ e, lane, appShare }, r) => {
      b.keys.push(e.key);
      b.zones.push(core.zones.names[lane.zone]);
      b.sizeBytes[r] = e.size;
      b.appShare![r] = appShare;
      const ring = lane[RES_KEY[res]];
      for (let i = 0; i < buckets; i++) {
        b.reads[r * buckets + i] = ringReads(ring, from + i);
        b.writes[r * buckets + i] = ringWrites(ring, from + i);
      }
    });
    pending = [];
    return b;
  };
  for (const key of q.keys ?? core.series.entries.keys()) {
    const e = core.series.entries.get(key);
    if (!e) continue;
    let topApp = 0;
    let appSum = 0;
    for (const [r, w] of e.apps.values()) {
      appSum += r + w;
      topApp = Math.max(topApp, r + w);
    }
    const lanes = e.lanes.filter((l) => l !== undefined && (zone === undefined || l.zone === zone));
    if (pending.length > 0 && pending.length + lanes.length > batchRows) yield emit();
    for (const lane of lanes) pending.push({ e, lane, appShare: appSum ? topApp / appSum : 1 });
  }
  if (pending.length > 0 || batchRows === Infinity) yield emit();
}

/** One (key, zone) row of consecutive base buckets, for gossip and the cluster view. */
export interface RecentRow {
  key: string;
  zone: string;
  reads: number[];
  writes: number[];
  /** Accesses of class `one` per bucket (class `majority` is reads + writes − one − all). */
  one: number[];
  /** Accesses of class `all` per bucket. */
  all: number[];
  total: number;
}

/** A {@link RecentRow} of this daemon, with what its series know of the record. */
export interface LocalRow extends RecentRow {
  /** Last non-zero record size seen, bytes (0 when unknown). */
  size: number;
  /** Share of the key's accesses made by its most frequent app (1 when unknown). */
  appShare: number;
}

/**
 * Per (key, zone) counts of base buckets `[from, from + n)` (absolute indices): every kept series and,
 * when the open bucket lies in the range, its cells (keys without a series included). Rows of one key are
 * adjacent; rows without an access in the range are left out. `keys` restricts the rows to those keys.
 */
export function bucketRows(core: StatsCore, from: number, n: number, keys?: Iterable<string>): LocalRow[] {
  core.tick();
  const open = core.cur >= from && core.cur < from + n ? openByKey(core) : undefined;
  const only = keys === undefined ? undefined : new Set(keys);
  const out: LocalRow[] = [];
  const row = (key: string, zone: number, size: number, appShare: number): LocalRow => ({
    key,
    zone: core.zones.names[zone],
    reads: new Array<number>(n).fill(0),
    writes: new Array<number>(n).fill(0),
    one: new Array<number>(n).fill(0),
    all: new Array<number>(n).fill(0),
    total: 0,
    size,
    appShare,
  });
  const addOpenRow = (r: LocalRow, c: ZoneCounts): void => {
    const i = core.cur - from;
    r.reads[i] += c[0];
    r.writes[i] += c[1];
    r.one[i] += c[2];
    r.all[i] += c[3];
    r.total += c[0] + c[1];
  };
  const entries = only === undefined ? core.series.entries.values() : seriesOf(core, only);
  for (const e of entries) {
    let topApp = 0;
    let appSum = 0;
    for (const [r, w] of e.apps.values()) {
      appSum += r + w;
      topApp = Math.max(topApp, r + w);
    }
    const appShare = appSum ? topApp / appSum : 1;
    const o = open?.get(e.key);
    open?.delete(e.key);
    for (const lane of e.lanes) {
      if (!lane) continue;
      const r = row(e.key, lane.zone, e.size, appShare);
      for (let i = 0; i < n; i++) {
        const rd = ringReads(lane.base, from + i);
        const wr = ringWrites(lane.base, from + i);
        r.reads[i] = rd;
        r.writes[i] = wr;
        r.one[i] = ringReads(lane.cls, from + i);
        r.all[i] = ringWrites(lane.cls, from + i);
        r.total += rd + wr;
      }
      const oc = o?.get(lane.zone);
      if (oc) {
        addOpenRow(r, oc);
        o?.delete(lane.zone);
      }
      if (r.total > 0) out.push(r);
    }
    for (const [zone, c] of o ?? []) {
      const r = row(e.key, zone, e.size, appShare);
      addOpenRow(r, c);
      if (r.total > 0) out.push(r);
    }
  }
  for (const [key, zones] of open ?? []) {
    if (only !== undefined && !only.has(key)) continue;
    const slot = core.ss.slotOf(key);
    const size = slot === -1 ? 0 : core.ss.tag(slot, TAG_SIZE);
    for (const [zone, c] of zones) {
      const r = row(key, zone, size, 1);
      addOpenRow(r, c);
      if (r.total > 0) out.push(r);
    }
  }
  return out;
}

function* seriesOf(core: StatsCore, keys: Set<string>): Generator<SeriesEntry> {
  for (const key of keys) {
    const e = core.series.entries.get(key);
    if (e) yield e;
  }
}

/** The last `n` closed base buckets [from, from + n) of the hottest `maxKeys` keys. */
export function recent(core: StatsCore, n: number, maxKeys: number): { from: number; rows: RecentRow[] } {
  core.tick();
  const from = core.cur - n;
  const byKey = new Map<string, RecentRow[]>();
  const totals: Array<[string, number]> = [];
  for (const r of bucketRows(core, from, n)) {
    const { size: _size, appShare: _appShare, ...row } = r;
    const have = byKey.get(row.key);
    if (have) {
      have.push(row);
      totals[totals.length - 1][1] += row.total;
    } else {
      byKey.set(row.key, [row]);
      totals.push([row.key, row.total]);
    }
  }
  totals.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rows: RecentRow[] = [];
  for (const [key] of totals.slice(0, maxKeys)) rows.push(...(byKey.get(key) ?? []));
  return { from, rows };
}
