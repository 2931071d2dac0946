import { throwIfAborted } from '../errors/index.ts';
import type { SummaryMessage } from './codec.ts';
import { StatsSummaryError } from './errors.ts';
import type { SeriesBatch, Stats, StatsSeriesSource } from './index.ts';

/** This daemon's statistics as the view reads them (structurally a {@link Stats}). */
export type LocalCounts = Pick<Stats, 'bucketRows' | 'openBucket'>;

export interface ClusterViewOptions {
  /** Base bucket width every node must use (summaries with another width are rejected). */
  bucketMs: number;
  /** Buckets kept, counted back from the newest bucket seen from any node (default 60). */
  retainBuckets?: number;
  /**
   * This daemon's own statistics. When given, every answer takes this daemon's counts from them, read at
   * the time of the question (its open bucket too where the answer includes it), instead of from its own
   * gossiped summaries: they are never late and cover every key it keeps, not only the hottest it gossips.
   * The summaries of the node named by {@link ClusterView.setSelf} are then ignored, so nothing counts twice.
   */
  local?: LocalCounts;
}

/** reads, writes, accesses of class `one`, accesses of class `all`. */
type Counts = [number, number, number, number];

interface BucketData {
  seq: number;
  /** key → zone → counts */
  cells: Map<string, Map<string, Counts>>;
}

interface NodeData {
  zone: string;
  seq: number;
  buckets: Map<number, BucketData>;
}

/** Accesses of one record from one origin zone by demand class (structurally the dsm's `ZoneDemand`). */
export interface ZoneClassCounts {
  readonly zone: string;
  /** Accesses at `consistency=one`. */
  readonly one: number;
  /** Accesses at `quorum` (the default) or `linearizable`. */
  readonly majority: number;
  /** Accesses at `consistency=all`. */
  readonly all: number;
}

/** Cluster-wide demand per record and origin zone over `[startMs, endMs)` (closed buckets only). */
export interface ClusterDemand {
  bucketMs: number;
  startMs: number;
  endMs: number;
  /** key → one entry per origin zone with accesses in the window, by zone name. */
  records: Map<string, ZoneClassCounts[]>;
}

/** Cluster-wide accesses of one record per origin zone, over the retained buckets. */
export interface ClusterRecord {
  key: string;
  bucketMs: number;
  /** Absolute index of the first bucket of every `reads` / `writes` array. */
  from: number;
  zones: Record<
    string,
    {
      reads: number;
      writes: number;
      one: number;
      majority: number;
      all: number;
      series: { reads: number[]; writes: number[] };
    }
  >;
}

export interface ClusterPaeSourceOptions {
  /** Buckets of history per row (default 24, the PAE's `DEFAULT_LOOKBACK`). */
  lookback?: number;
}

type CountFn = (b: number, key: string, zone: string, r: number, w: number, one: number, all: number) => void;

/**
 * Aggregates gossiped summaries into cluster-wide access per (record, origin zone). State is kept per
 * (node, bucket): a bucket's content is replaced by any summary from the same node with an equal or higher
 * `seq`, so re-delivery does not double count, an older summary arriving late changes nothing, and the
 * newest summary of a node wins for the buckets it covers. Totals are sums over nodes.
 *
 * With {@link ClusterViewOptions.local}, this daemon's counts come from its own statistics at the time of
 * each question (see there). The newest closed bucket is then the later of the newest bucket any summary
 * carried and the bucket before the local open one. `top`, `record` and `totals` also count the local open
 * bucket (as the local statistics do); `demand` and `paeSource` use closed buckets only.
 */
export class ClusterView {
  readonly bucketMs: number;
  readonly #retain: number;
  readonly #nodes = new Map<string, NodeData>();
  readonly #local?: LocalCounts;
  #self?: string;
  #newest = -1;

  constructor(options: ClusterViewOptions) {
    this.bucketMs = options.bucketMs;
    this.#retain = options.retainBuckets ?? 60;
    this.#local = options.local;
  }

  /**
   * Names this daemon's node id (the gossip calls it with its `nodeId`): with `local` statistics, this
   * node's summaries are ignored in answers since the local counts stand for them.
   */
  setSelf(node: string): void {
    this.#self = node;
  }

  /**
   * Applies a decoded summary. `from`, when given, is the authenticated sender and must equal `msg.node`.
   * Returns false when the summary was older than what is held (nothing changed).
   */
  ingest(msg: SummaryMessage, from?: string): boolean {
    if (from !== undefined && from !== msg.node) {
      throw new StatsSummaryError(`stats summary from ${from} claims to be from ${msg.node}`);
    }
    if (msg.bucketMs !== this.bucketMs) {
      throw new StatsSummaryError(`stats summary bucketMs ${msg.bucketMs} differs from ${this.bucketMs}`);
    }
    let node = this.#nodes.get(msg.node);
    if (!node) {
      node = { zone: msg.zone, seq: -1, buckets: new Map() };
      this.#nodes.set(msg.node, node);
    }
    if (msg.seq >= node.seq) {
      node.seq = msg.seq;
      node.zone = msg.zone;
    }
    const floor = this.#newest - this.#retain + 1;
    let changed = false;
    for (let i = 0; i < msg.n; i++) {
      const b = msg.from + i;
      if (b < floor) continue;
      const have = node.buckets.get(b);
      if (have && have.seq > msg.seq) continue;
      const cells = new Map<string, Map<string, Counts>>();
      for (const [k, z, r, w, one, all] of msg.cells) {
        if (r[i] === 0 && w[i] === 0) continue;
        const key = msg.keys[k];
        let zones = cells.get(key);
        if (!zones) {
          zones = new Map();
          cells.set(key, zones);
        }
        zones.set(msg.zones[z], [r[i], w[i], one?.[i] ?? 0, all?.[i] ?? 0]);
      }
      node.buckets.set(b, { seq: msg.seq, cells });
      changed = true;
    }
    const last = msg.from + msg.n - 1;
    if (last > this.#newest) {
      this.#newest = last;
      this.#prune();
    }
    return changed;
  }

  #prune(): void {
    const floor = this.#newest - this.#retain + 1;
    for (const node of this.#nodes.values()) {
      for (const b of node.buckets.keys()) if (b < floor) node.buckets.delete(b);
    }
  }

  /** Newest closed bucket (-1 when nothing is known): summaries' newest, or the bucket before the local open one. */
  newestClosedBucket(): number {
    const open = this.#local?.openBucket() ?? -1;
    return Math.max(this.#newest, open === -1 ? -1 : open - 1);
  }

  /** The local open bucket when there is one past `hi`, else `hi`. */
  #lastWithOpen(hi: number): number {
    return Math.max(hi, this.#local?.openBucket() ?? -1);
  }

  /** First bucket of a window of `n` buckets ending at `hi` (all retained buckets when `n` is undefined). */
  #lo(hi: number, n?: number): number {
    const floor = hi - this.#retain + 1;
    return n === undefined ? floor : Math.max(floor, hi - n + 1);
  }

  /** Calls `fn` for every (bucket, key, zone) count in `[lo, hi]` of every node but this one (when local). */
  #eachPeer(lo: number, hi: number, fn: CountFn, keys?: readonly string[]): void {
    for (const [id, node] of this.#nodes) {
      if (this.#local && id === this.#self) continue;
      for (const [b, data] of node.buckets) {
        if (b < lo || b > hi) continue;
        if (keys) {
          for (const key of keys) {
            const zones = data.cells.get(key);
            if (zones) for (const [zone, [r, w, one, all]] of zones) fn(b, key, zone, r, w, one, all);
          }
        } else {
          for (const [key, zones] of data.cells)
            for (const [zone, [r, w, one, all]] of zones) fn(b, key, zone, r, w, one, all);
        }
      }
    }
  }

  /** {@link #eachPeer} plus this daemon's own counts in `[lo, hi]` (from the local statistics). */
  #each(lo: number, hi: number, fn: CountFn, keys?: readonly string[]): void {
    this.#eachPeer(lo, hi, fn, keys);
    const from = Math.max(lo, 0);
    if (!this.#local || hi < from) return;
    for (const row of this.#local.bucketRows(from, hi - from + 1, keys)) {
      for (let i = 0; i < row.reads.length; i++) {
        const r = row.reads[i];
        const w = row.writes[i];
        if (r !== 0 || w !== 0) fn(from + i, row.key, row.zone, r, w, row.one[i], row.all[i]);
      }
    }
  }

  /** Per origin zone totals and bucket series of `key` over the retained buckets (and the local open bucket). */
  record(key: string): ClusterRecord {
    const hi = this.newestClosedBucket();
    const last = this.#lastWithOpen(hi);
    const from = Math.max(this.#lo(hi), 0);
    const len = last === -1 ? 0 : last - from + 1;
    const out: ClusterRecord = { key, bucketMs: this.bucketMs, from, zones: {} };
    this.#each(
      from,
      last,
      (b, _key, zone, r, w, one, all) => {
        let z = out.zones[zone];
        if (!z) {
          const series = { reads: new Array<number>(len).fill(0), writes: new Array<number>(len).fill(0) };
          z = { reads: 0, writes: 0, one: 0, majority: 0, all: 0, series };
          out.zones[zone] = z;
        }
        z.reads += r;
        z.writes += w;
        z.one += one;
        z.all += all;
        z.majority += r + w - one - all;
        z.series.reads[b - from] += r;
        z.series.writes[b - from] += w;
      },
      [key],
    );
    return out;
  }

  /**
   * Hottest records cluster-wide over the last `windowMs` (default: all retained buckets), counting this
   * daemon's open bucket too; with `zone`, only accesses from it, and every row names the zone.
   */
  top(q: { zone?: string; windowMs?: number; limit?: number } = {}) {
    const hi = this.newestClosedBucket();
    const lo = this.#lo(hi, q.windowMs === undefined ? undefined : Math.ceil(q.windowMs / this.bucketMs));
    const sums = new Map<string, [number, number]>();
    this.#each(lo, this.#lastWithOpen(hi), (_b, key, zone, r, w) => {
      if (q.zone !== undefined && zone !== q.zone) return;
      const s = sums.get(key);
      if (s) {
        s[0] += r;
        s[1] += w;
      } else sums.set(key, [r, w]);
    });
    const zone = q.zone === undefined ? {} : { zone: q.zone };
    return [...sums]
      .map(([key, [reads, writes]]) => ({ key, reads, writes, total: reads + writes, ...zone }))
      .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1))
      .slice(0, q.limit ?? 10);
  }

  /**
   * Cluster-wide demand by class, per record and origin zone, over the window of `windowMs` (rounded up
   * to whole buckets, at most the retained buckets) that ends with the newest closed bucket: the dsm
   * planner's `observed`. `keys` restricts it to those records (default: every record the view knows).
   */
  demand(q: { windowMs: number; keys?: Iterable<string> }): ClusterDemand {
    const hi = this.newestClosedBucket();
    const records = new Map<string, ZoneClassCounts[]>();
    if (hi === -1) return { bucketMs: this.bucketMs, startMs: 0, endMs: 0, records };
    const lo = this.#lo(hi, Math.max(1, Math.ceil(q.windowMs / this.bucketMs)));
    const acc = new Map<string, Map<string, [number, number, number]>>();
    const keys = q.keys === undefined ? undefined : [...new Set(q.keys)];
    this.#each(
      lo,
      hi,
      (_b, key, zone, r, w, one, all) => {
        let zones = acc.get(key);
        if (!zones) {
          zones = new Map();
          acc.set(key, zones);
        }
        const c = zones.get(zone);
        if (c) {
          c[0] += one;
          c[1] += r + w - one - all;
          c[2] += all;
        } else zones.set(zone, [one, r + w - one - all, all]);
      },
      keys,
    );
    for (const [key, zones] of acc) {
      const list = [...zones]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([zone, [one, majority, all]]) => ({ zone, one, majority, all }));
      records.set(key, list);
    }
    const startMs = Math.max(lo, 0) * this.bucketMs;
    return { bucketMs: this.bucketMs, startMs, endMs: (hi + 1) * this.bucketMs, records };
  }

  /**
   * A PAE source over the cluster's demand: every (key, zone) with accesses in the `lookback` closed
   * buckets ending with the newest closed bucket, summed over the peers' summaries and this daemon's own
   * counts (the same merge as {@link demand}); one grid per cycle, so the forecast window starts at the end
   * of the newest closed bucket. Rows of one key are adjacent and never split across batches. Record size
   * and app share come from the local statistics where they know the key (else 0 and 1).
   */
  paeSource(options: ClusterPaeSourceOptions = {}): StatsSeriesSource {
    const lookback = Math.max(1, Math.floor(options.lookback ?? 24));
    const view = this;
    return {
      async *series({ signal, batchRows }) {
        for (const batch of view.#batches(lookback, batchRows)) {
          throwIfAborted(signal);
          yield batch;
        }
      },
    };
  }

  *#batches(lookback: number, batchRows: number): Generator<SeriesBatch> {
    const hi = this.newestClosedBucket();
    if (hi === -1) return;
    const from = hi - lookback + 1;
    const keys = new Map<string, { zones: Map<string, Float32Array>; size: number; appShare: number }>();
    /** Per (key, zone): reads in [0, L), writes in [L, 2L). */
    const lane = (key: string, zone: string): Float32Array => {
      let k = keys.get(key);
      if (!k) {
        k = { zones: new Map(), size: 0, appShare: 1 };
        keys.set(key, k);
      }
      let z = k.zones.get(zone);
      if (!z) {
        z = new Float32Array(lookback * 2);
        k.zones.set(zone, z);
      }
      return z;
    };
    if (this.#local && hi >= Math.max(from, 0)) {
      const lo = Math.max(from, 0);
      for (const row of this.#local.bucketRows(lo, hi - lo + 1)) {
        const z = lane(row.key, row.zone);
        const k = keys.get(row.key)!;
        k.size = row.size;
        k.appShare = row.appShare;
        for (let i = 0; i < row.reads.length; i++) {
          z[lo - from + i] += row.reads[i];
          z[lookback + lo - from + i] += row.writes[i];
        }
      }
    }
    this.#eachPeer(this.#lo(hi, lookback), hi, (b, key, zone, r, w) => {
      const z = lane(key, zone);
      z[b - from] += r;
      z[lookback + b - from] += w;
    });
    let pending: Array<[string, string, Float32Array, number, number]> = [];
    const emit = (): SeriesBatch => {
      const n = pending.length;
      const batch: SeriesBatch = {
        bucketMs: this.bucketMs,
        startMs: from * this.bucketMs,
        buckets: lookback,
        rows: n,
        keys: [],
        zones: [],
        reads: new Float32Array(n * lookback),
        writes: new Float32Array(n * lookback),
        sizeBytes: new Float64Array(n),
        appShare: new Float32Array(n),
      };
      pending.forEach(([key, zone, z, size, appShare], r) => {
        batch.keys.push(key);
        batch.zones.push(zone);
        batch.reads.set(z.subarray(0, lookback), r * lookback);
        batch.writes.set(z.subarray(lookback), r * lookback);
        batch.sizeBytes[r] = size;
        batch.appShare![r] = appShare;
      });
      pending = [];
      return batch;
    };
    for (const [key, k] of keys) {
      if (pending.length > 0 && pending.length + k.zones.size > batchRows) yield emit();
      for (const [zone, z] of k.zones) pending.push([key, zone, z, k.size, k.appShare]);
    }
    if (pending.length > 0) yield emit();
  }

  /** Totals per origin zone over the retained buckets (and the local open bucket). */
  totals(): Record<string, { reads: number; writes: number }> {
    const out: Record<string, { reads: number; writes: number }> = {};
    const hi = this.newestClosedBucket();
    this.#each(this.#lo(hi), this.#lastWithOpen(hi), (_b, _key, zone, r, w) => {
      out[zone] ??= { reads: 0, writes: 0 };
      const z = out[zone];
      z.reads += r;
      z.writes += w;
    });
    return out;
  }

  /** Nodes heard from: their zone, newest seq and the buckets held. */
  nodes(): Array<{ node: string; zone: string; seq: number; buckets: number }> {
    return [...this.#nodes].map(([node, d]) => ({ node, zone: d.zone, seq: d.seq, buckets: d.buckets.size }));
  }

  /** Newest bucket index any summary carried (-1 when none); see {@link newestClosedBucket} for the merged one. */
  get newestBucket(): number {
    return this.#newest;
  }
}
