/**
 * Demand as the daemons would see it, per planning cycle: rolling per-(record, zone) bucket counts, the PAE
 * forecast of the next horizon (the real forecaster, in batches of at most 4096 rows, each key's rows in one
 * batch), its measured accuracy (the PAE's own `ForecastAccuracy`), and, for the oracle and the good-move
 * score, the true demand of the next horizon. Policy-independent: computed once per cycle and shared by every
 * policy of a run.
 * @module
 */
import type { ZoneDemand } from '../dsm/index.ts';
import { ForecastAccuracy, type Forecaster, type SeriesBatch } from '../pae/index.ts';
import { keyOf, sizeOf, type Workload } from './workload.ts';

/** Rolling counts of one (record, zone): reads in `buf[0, B)`, writes in `buf[B, 2B)`, slot = bucket mod B. */
interface Pair {
  readonly rid: number;
  /** The record's key, built once: the forecaster's batches and the accuracy's maps take it every cycle. */
  readonly key: string;
  readonly z: number;
  readonly buf: Float32Array;
  last: number;
}

/** What every policy's planner sees at one cycle. */
export interface CycleDemand {
  readonly atMs: number;
  /** Records with observed, forecast or (when asked) future demand, ascending. */
  readonly rids: readonly number[];
  readonly observed: ReadonlyMap<number, ZoneDemand[]>;
  readonly forecast: ReadonlyMap<number, ZoneDemand[]>;
  readonly accuracy: ReadonlyMap<number, number>;
  readonly future: ReadonlyMap<number, ZoneDemand[]>;
  readonly forecastRows: number;
}

export interface TrackerOptions {
  readonly gridStartMs: number;
  readonly bucketMs: number;
  readonly horizon: number;
  readonly lookback: number;
  readonly readClass: 'one' | 'majority';
  readonly forecaster?: Forecaster;
  readonly future: boolean;
  readonly signal?: AbortSignal;
}

const BATCH_ROWS = 4096;

export class DemandTracker {
  readonly #w: Workload;
  readonly #o: TrackerOptions;
  readonly #pairs = new Map<number, Pair>();
  readonly #acc = new ForecastAccuracy();
  readonly #Z: number;
  #ahead = 0;

  constructor(w: Workload, options: TrackerOptions) {
    this.#w = w;
    this.#o = options;
    this.#Z = w.zoneNames.length;
  }

  #bucket(ts: number): number {
    return Math.floor((ts - this.#o.gridStartMs) / this.#o.bucketMs);
  }

  /** Counts row `i` (rows come in time order). */
  add(i: number): void {
    const w = this.#w;
    const B = this.#o.lookback;
    const key = w.rid[i] * this.#Z + w.zone[i];
    const b = this.#bucket(w.ts[i]);
    let p = this.#pairs.get(key);
    if (p === undefined) {
      p = { rid: w.rid[i], key: keyOf(w, w.rid[i]), z: w.zone[i], buf: new Float32Array(2 * B), last: b };
      this.#pairs.set(key, p);
    } else if (p.last < b) {
      for (let x = p.last + 1; x <= Math.min(b, p.last + B); x++) p.buf[x % B] = p.buf[B + (x % B)] = 0;
      p.last = b;
    }
    p.buf[(w.write[i] === 1 ? B : 0) + (b % B)]++;
  }

  #demand(z: number, reads: number, writes: number): ZoneDemand {
    const one = this.#o.readClass === 'one' ? reads : 0;
    return { zone: this.#w.zoneNames[z], one, majority: writes + reads - one, all: 0 };
  }

  /** The demand at the cycle that starts bucket `e` (time `gridStartMs + e · bucketMs`). */
  async cycle(e: number): Promise<CycleDemand> {
    const o = this.#o;
    const B = o.lookback;
    const H = o.horizon;
    const atMs = o.gridStartMs + e * o.bucketMs;
    const list: Pair[] = [];
    for (const [k, p] of this.#pairs) {
      if (p.last < e - B) this.#pairs.delete(k);
      else list.push(p);
    }
    list.sort((a, b) => a.rid - b.rid || a.z - b.z);
    const observed = new Map<number, ZoneDemand[]>();
    const n = Math.max(1, Math.min(B, e));
    for (const p of list) {
      let r = 0;
      let wr = 0;
      // Buckets e - H .. e - 1 that exist (>= 0: the first cycles have fewer than H behind them) and are held.
      for (let x = Math.max(0, e - H, p.last - B + 1); x <= Math.min(e - 1, p.last); x++) {
        r += p.buf[x % B];
        wr += p.buf[B + (x % B)];
      }
      if (r + wr === 0) continue;
      let d = observed.get(p.rid);
      if (d === undefined) {
        d = [];
        observed.set(p.rid, d);
      }
      d.push(this.#demand(p.z, r, wr));
    }
    const forecast = new Map<number, ZoneDemand[]>();
    const accuracy = new Map<number, number>();
    if (o.forecaster !== undefined && list.length > 0) await this.#forecast(list, e, n, forecast, accuracy);
    const future = o.future ? this.#future(atMs, atMs + H * o.bucketMs) : new Map<number, ZoneDemand[]>();
    const set = new Set<number>([...observed.keys(), ...forecast.keys(), ...future.keys()]);
    const rids = [...set].sort((a, b) => a - b);
    return { atMs, rids, observed, forecast, accuracy, future, forecastRows: list.length };
  }

  async #forecast(
    list: Pair[],
    e: number,
    n: number,
    out: Map<number, ZoneDemand[]>,
    acc: Map<number, number>,
  ): Promise<void> {
    const o = this.#o;
    const B = o.lookback;
    const startMs = o.gridStartMs + (e - n) * o.bucketMs;
    const remembered = new Map<string, Array<{ zone: string; expected: number }>>();
    // `list` is sorted by record, so a record's rows are adjacent: its arrays are the last ones made.
    let z: Array<{ zone: string; expected: number }> = [];
    let d: ZoneDemand[] | undefined;
    for (let from = 0; from < list.length; ) {
      let to = Math.min(list.length, from + BATCH_ROWS);
      while (to < list.length && to > from + 1 && list[to].rid === list[to - 1].rid) to--;
      const rows = to - from;
      const reads = new Float32Array(rows * n);
      const writes = new Float32Array(rows * n);
      const keys: string[] = new Array(rows);
      const zones: string[] = new Array(rows);
      const sizeBytes = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        const p = list[from + r];
        keys[r] = p.key;
        zones[r] = this.#w.zoneNames[p.z];
        sizeBytes[r] = sizeOf(this.#w, p.rid);
        // Buckets x = e - n + j that the ring buffer still holds: p.last - B < x <= p.last.
        const j0 = Math.max(0, p.last - B + 1 - (e - n));
        const j1 = Math.min(n - 1, p.last - (e - n));
        for (let j = j0, slot = (e - n + j0) % B; j <= j1; j++, slot = slot + 1 === B ? 0 : slot + 1) {
          reads[r * n + j] = p.buf[slot];
          writes[r * n + j] = p.buf[B + slot];
        }
      }
      const batch: SeriesBatch = {
        bucketMs: o.bucketMs,
        startMs,
        buckets: n,
        rows,
        keys,
        zones,
        reads,
        writes,
        sizeBytes,
      };
      this.#acc.observe(batch);
      const y = await o.forecaster!.forecast(batch, { signal: o.signal });
      for (let r = 0; r < rows; r++) {
        const p = list[from + r];
        let rd = 0;
        let wr = 0;
        for (let j = 0; j < n; j++) {
          rd += reads[r * n + j];
          wr += writes[r * n + j];
        }
        const ex = Math.max(0, y[r]);
        const first = from + r === 0 || list[from + r - 1].rid !== p.rid;
        if (first) {
          z = [];
          remembered.set(keys[r], z);
          d = undefined;
        }
        z.push({ zone: zones[r], expected: ex });
        if (!(ex > 0)) continue;
        const share = rd + wr > 0 ? rd / (rd + wr) : 1;
        if (d === undefined) {
          d = [];
          out.set(p.rid, d);
        }
        d.push(this.#demand(p.z, ex * share, ex * (1 - share)));
      }
      from = to;
    }
    this.#acc.endCycle(startMs);
    this.#acc.remember(startMs + n * o.bucketMs, o.bucketMs, o.horizon, remembered);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (i > 0 && list[i - 1].rid === p.rid) continue; // the record's accuracy is asked once
      const a = this.#acc.accuracy(p.key);
      if (a !== undefined) acc.set(p.rid, a);
    }
  }

  /** True demand in [from, to) per record (rows are in time order; the scan resumes where it stopped). */
  #future(from: number, to: number): Map<number, ZoneDemand[]> {
    const w = this.#w;
    while (this.#ahead < w.rows && w.ts[this.#ahead] < from) this.#ahead++;
    const acc = new Map<number, Float64Array>();
    for (let i = this.#ahead; i < w.rows && w.ts[i] < to; i++) {
      let a = acc.get(w.rid[i]);
      if (a === undefined) {
        a = new Float64Array(2 * this.#Z);
        acc.set(w.rid[i], a);
      }
      a[2 * w.zone[i] + w.write[i]]++;
    }
    const out = new Map<number, ZoneDemand[]>();
    for (const [rid, a] of acc) {
      const d: ZoneDemand[] = [];
      for (let z = 0; z < this.#Z; z++)
        if (a[2 * z] + a[2 * z + 1] > 0) d.push(this.#demand(z, a[2 * z], a[2 * z + 1]));
      out.set(rid, d);
    }
    return out;
  }
}
