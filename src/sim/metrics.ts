/**
 * Per-policy accounting: the latency histogram (exact: latencies are matrix entries), local and remote
 * requests, cross-zone bytes, replica byte-hours, and every copying move (for `goodMoveRatio` and
 * `movedBackShare`, defined in `index.ts`; scored at the end against the trace's true future).
 * @module
 */
import type { PolicyResult, SimCost, SimPolicy } from './index.ts';
import type { Workload } from './workload.ts';

const GB = 2 ** 30;
const HOUR = 3_600_000;

export interface Prices {
  readonly storageUsdPerGbMonth: number;
  readonly transferUsdPerGb: number;
  readonly moveBackWindowMs: number;
  readonly horizonMs: number;
}

export class Metrics {
  readonly #hist = new Map<number, number>();
  #requests = 0;
  #remote = 0;
  #latSum = 0;
  crossBytes = 0;
  #held = 0;
  #heldAt: number;
  #byteMs = 0;
  #bytesMoved = 0;
  #movedBack = 0;
  /** Copying moves: record, time, bitmask of destination zones. */
  readonly #moves: { rid: number; t: number; zones: number; reclaim: boolean }[] = [];
  /** Per record: recent removals `[t, zone, t, zone, ...]`. */
  readonly #removed = new Map<number, number[]>();
  planCalls = 0;
  planMs = 0;
  /** Planned moves per kind (replace, add, drop, home). */
  readonly kinds: Record<string, number> = {};

  constructor(startMs: number, heldBytes: number) {
    this.#heldAt = startMs;
    this.#held = heldBytes;
  }

  /** Requests and remote-served requests per origin zone (workload zone index). */
  readonly #zoneRequests: number[] = [];
  readonly #zoneRemote: number[] = [];

  request(latencyMs: number, local: boolean, crossBytes: number, zone = 0): void {
    this.#requests++;
    this.#latSum += latencyMs;
    this.#zoneRequests[zone] = (this.#zoneRequests[zone] ?? 0) + 1;
    if (!local) {
      this.#remote++;
      this.#zoneRemote[zone] = (this.#zoneRemote[zone] ?? 0) + 1;
    }
    this.crossBytes += crossBytes;
    this.#hist.set(latencyMs, (this.#hist.get(latencyMs) ?? 0) + 1);
  }

  /** Bytes held by all replicas change by `delta` at `t`. */
  held(t: number, delta: number): void {
    this.#byteMs += this.#held * (t - this.#heldAt);
    this.#heldAt = t;
    this.#held += delta;
  }

  /**
   * A move decided at `t`: zones whose replica count went up (`added`, with the bytes copied there) and down
   * (`removed`), as zone index lists; `destZones` = zones of the new holders.
   */
  move(
    rid: number,
    t: number,
    size: number,
    added: readonly number[],
    removed: readonly number[],
    dest: number[],
    reclaim = false,
  ) {
    let mask = 0;
    for (const z of dest) mask |= 1 << z;
    if (dest.length > 0) {
      this.#moves.push({ rid, t, zones: mask, reclaim });
      this.#bytesMoved += size * dest.length;
    }
    const list = this.#removed.get(rid);
    if (list !== undefined) {
      for (const z of added) {
        for (let k = 0; k < list.length; k += 2) {
          if (list[k + 1] === z && t - list[k] <= this.prices.moveBackWindowMs) {
            this.#movedBack += size;
            list.splice(k, 2);
            break;
          }
        }
      }
    }
    if (removed.length > 0) {
      const l = list ?? [];
      for (const z of removed) l.push(t, z);
      while (l.length > 0 && t - l[0] > this.prices.moveBackWindowMs) l.splice(0, 2);
      this.#removed.set(rid, l);
    }
  }

  prices!: Prices;

  result(policy: SimPolicy, w: Workload, endMs: number, top: TopAccessor): PolicyResult {
    this.held(endMs, 0);
    const p = this.prices;
    let good = 0;
    let demandMoves = 0;
    let goodDemand = 0;
    for (const m of this.#moves) {
      const z = top(m.rid, m.t, m.t + p.horizonMs);
      const hit = z >= 0 && ((m.zones >> z) & 1) === 1;
      if (hit) good++;
      if (!m.reclaim) {
        demandMoves++;
        if (hit) goodDemand++;
      }
    }
    const keys = [...this.#hist.keys()].sort((a, b) => a - b);
    const rank = Math.ceil(0.99 * this.#requests);
    let seen = 0;
    let p99 = 0;
    for (const k of keys) {
      seen += this.#hist.get(k)!;
      if (seen >= rank) {
        p99 = k;
        break;
      }
    }
    const byteHours = this.#byteMs / HOUR;
    const storageUsd = (byteHours / GB) * (p.storageUsdPerGbMonth / 730);
    const transferUsd = (this.crossBytes / GB) * p.transferUsdPerGb;
    const costDetail: SimCost = {
      replicaByteHours: byteHours,
      crossZoneBytes: this.crossBytes,
      storageUsd,
      transferUsd,
      totalUsd: storageUsd + transferUsd,
    };
    const hours = Math.max(1e-9, (w.endMs - w.startMs) / HOUR);
    const n = this.#moves.length;
    return {
      policy,
      meanLatencyMs: this.#requests > 0 ? this.#latSum / this.#requests : 0,
      p99LatencyMs: p99,
      remoteShare: this.#requests > 0 ? this.#remote / this.#requests : 0,
      zones: w.zoneNames.map((zone, z) => {
        const requests = this.#zoneRequests[z] ?? 0;
        return { zone, requests, remoteShare: requests > 0 ? (this.#zoneRemote[z] ?? 0) / requests : null };
      }),
      bytesMoved: this.#bytesMoved,
      recordsMoved: n,
      goodMoveRatio: n > 0 ? good / n : null,
      goodDemandMoveRatio: demandMoves > 0 ? goodDemand / demandMoves : null,
      movedBackShare: this.#bytesMoved > 0 ? this.#movedBack / this.#bytesMoved : null,
      cost: costDetail.totalUsd,
      costDetail,
      requests: this.#requests,
      movesPerHour: n / hours,
      planCalls: this.planCalls,
      planMs: this.planMs,
      movesByKind: { ...this.kinds },
    };
  }
}

/** Top accessor zone of a record in [from, to), or -1 when it has no access there. */
export type TopAccessor = (rid: number, from: number, to: number) => number;

/** Builds a {@link TopAccessor} over the workload (rows indexed by record, in time order; ties: lowest zone). */
export function topAccessor(w: Workload): TopAccessor {
  const off = new Int32Array(w.records + 1);
  for (let i = 0; i < w.rows; i++) off[w.rid[i] + 1]++;
  for (let r = 0; r < w.records; r++) off[r + 1] += off[r];
  const pos = off.slice(0, w.records);
  const idx = new Int32Array(w.rows);
  for (let i = 0; i < w.rows; i++) idx[pos[w.rid[i]]++] = i;
  const counts = new Int32Array(w.zoneNames.length);
  return (rid, from, to) => {
    let lo = off[rid];
    let hi = off[rid + 1];
    const end = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (w.ts[idx[mid]] < from) lo = mid + 1;
      else hi = mid;
    }
    counts.fill(0);
    let best = -1;
    for (let k = lo; k < end && w.ts[idx[k]] < to; k++) counts[w.zone[idx[k]]]++;
    for (let z = 0; z < counts.length; z++) if (counts[z] > 0 && (best < 0 || counts[z] > counts[best])) best = z;
    return best;
  };
}
