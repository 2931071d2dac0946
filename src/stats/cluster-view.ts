import type { SummaryMessage } from './codec.ts';
import { StatsSummaryError } from './errors.ts';

export interface ClusterViewOptions {
  /** Base bucket width every node must use (summaries with another width are rejected). */
  bucketMs: number;
  /** Buckets kept, counted back from the newest bucket seen from any node (default 60). */
  retainBuckets?: number;
}

interface BucketData {
  seq: number;
  /** key → zone → [reads, writes] */
  cells: Map<string, Map<string, [number, number]>>;
}

interface NodeData {
  zone: string;
  seq: number;
  buckets: Map<number, BucketData>;
}

/** Cluster-wide accesses of one record per origin zone, over the retained buckets. */
export interface ClusterRecord {
  key: string;
  bucketMs: number;
  /** Absolute index of the first bucket of every `reads` / `writes` array. */
  from: number;
  zones: Record<string, { reads: number; writes: number; series: { reads: number[]; writes: number[] } }>;
}

/**
 * Aggregates gossiped summaries into cluster-wide access per (record, origin zone). State is kept per
 * (node, bucket): a bucket's content is replaced by any summary from the same node with an equal or higher
 * `seq`, so re-delivery does not double count, an older summary arriving late changes nothing, and the
 * newest summary of a node wins for the buckets it covers. Totals are sums over nodes.
 */
export class ClusterView {
  readonly bucketMs: number;
  readonly #retain: number;
  readonly #nodes = new Map<string, NodeData>();
  #newest = -1;

  constructor(options: ClusterViewOptions) {
    this.bucketMs = options.bucketMs;
    this.#retain = options.retainBuckets ?? 60;
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
      const cells = new Map<string, Map<string, [number, number]>>();
      for (const [k, z, r, w] of msg.cells) {
        if (r[i] === 0 && w[i] === 0) continue;
        const key = msg.keys[k];
        let zones = cells.get(key);
        if (!zones) {
          zones = new Map();
          cells.set(key, zones);
        }
        zones.set(msg.zones[z], [r[i], w[i]]);
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

  /** Calls `fn` for every (bucket, key, zone) count of every node within `[lo, hi]`. */
  #each(lo: number, hi: number, fn: (b: number, key: string, zone: string, r: number, w: number) => void): void {
    for (const node of this.#nodes.values()) {
      for (const [b, data] of node.buckets) {
        if (b < lo || b > hi) continue;
        for (const [key, zones] of data.cells) for (const [zone, [r, w]] of zones) fn(b, key, zone, r, w);
      }
    }
  }

  /** Per origin zone totals and bucket series of `key` over the retained buckets. */
  record(key: string): ClusterRecord {
    const from = Math.max(this.#newest - this.#retain + 1, 0);
    const len = this.#newest === -1 ? 0 : this.#newest - from + 1;
    const out: ClusterRecord = { key, bucketMs: this.bucketMs, from, zones: {} };
    for (const node of this.#nodes.values()) {
      for (const [b, data] of node.buckets) {
        const zones = data.cells.get(key);
        if (!zones || b < from) continue;
        for (const [zone, [r, w]] of zones) {
          let z = out.zones[zone];
          if (!z) {
            z = { reads: 0, writes: 0, series: { reads: new Array(len).fill(0), writes: new Array(len).fill(0) } };
            out.zones[zone] = z;
          }
          z.reads += r;
          z.writes += w;
          z.series.reads[b - from] += r;
          z.series.writes[b - from] += w;
        }
      }
    }
    return out;
  }

  /** Hottest records cluster-wide over the last `windowMs` (default: all retained buckets). */
  top(q: { zone?: string; windowMs?: number; limit?: number } = {}) {
    const lo = q.windowMs === undefined ? -1 : this.#newest - Math.ceil(q.windowMs / this.bucketMs) + 1;
    const sums = new Map<string, [number, number]>();
    this.#each(lo, this.#newest, (_b, key, zone, r, w) => {
      if (q.zone !== undefined && zone !== q.zone) return;
      const s = sums.get(key);
      if (s) {
        s[0] += r;
        s[1] += w;
      } else sums.set(key, [r, w]);
    });
    return [...sums]
      .map(([key, [reads, writes]]) => ({ key, reads, writes, total: reads + writes }))
      .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1))
      .slice(0, q.limit ?? 10);
  }

  /** Totals per origin zone over the retained buckets. */
  totals(): Record<string, { reads: number; writes: number }> {
    const out: Record<string, { reads: number; writes: number }> = {};
    this.#each(-1, this.#newest, (_b, _key, zone, r, w) => {
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

  /** Newest bucket index seen (-1 when empty). */
  get newestBucket(): number {
    return this.#newest;
  }
}
