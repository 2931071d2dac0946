import { CellTable, CLASS_ALL, CLASS_MAJORITY, CLASS_ONE } from './cells.ts';
import { CountMinSketch, nextPow2 } from './count-min.ts';
import { hashPair } from './hash.ts';
import type { DemandClass } from './index.ts';
import { Interner } from './intern.ts';
import { type ResolvedOptions, SLOT_KEY_BYTES } from './options.ts';
import { type KeyAgg, SeriesStore, type ZoneCounts } from './series.ts';
import { SpaceSaving } from './space-saving.ts';

/** Space-Saving slot tags: base bucket index of the key's first tracked access, last non-zero size in bytes. */
const TAG_FIRST_BUCKET = 0;
export const TAG_SIZE = 1;

/** Name that zones and apps beyond `maxZones` / `maxApps` are folded into. */
export const OTHER = '(other)';

/**
 * The recording state: Space-Saving slots, the count-min sketch, the open bucket's cells and the series
 * tier. `record` is the hot path; closing a bucket (`roll`) folds the cells into the series tier.
 */
export class StatsCore {
  readonly o: ResolvedOptions;
  readonly clock: () => number;
  readonly ss: SpaceSaving;
  readonly sketch: CountMinSketch;
  readonly cells: CellTable;
  readonly series: SeriesStore;
  readonly zones: Interner;
  readonly apps: Interner;
  /** Per zone id: reads, writes, bytes read, bytes written (cumulative). */
  readonly zoneTotals: Float64Array;
  /** Per app id: reads, writes (cumulative). */
  readonly appTotals: Float64Array;
  /** Absolute index of the open bucket (-1 before the first access). */
  cur = -1;
  total = 0;
  /** Scratch for the key's hash pair (computed once per access, shared by Space-Saving and the sketch). */
  readonly #h = new Uint32Array(2);

  constructor(o: ResolvedOptions, clock: () => number) {
    this.o = o;
    this.clock = clock;
    this.ss = new SpaceSaving(o.hotCapacity);
    this.sketch = new CountMinSketch(o.epsilon, o.delta);
    const initial = nextPow2(o.hotCapacity);
    this.cells = new CellTable(initial, initial * 4, o.maxZones, o.maxApps);
    this.series = new SeriesStore({
      bucketMs: o.bucketMs,
      baseLen: o.baseLen,
      hourLen: o.hourLen,
      dayLen: o.dayLen,
      maxLanes: o.seriesLanes,
      halfLifeMs: o.halfLifeMs,
    });
    this.zones = new Interner(o.maxZones, OTHER);
    this.apps = new Interner(o.maxApps, OTHER);
    this.zoneTotals = new Float64Array(o.maxZones * 4);
    this.appTotals = new Float64Array(o.maxApps * 2);
  }

  record(
    key: string,
    op: 'r' | 'w',
    zone: string,
    app: string,
    bytes: number,
    tsMs?: number,
    cls: DemandClass = 'majority',
  ): void {
    const ts = tsMs ?? this.clock();
    const b = Math.floor(ts / this.o.bucketMs);
    if (b > this.cur) this.roll(b);
    const z = this.zones.id(zone);
    const a = this.apps.id(app);
    const write = op === 'w';
    const ss = this.ss;
    const h = this.#h;
    const slot = ss.offerHashed(key, hashPair(key, h));
    const error = ss.errorOf(slot);
    const tracked = ss.countOf(slot) - error;
    if (tracked === 1) ss.setTag(slot, TAG_FIRST_BUCKET, b);
    if (bytes > 0) ss.setTag(slot, TAG_SIZE, Math.min(bytes, 0xffffffff));
    // A key that took over an evicted slot gets open-bucket cells from its second access on: one-off tail
    // keys churning through the minimum slot would otherwise fill the table with cells nobody keeps.
    if (error === 0 || tracked > 1) {
      const c = cls === 'one' ? CLASS_ONE : cls === 'all' ? CLASS_ALL : CLASS_MAJORITY;
      this.cells.add(slot, ss.genOf(slot), z, a, write, c);
    }
    this.sketch.addHashed(h[0], h[1]);
    this.total++;
    const zt = z * 4 + (write ? 1 : 0);
    this.zoneTotals[zt]++;
    this.zoneTotals[zt + 2] += bytes;
    this.appTotals[a * 2 + (write ? 1 : 0)]++;
  }

  /** Closes the open bucket when the clock has moved past it. */
  tick(nowMs = this.clock()): void {
    const b = Math.floor(nowMs / this.o.bucketMs);
    if (b > this.cur) this.roll(b);
  }

  /** Folds the open bucket into the series tier and opens bucket `next` (or keeps it open when equal). */
  roll(next: number): void {
    if (this.cur !== -1 && this.cells.used > 0) this.series.apply(this.cur, this.aggregate());
    this.cells.clear();
    if (next > this.cur) this.cur = next;
  }

  /** The open bucket's counts grouped by key (stale cells of evicted keys are skipped). */
  aggregate(): Map<string, KeyAgg> {
    const out = new Map<string, KeyAgg>();
    const ss = this.ss;
    this.cells.forEach((slot, gen, zone, app, r, w, one, all) => {
      if (ss.genOf(slot) !== gen) return;
      const key = ss.keys[slot];
      let agg = out.get(key);
      if (!agg) {
        agg = {
          total: 0,
          size: ss.tag(slot, TAG_SIZE),
          firstSeenMs: ss.tag(slot, TAG_FIRST_BUCKET) * this.o.bucketMs,
          zones: new Map(),
          apps: new Map(),
        };
        out.set(key, agg);
      }
      agg.total += r + w;
      addCounts(agg.zones, zone, r, w, one, all);
      addPair(agg.apps, app, r, w);
    });
    return out;
  }

  /** Estimated heap bytes of everything this instance holds. */
  memoryBytes(): number {
    const slots = this.ss.arrayBytes + this.ss.size * SLOT_KEY_BYTES + this.ss.keyChars;
    const interned = (this.zones.size + this.apps.size) * 96;
    const totals = this.zoneTotals.byteLength + this.appTotals.byteLength;
    return slots + this.cells.bytes + this.sketch.bytes + this.series.bytes + interned + totals;
  }
}

/** Adds (reads, writes, one, all) to the counts of `k` in `m`. */
export function addCounts(m: Map<number, ZoneCounts>, k: number, r: number, w: number, one: number, all: number): void {
  const have = m.get(k);
  if (have) {
    have[0] += r;
    have[1] += w;
    have[2] += one;
    have[3] += all;
  } else m.set(k, [r, w, one, all]);
}

export function addPair(m: Map<number, [number, number]>, k: number, r: number, w: number): void {
  const have = m.get(k);
  if (have) {
    have[0] += r;
    have[1] += w;
  } else m.set(k, [r, w]);
}
