import { fmix32 } from '../ring/hash.ts';
import { nextPow2 } from './count-min.ts';

/**
 * Int32 fields per cell: packed (slot, zone, app) or -1 when empty, slot generation, reads, writes, and the
 * accesses of class `one` and of class `all` (class `majority`, the default, is the rest: reads + writes −
 * one − all).
 */
const C = 6;

/** Demand class codes of {@link CellTable.add}: 0 majority (the default), 1 one, 2 all. */
export const CLASS_MAJORITY = 0;
export const CLASS_ONE = 1;
export const CLASS_ALL = 2;

/**
 * Counters of the open time bucket per (slot, zone, app) of tracked keys: an open-addressing hash table
 * (linear probing) of 24-byte cell records in one Int32Array, so a probe touches one or two cache lines, cleared when
 * the bucket closes. A cell also stores the slot's generation so that counts of a key that lost its
 * Space-Saving slot mid-bucket are not credited to the slot's new key. The table doubles when 70% full, up
 * to `maxSize`; past that, new cells are dropped (counted in `dropped`) while their accesses still reach
 * Space-Saving, the sketch and the zone totals.
 */
export class CellTable {
  size: number;
  used = 0;
  dropped = 0;
  #cells: Int32Array;
  readonly #maxSize: number;
  readonly #zoneApps: number;
  readonly #apps: number;

  constructor(initial: number, maxSize: number, maxZones: number, maxApps: number) {
    this.size = nextPow2(initial);
    this.#maxSize = Math.max(this.size, nextPow2(maxSize));
    this.#zoneApps = maxZones * maxApps;
    this.#apps = maxApps;
    this.#cells = emptyCells(this.size);
  }

  /** Adds one access; `write` selects the writes counter, `cls` the demand class (see {@link CLASS_ONE}). */
  add(slot: number, gen: number, zone: number, app: number, write: boolean, cls = CLASS_MAJORITY): void {
    const k = slot * this.#zoneApps + zone * this.#apps + app;
    const g = gen | 0;
    const mask = this.size - 1;
    const cells = this.#cells;
    let i = fmix32(k ^ Math.imul(g, 0x27d4eb2d)) & mask;
    for (;;) {
      const c = cells[i * C];
      if (c === k && cells[i * C + 1] === g) break;
      if (c === -1) {
        if (this.used + 1 > this.size * 0.7) {
          if (this.size >= this.#maxSize) {
            this.dropped++;
            return;
          }
          this.#grow();
          this.add(slot, gen, zone, app, write, cls);
          return;
        }
        cells[i * C] = k;
        cells[i * C + 1] = g;
        this.used++;
        break;
      }
      i = (i + 1) & mask;
    }
    cells[i * C + (write ? 3 : 2)]++;
    if (cls !== CLASS_MAJORITY) cells[i * C + 3 + cls]++;
  }

  /** Calls `fn` for every used cell. */
  forEach(
    fn: (
      slot: number,
      gen: number,
      zone: number,
      app: number,
      reads: number,
      writes: number,
      one: number,
      all: number,
    ) => void,
  ): void {
    const cells = this.#cells;
    for (let i = 0; i < this.size; i++) {
      const k = cells[i * C];
      if (k === -1) continue;
      const slot = Math.floor(k / this.#zoneApps);
      const rest = k - slot * this.#zoneApps;
      const zone = Math.floor(rest / this.#apps);
      const at = i * C;
      fn(
        slot,
        cells[at + 1] >>> 0,
        zone,
        rest - zone * this.#apps,
        cells[at + 2],
        cells[at + 3],
        cells[at + 4],
        cells[at + 5],
      );
    }
  }

  clear(): void {
    if (this.used === 0) return;
    this.#cells.fill(0);
    for (let i = 0; i < this.size; i++) this.#cells[i * C] = -1;
    this.used = 0;
  }

  get bytes(): number {
    return this.#cells.byteLength;
  }

  #grow(): void {
    const old = this.#cells;
    this.size *= 2;
    const cells = emptyCells(this.size);
    const mask = this.size - 1;
    for (let j = 0; j < old.length; j += C) {
      const k = old[j];
      if (k === -1) continue;
      let i = fmix32(k ^ Math.imul(old[j + 1], 0x27d4eb2d)) & mask;
      while (cells[i * C] !== -1) i = (i + 1) & mask;
      cells.set(old.subarray(j, j + C), i * C);
    }
    this.#cells = cells;
  }
}

function emptyCells(size: number): Int32Array {
  const cells = new Int32Array(size * C);
  for (let i = 0; i < size; i++) cells[i * C] = -1;
  return cells;
}
