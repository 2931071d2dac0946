import { newRing, type Ring, ringAdd, ringSum } from './ring.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Base buckets for which a lane keeps its accesses by demand class (the cluster view's default retention,
 * and the most buckets a gossip summary carries).
 */
export const CLASS_BUCKETS = 60;

/**
 * One (key, zone) series: the same counts at three resolutions (base bucket, hour, day), plus, for the last
 * {@link CLASS_BUCKETS} base buckets, the accesses of class `one` and of class `all` (`cls`, as a ring of
 * (one, all) pairs; class `majority` is the rest of the bucket's reads + writes).
 */
export interface Lane {
  zone: number;
  base: Ring;
  hour: Ring;
  day: Ring;
  cls: Ring;
}

/** Reads, writes, accesses of class `one`, accesses of class `all`. */
export type ZoneCounts = [number, number, number, number];

/** Rolled-up history of one key. */
export interface SeriesEntry {
  key: string;
  /** Lanes by zone id (sparse). */
  lanes: Lane[];
  laneCount: number;
  /** Exponentially decayed access count (half-life `halfLifeMs`), used to keep the hottest keys. */
  score: number;
  /** Last non-zero size seen in bytes. */
  size: number;
  /** Time of the first access seen (ms). */
  firstSeenMs: number;
  /** Cumulative [reads, writes] per app id. */
  apps: Map<number, [number, number]>;
}

/** What one closed bucket brings for one key. */
export interface KeyAgg {
  total: number;
  size: number;
  firstSeenMs: number;
  /** zone id → [reads, writes, one, all] */
  zones: Map<number, ZoneCounts>;
  /** app id → [reads, writes] */
  apps: Map<number, [number, number]>;
}

export interface SeriesOptions {
  bucketMs: number;
  baseLen: number;
  hourLen: number;
  dayLen: number;
  maxLanes: number;
  halfLifeMs: number;
}

/** Heap bytes of one lane besides its counters: four rings (object, typed array, ArrayBuffer, backing store header), the lane (measured for three). */
const LANE_OVERHEAD = 4 * 200 + 64;
/** Estimated heap bytes of one entry besides key and lanes (object, map entry, apps map). */
const ENTRY_OVERHEAD = 600;

/**
 * The series tier: rolled-up history for the hottest keys, bounded by a number of (key, zone) lanes.
 * At every closed bucket, keys not yet kept are admitted hottest first; when full, the kept key with the
 * lowest decayed score is dropped if the newcomer had more accesses in the closed bucket.
 */
export class SeriesStore {
  readonly entries = new Map<string, SeriesEntry>();
  lanesUsed = 0;
  droppedLanes = 0;
  #lastBucket = -1;
  #keyChars = 0;
  readonly o: SeriesOptions;

  constructor(options: SeriesOptions) {
    this.o = options;
  }

  static laneBytes(baseLen: number, hourLen: number, dayLen: number): number {
    return (baseLen + hourLen + dayLen + Math.min(baseLen, CLASS_BUCKETS)) * 8 + LANE_OVERHEAD;
  }

  /** Absolute hour and day index of base bucket `b`. */
  hourOf(b: number): number {
    return Math.floor((b * this.o.bucketMs) / HOUR_MS);
  }

  dayOf(b: number): number {
    return Math.floor((b * this.o.bucketMs) / DAY_MS);
  }

  /** Applies closed base bucket `bucket`. */
  apply(bucket: number, aggs: Map<string, KeyAgg>): void {
    const gap = this.#lastBucket === -1 ? 0 : Math.max(0, bucket - this.#lastBucket);
    if (gap > 0) {
      const f = 0.5 ** ((gap * this.o.bucketMs) / this.o.halfLifeMs);
      for (const e of this.entries.values()) e.score *= f;
    }
    this.#lastBucket = Math.max(this.#lastBucket, bucket);
    const fresh: Array<[string, KeyAgg]> = [];
    for (const [key, agg] of aggs) {
      const e = this.entries.get(key);
      if (e) this.#add(e, bucket, agg);
      else fresh.push([key, agg]);
    }
    if (fresh.length === 0) return;
    fresh.sort((a, b) => b[1].total - a[1].total);
    const victims = [...this.entries.values()].sort((a, b) => a.score - b.score);
    let vi = 0;
    for (const [key, agg] of fresh) {
      const need = agg.zones.size;
      if (need > this.o.maxLanes) continue;
      while (this.lanesUsed + need > this.o.maxLanes && vi < victims.length) {
        const v = victims[vi];
        if (v.score >= agg.total) break;
        vi++;
        if (this.entries.get(v.key) === v) this.remove(v.key);
      }
      if (this.lanesUsed + need > this.o.maxLanes) break;
      const e = this.create(key, agg.firstSeenMs);
      this.#add(e, bucket, agg);
    }
  }

  /** A new empty entry (also used by `load`). */
  create(key: string, firstSeenMs: number): SeriesEntry {
    const e: SeriesEntry = { key, lanes: [], laneCount: 0, score: 0, size: 0, firstSeenMs, apps: new Map() };
    this.entries.set(key, e);
    this.#keyChars += key.length;
    return e;
  }

  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.lanesUsed -= e.laneCount;
    this.#keyChars -= key.length;
  }

  /** The lane of `zone` in `e`, created when there is room; undefined when the lane budget is exhausted. */
  lane(e: SeriesEntry, zone: number): Lane | undefined {
    const have = e.lanes[zone];
    if (have) return have;
    if (this.lanesUsed >= this.o.maxLanes) return undefined;
    const lane: Lane = {
      zone,
      base: newRing(this.o.baseLen),
      hour: newRing(this.o.hourLen),
      day: newRing(this.o.dayLen),
      cls: newRing(Math.min(this.o.baseLen, CLASS_BUCKETS)),
    };
    e.lanes[zone] = lane;
    e.laneCount++;
    this.lanesUsed++;
    return lane;
  }

  #add(e: SeriesEntry, bucket: number, agg: KeyAgg): void {
    const h = this.hourOf(bucket);
    const d = this.dayOf(bucket);
    for (const [zone, [r, w, one, all]] of agg.zones) {
      const lane = this.lane(e, zone);
      if (!lane) {
        this.droppedLanes++;
        continue;
      }
      ringAdd(lane.base, bucket, r, w);
      if (one || all) ringAdd(lane.cls, bucket, one, all);
      ringAdd(lane.hour, h, r, w);
      ringAdd(lane.day, d, r, w);
    }
    for (const [app, [r, w]] of agg.apps) {
      const have = e.apps.get(app);
      if (have) {
        have[0] += r;
        have[1] += w;
      } else e.apps.set(app, [r, w]);
    }
    e.score += agg.total;
    if (agg.size > 0) e.size = agg.size;
    if (agg.firstSeenMs < e.firstSeenMs) e.firstSeenMs = agg.firstSeenMs;
  }

  /** Sum over absolute indices [from, to] of one resolution, for one zone or all (zone undefined). */
  sum(e: SeriesEntry, res: 'base' | 'hour' | 'day', from: number, to: number, zone?: number) {
    const out = { reads: 0, writes: 0 };
    for (const lane of e.lanes) {
      if (lane && (zone === undefined || lane.zone === zone)) ringSum(lane[res], from, to, out);
    }
    return out;
  }

  get bytes(): number {
    const lane = SeriesStore.laneBytes(this.o.baseLen, this.o.hourLen, this.o.dayLen);
    return this.lanesUsed * lane + this.entries.size * ENTRY_OVERHEAD + this.#keyChars * 2;
  }

  get lastBucket(): number {
    return this.#lastBucket;
  }
}
