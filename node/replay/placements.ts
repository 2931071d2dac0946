/**
 * Which replayed requests a zone could serve alone: the record's holders as the cluster reports them, followed
 * through the moves that end during the replay.
 *
 * **Remote-served rule** (the DSM planner's locality model, `src/dsm/locality.ts`, and the simulator's,
 * `src/sim/policy.ts`): with n holders of which h are in the request's zone, a request at `one` is served in its
 * zone when h ≥ 1 (the nearest replica answers first), at `quorum`/`linearizable` (the default level) when
 * h ≥ ⌊n/2⌋ + 1, at `all` when h = n; otherwise it waited on another zone: remote-served. Writes follow the
 * same rule as reads of their level (a write is acknowledged by that many replicas).
 *
 * The daemons' data API says nothing per request about where it was served (no header), and their counters do
 * not tell it either (`shoal_replica_calls_total` counts every remote call, background repair included, and a
 * read fans out to every holder), so the share is derived from placement: each key's holders from
 * `GET /admin/records/:key` when the replay starts, then each move that ended `done` in a daemon's
 * `/admin/migrations` replaces them with its `to` from the move's `endedAt` on (moves are seen within a poll
 * interval; one in flight counts from its end). Times compare the daemons' clocks with the replay's: on one
 * host they are the same clock.
 * @module
 */
import type { AccessClass } from '../../src/api/records.ts';

/** Whether `here` of `n` holders in the request's zone serve an access of class `cls` there. */
export function servedLocally(here: number, n: number, cls: AccessClass): boolean {
  if (n === 0) return false;
  if (cls === 'one') return here >= 1;
  if (cls === 'all') return here === n;
  return here >= Math.floor(n / 2) + 1;
}

interface Move {
  endedAt: number;
  to: readonly string[];
}

/** Holders per key (by key index), kept current through ended moves. */
export class PlacementBook {
  readonly #zoneOfPeer: (peerId: string) => number;
  readonly #index: ReadonlyMap<string, number>;
  readonly #holders: Array<Int32Array | undefined>;
  readonly #fetchedAt: Float64Array;
  readonly #moves = new Map<number, Move[]>();

  /**
   * @param keys the replay's keys (index = key id)
   * @param zones the zones requests come from (index = zone id)
   * @param memberZones peer id → zone name; a holder in no listed zone counts in none
   */
  constructor(keys: readonly string[], zones: readonly string[], memberZones: ReadonlyMap<string, string>) {
    this.#index = new Map(keys.map((k, i) => [k, i]));
    this.#holders = new Array(keys.length).fill(undefined);
    this.#fetchedAt = new Float64Array(keys.length);
    this.#zoneOfPeer = (p) => {
      const z = memberZones.get(p);
      return z === undefined ? -1 : zones.indexOf(z);
    };
  }

  /** The zone index of every holder (-1: a zone requests do not come from). */
  #encode(holders: readonly string[]): Int32Array {
    return Int32Array.from(holders, this.#zoneOfPeer);
  }

  /** Sets key `k`'s holders as fetched at `at` (ms), then applies the moves seen since that ended after it. */
  set(k: number, holders: readonly string[], at: number): void {
    this.#holders[k] = this.#encode(holders);
    this.#fetchedAt[k] = at;
    for (const m of this.#moves.get(k) ?? []) if (m.endedAt > at) this.#holders[k] = this.#encode(m.to);
  }

  /** A move that ended `done`: its key's holders are `to` from then on (keys not replayed are ignored). */
  moved(key: string, to: readonly string[], endedAt: number): void {
    const k = this.#index.get(key);
    if (k === undefined) return;
    const list = this.#moves.get(k) ?? [];
    list.push({ endedAt, to });
    this.#moves.set(k, list);
    if (this.#holders[k] !== undefined && endedAt > this.#fetchedAt[k]) this.#holders[k] = this.#encode(to);
  }

  /** Whether key `k` is known. */
  known(k: number): boolean {
    return this.#holders[k] !== undefined;
  }

  /** Whether a request for key `k` from zone `z` at class `cls` is served in its zone now; undefined if unknown. */
  local(k: number, z: number, cls: AccessClass): boolean | undefined {
    return PlacementBook.localIn(this.#holders[k], z, cls);
  }

  /** The same question against a {@link snapshot}. */
  static localIn(h: Int32Array | undefined, z: number, cls: AccessClass): boolean | undefined {
    if (h === undefined) return undefined;
    let here = 0;
    for (const x of h) if (x === z) here++;
    return servedLocally(here, h.length, cls);
  }

  /** The holders' zones of every key now (shared arrays: a later move replaces them, never mutates them). */
  snapshot(): Array<Int32Array | undefined> {
    return [...this.#holders];
  }
}
