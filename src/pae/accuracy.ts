/**
 * Measured accuracy of the PAE's forecasts: the engine remembers each cycle's forecast for its window
 * `[start, start + horizon)`; once a later cycle's series cover that whole window (it has closed and lies
 * within the lookback), the forecast is compared with what was observed there, per key and zone.
 *
 * Rule (what the dsm's hybrid policy weighs forecast against observation by): over the last
 * {@link DEFAULT_ACCURACY.windows} evaluated windows of a key, with E = Σ |forecast − observed| over its
 * zones and windows, O = Σ observed, F = Σ forecast,
 *
 *   accuracy = clamp(1 − E / max(O, minAccesses), 0, 1)
 *
 * (1 − WAPE, the denominator floored at `minAccesses` so that a forecast of demand that never came scores
 * low instead of undefined). It is undefined while fewer than `minWindows` windows of the key were
 * evaluated, or while both O and F stay below `minAccesses` (too little traffic to tell). The per-zone
 * aggregate applies the same rule to every key's accesses from one zone, over the last `windows` windows.
 *
 * Memory: at most `maxKeys` keys keep a history (`windows` × 3 float32 each, about 150 bytes with the map
 * entry; the default 20 000 keys stay under 4 MiB); the least recently evaluated key is dropped first.
 * Besides, the forecasts of the windows not yet closed are kept (about horizon + 1 cycles' forecasts).
 * @module
 */
import type { SeriesBatch } from '../stats/index.ts';
import type { ZoneForecast } from './scores.ts';

export interface AccuracyOptions {
  /** Windows per key (and per zone) that the accuracy is computed over (default 8). */
  windows?: number;
  /** Fewer evaluated windows than this: undefined (default 3). */
  minWindows?: number;
  /** Accesses (observed or forecast, summed over the windows) below which accuracy is undefined (default 10). */
  minAccesses?: number;
  /** Keys with a history at most (default 20 000). */
  maxKeys?: number;
}

export const DEFAULT_ACCURACY: Required<AccuracyOptions> = {
  windows: 8,
  minWindows: 3,
  minAccesses: 10,
  maxKeys: 20_000,
};

interface Pending {
  startMs: number;
  endMs: number;
  bucketMs: number;
  forecast: ReadonlyMap<string, ZoneForecast>;
  /** Observed accesses per key per zone in the window, filled by the closing cycle. */
  observed?: Map<string, Map<string, number>>;
}

/** Last `windows` evaluations: per slot error, observed, forecast. */
interface History {
  /** [e0, o0, f0, e1, o1, f1, ...] ring of `windows` slots. */
  ring: Float32Array;
  /** Windows evaluated (the ring holds the last min(n, windows)). */
  n: number;
}

/** Sums of a history's held windows. */
function sums(h: History, windows: number): { e: number; o: number; f: number; n: number } {
  let e = 0;
  let o = 0;
  let f = 0;
  const held = Math.min(h.n, windows);
  for (let i = 0; i < held; i++) {
    e += h.ring[i * 3];
    o += h.ring[i * 3 + 1];
    f += h.ring[i * 3 + 2];
  }
  return { e, o, f, n: held };
}

function push(h: History, windows: number, e: number, o: number, f: number): void {
  const at = (h.n % windows) * 3;
  h.ring[at] = e;
  h.ring[at + 1] = o;
  h.ring[at + 2] = f;
  h.n++;
}

/** Tracks forecasts until their windows close and scores them (see the module doc). */
export class ForecastAccuracy {
  readonly o: Required<AccuracyOptions>;
  readonly #pending = new Map<number, Pending>();
  readonly #keys = new Map<string, History>();
  readonly #zones = new Map<string, History>();
  /**
   * A live iterator over `#keys`, left where the last eviction stopped. Every entry before it was evicted, so
   * its next entry is the least recently evaluated key. A fresh `keys().next()` per eviction would instead
   * step over every deleted slot from the table's start (Map deletions leave holes until it rehashes):
   * quadratic, and 60 % of a 1M-record simulation's time.
   */
  #oldest: MapIterator<string> | undefined;
  #windows = 0;

  constructor(options: AccuracyOptions = {}) {
    this.o = { ...DEFAULT_ACCURACY, ...options };
    if (this.o.windows < 1 || this.o.minWindows > this.o.windows) {
      throw new RangeError('accuracy: need 1 <= minWindows <= windows');
    }
  }

  /** Remembers the forecast made for `[startMs, startMs + horizonBuckets * bucketMs)` (replacing one for the same window). */
  remember(
    startMs: number,
    bucketMs: number,
    horizonBuckets: number,
    forecast: ReadonlyMap<string, ZoneForecast>,
  ): void {
    this.#pending.set(startMs, { startMs, endMs: startMs + horizonBuckets * bucketMs, bucketMs, forecast });
    // Never more than a few cycles' forecasts: drop the oldest beyond 2 × horizon + 2 windows.
    const cap = 2 * horizonBuckets + 2;
    for (const k of this.#pending.keys()) {
      if (this.#pending.size <= cap) break;
      this.#pending.delete(k);
    }
  }

  /** Reads one batch of a cycle: the observed accesses of every remembered window that it covers. */
  observe(batch: SeriesBatch): void {
    const n = batch.buckets;
    const gridEnd = batch.startMs + n * batch.bucketMs;
    for (const p of this.#pending.values()) {
      if (p.bucketMs !== batch.bucketMs || p.startMs < batch.startMs || p.endMs > gridEnd) continue;
      p.observed ??= new Map();
      const lo = (p.startMs - batch.startMs) / batch.bucketMs;
      const hi = (p.endMs - batch.startMs) / batch.bucketMs;
      if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue; // another grid alignment
      for (let r = 0; r < batch.rows; r++) {
        const key = batch.keys[r];
        if (!p.forecast.has(key)) continue;
        let sum = 0;
        for (let b = lo; b < hi; b++) sum += batch.reads[r * n + b] + batch.writes[r * n + b];
        let zones = p.observed.get(key);
        if (!zones) {
          zones = new Map();
          p.observed.set(key, zones);
        }
        zones.set(batch.zones[r], (zones.get(batch.zones[r]) ?? 0) + sum);
      }
    }
  }

  /**
   * Ends a cycle whose series started at `gridStartMs`: scores every remembered window the cycle covered
   * (a key it did not mention had no accesses there), and forgets windows that can no longer be covered.
   */
  endCycle(gridStartMs: number | undefined): void {
    for (const [k, p] of this.#pending) {
      if (p.observed) {
        this.#score(p);
        this.#pending.delete(k);
      } else if (gridStartMs !== undefined && p.startMs < gridStartMs) this.#pending.delete(k);
    }
  }

  /** Drops what a cycle that did not complete observed. */
  abortCycle(): void {
    for (const p of this.#pending.values()) p.observed = undefined;
  }

  #score(p: Pending): void {
    const observed = p.observed ?? new Map<string, Map<string, number>>();
    const zoneSums = new Map<string, [number, number, number]>();
    const addZone = (zone: string, e: number, o: number, f: number) => {
      const z = zoneSums.get(zone);
      if (z) {
        z[0] += e;
        z[1] += o;
        z[2] += f;
      } else zoneSums.set(zone, [e, o, f]);
    };
    for (const [key, zones] of p.forecast) {
      const obs = observed.get(key);
      let e = 0;
      let o = 0;
      let f = 0;
      for (const { zone, expected } of zones) {
        const x = Math.max(0, expected);
        const y = obs?.get(zone) ?? 0;
        e += Math.abs(x - y);
        o += y;
        f += x;
        addZone(zone, Math.abs(x - y), y, x);
      }
      for (const [zone, y] of obs ?? []) {
        if (zones.some((z) => z.zone === zone)) continue;
        e += y;
        o += y;
        addZone(zone, y, y, 0);
      }
      let h = this.#keys.get(key);
      if (!h) {
        if (o === 0 && f < 1e-3) continue; // nothing forecast, nothing seen: no evidence worth a slot
        h = { ring: new Float32Array(this.o.windows * 3), n: 0 };
      } else this.#keys.delete(key);
      push(h, this.o.windows, e, o, f);
      this.#keys.set(key, h); // most recently evaluated last
      if (this.#keys.size > this.o.maxKeys) this.#evictOldest();
    }
    for (const [zone, [e, o, f]] of zoneSums) {
      let h = this.#zones.get(zone);
      if (!h) {
        h = { ring: new Float32Array(this.o.windows * 3), n: 0 };
        this.#zones.set(zone, h);
      }
      push(h, this.o.windows, e, o, f);
    }
    this.#windows++;
  }

  #evictOldest(): void {
    let next = this.#oldest?.next();
    if (next === undefined || next.done) {
      this.#oldest = this.#keys.keys();
      next = this.#oldest.next();
    }
    if (!next.done) this.#keys.delete(next.value);
  }

  #rule(h: History | undefined): number | undefined {
    if (!h) return undefined;
    const { e, o, f, n } = sums(h, this.o.windows);
    if (n < this.o.minWindows || (o < this.o.minAccesses && f < this.o.minAccesses)) return undefined;
    return Math.min(1, Math.max(0, 1 - e / Math.max(o, this.o.minAccesses)));
  }

  /** Accuracy of `key`'s recent forecasts in [0, 1], or undefined (see the module doc). O(windows). */
  accuracy(key: string): number | undefined {
    return this.#rule(this.#keys.get(key));
  }

  /** Accuracy per origin zone over every key's forecasts (zones without enough evidence are left out). */
  zoneAccuracy(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [zone, h] of this.#zones) {
      const a = this.#rule(h);
      if (a !== undefined) out[zone] = a;
    }
    return out;
  }

  /** Windows scored since start. */
  get windows(): number {
    return this.#windows;
  }

  /** Keys holding a history. */
  get keys(): number {
    return this.#keys.size;
  }
}
