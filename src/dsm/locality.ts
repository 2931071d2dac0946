/**
 * The planner's locality (latency/cost) model. Pure.
 *
 * **Latency.** `lat(a, b)` between zones is `latency[a][b]`, else `latency[b][a]`, else 0 when `a === b`, else
 * `defaultLatencyMs`. Zones are interned to small integers once per cycle: every member zone and every zone the
 * matrix names, plus one `OTHER` slot for demand from a zone that is neither (no member sits there and the matrix
 * is silent about it, so it is `defaultLatencyMs` away from every member: one slot serves all such zones).
 *
 * **Cost of a placement.** For a record with up holders H (copies on down members do not serve) and demand from
 * zone z over the horizon:
 * - a `one` access costs the latency to the nearest holder, `L1(z, H)`;
 * - a `majority` access the k-th nearest, k = floor(|H|/2) + 1, `Lmaj(z, H)`;
 * - an `all` access the farthest, `Lall(z, H)`.
 *
 * `cost(H) = Σ_z (one_z · L1(z, H) + majority_z · Lmaj(z, H) + all_z · Lall(z, H))`, in ms over the horizon.
 * It depends only on the multiset of the holders' zones, so the three per-zone latency vectors are computed once
 * per distinct zone multiset and cached (a cycle over a million records sees a few hundred distinct multisets).
 * An empty H (no reachable copy) costs `unreachableMs` per access (the farthest latency in the cluster).
 * @module
 */
import type { LatencyMatrix, ZoneDemand } from './index.ts';

/** Interned zones, their latencies and the per-multiset cache of one planning cycle. */
export class Locality {
  /** Zone names by index; the last one is the `OTHER` slot (named `''`). */
  readonly zones: readonly string[];
  /** Number of zone slots (including `OTHER`). */
  readonly size: number;
  readonly other: number;
  /** Latency of every access when no copy is reachable. */
  readonly unreachableMs: number;
  readonly #index = new Map<string, number>();
  /** `lat[a * size + b]`. */
  readonly #lat: Float64Array;
  /** Key of a multiset → vectors `[L1 × size, Lmaj × size, Lall × size]`. */
  readonly #cache = new Map<number | string, Float64Array>();
  readonly #sorted: Int32Array = new Int32Array(64);
  readonly #dist: Float64Array = new Float64Array(64);

  constructor(zoneNames: Iterable<string>, latency: LatencyMatrix, defaultLatencyMs: number) {
    const names = [...new Set(zoneNames)].sort();
    for (const a of Object.keys(latency)) {
      for (const b of Object.keys(latency[a] ?? {})) if (!names.includes(b)) names.push(b);
      if (!names.includes(a)) names.push(a);
    }
    names.push('');
    this.zones = names;
    this.size = names.length;
    this.other = names.length - 1;
    names.forEach((n, i) => {
      if (i !== this.other) this.#index.set(n, i);
    });
    this.#lat = new Float64Array(this.size * this.size);
    let worst = defaultLatencyMs;
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) {
        const na = names[a];
        const nb = names[b];
        const given = a === this.other || b === this.other ? undefined : (latency[na]?.[nb] ?? latency[nb]?.[na]);
        const v = given ?? (a === b && a !== this.other ? 0 : defaultLatencyMs);
        this.#lat[a * this.size + b] = v;
        if (v > worst) worst = v;
      }
    }
    this.unreachableMs = worst;
  }

  /** Index of a zone; unknown zones map to the `OTHER` slot. */
  zoneIndex(name: string): number {
    return this.#index.get(name) ?? this.other;
  }

  lat(a: number, b: number): number {
    return this.#lat[a * this.size + b];
  }

  /**
   * The `[L1, Lmaj, Lall]` vectors (each `size` long) of the multiset of zones `zones[0 .. n)` (order ignored).
   * Cached per multiset; the returned array is shared, never mutate it.
   */
  vectors(zones: ArrayLike<number>, n: number): Float64Array {
    const s = this.#sorted;
    for (let i = 0; i < n; i++) {
      // Insertion sort: n is a replica count (a handful).
      const v = zones[i];
      let j = i - 1;
      while (j >= 0 && s[j] > v) {
        s[j + 1] = s[j];
        j--;
      }
      s[j + 1] = v;
    }
    const key = this.#key(s, n);
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const out = this.#compute(s, n);
    this.#cache.set(key, out);
    return out;
  }

  /** A number when the multiset fits 52 bits as base-(size+1) digits, else a string (huge replica counts). */
  #key(s: Int32Array, n: number): number | string {
    const base = this.size + 1;
    if (n * Math.log2(base) < 52) {
      let k = 0;
      for (let i = 0; i < n; i++) k = k * base + s[i] + 1;
      return k;
    }
    return Array.from(s.subarray(0, n)).join(',');
  }

  #compute(s: Int32Array, n: number): Float64Array {
    const z = this.size;
    const out = new Float64Array(3 * z);
    const d = this.#dist;
    const k = Math.floor(n / 2) + 1;
    for (let from = 0; from < z; from++) {
      if (n === 0) {
        out[from] = out[z + from] = out[2 * z + from] = this.unreachableMs;
        continue;
      }
      for (let i = 0; i < n; i++) {
        const v = this.lat(from, s[i]);
        let j = i - 1;
        while (j >= 0 && d[j] > v) {
          d[j + 1] = d[j];
          j--;
        }
        d[j + 1] = v;
      }
      out[from] = d[0];
      out[z + from] = d[k - 1];
      out[2 * z + from] = d[n - 1];
    }
    return out;
  }
}

/**
 * Demand of one record by zone slot, as the planner gathers it: `one`, `majority`, `all` at `3·zone + class`, and
 * the list of zone slots touched (so clearing costs O(touched), not O(zones)).
 */
export interface DemandView {
  readonly byZone: Float64Array;
  readonly touched: Int32Array;
  count: number;
}

/** Σ_z demand × latency of the placement whose vectors are `v` (see the module doc). */
export function costWith(v: Float64Array, size: number, demand: DemandView): number {
  let c = 0;
  const b = demand.byZone;
  for (let i = 0; i < demand.count; i++) {
    const z = demand.touched[i];
    c += b[3 * z] * v[z] + b[3 * z + 1] * v[size + z] + b[3 * z + 2] * v[2 * size + z];
  }
  return c;
}

/**
 * The cost model for callers outside a cycle (simulator, controller, tests): the latency cost in ms of serving
 * `demand` from up holders in `holderZones` (one entry per holder), under `latency` (see the module doc).
 */
export function placementCostMs(
  holderZones: readonly string[],
  demand: readonly ZoneDemand[],
  latency: LatencyMatrix,
  defaultLatencyMs: number,
): number {
  const loc = new Locality([...holderZones, ...demand.map((d) => d.zone)], latency, defaultLatencyMs);
  const v = loc.vectors(
    holderZones.map((z) => loc.zoneIndex(z)),
    holderZones.length,
  );
  let c = 0;
  for (const d of demand) {
    const z = loc.zoneIndex(d.zone);
    c += d.one * v[z] + d.majority * v[loc.size + z] + d.all * v[2 * loc.size + z];
  }
  return c;
}
