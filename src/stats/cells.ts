import { nextPow2 } from './count-min.ts';
import { fmix32 } from './hash.ts';

/**
 * Counters of the open time bucket per (slot, zone, app) of tracked keys: an open-addressing hash table
 * in typed arrays (linear probing), cleared when the bucket closes. A cell also stores the slot's
 * generation so that counts of a key that lost its Space-Saving slot mid-bucket are not credited to the
 * slot's new key. The table doubles when 70% full, up to `maxSize`; past that, new cells are dropped
 * (counted in `dropped`) while their accesses still reach Space-Saving, the sketch and the zone totals.
 */
export class CellTable {
  size: number;
  used = 0;
  dropped = 0;
  cellKey: Int32Array;
  cellGen: Uint32Array;
  reads: Uint32Array;
  writes: Uint32Array;
  readonly #maxSize: number;
  readonly #zoneApps: number;
  readonly #apps: number;

  constructor(initial: number, maxSize: number, maxZones: number, maxApps: number) {
    this.size = nextPow2(initial);
    this.#maxSize = Math.max(this.size, nextPow2(maxSize));
    this.#zoneApps = maxZones * maxApps;
    this.#apps = maxApps;
    this.cellKey = new Int32Array(this.size).fill(-1);
    this.cellGen = new Uint32Array(this.size);
    this.reads = new Uint32Array(this.size);
    this.writes = new Uint32Array(this.size);
  }

  /** Adds one access; `write` selects the writes counter. */
  add(slot: number, gen: number, zone: number, app: number, write: boolean): void {
    const k = slot * this.#zoneApps + zone * this.#apps + app;
    const mask = this.size - 1;
    let i = fmix32(k ^ Math.imul(gen, 0x27d4eb2d)) & mask;
    for (;;) {
      const c = this.cellKey[i];
      if (c === k && this.cellGen[i] === gen) break;
      if (c === -1) {
        if (this.used + 1 > this.size * 0.7) {
          if (this.size >= this.#maxSize) {
            this.dropped++;
            return;
          }
          this.#grow();
          this.add(slot, gen, zone, app, write);
          return;
        }
        this.cellKey[i] = k;
        this.cellGen[i] = gen;
        this.used++;
        break;
      }
      i = (i + 1) & mask;
    }
    if (write) this.writes[i]++;
    else this.reads[i]++;
  }

  /** Calls `fn` for every used cell. */
  forEach(fn: (slot: number, gen: number, zone: number, app: number, reads: number, writes: number) => void): void {
    for (let i = 0; i < this.size; i++) {
      const k = this.cellKey[i];
      if (k === -1) continue;
      const slot = Math.floor(k / this.#zoneApps);
      const rest = k - slot * this.#zoneApps;
      const zone = Math.floor(rest / this.#apps);
      fn(slot, this.cellGen[i], zone, rest - zone * this.#apps, this.reads[i], this.writes[i]);
    }
  }

  clear(): void {
    if (this.used === 0) return;
    this.cellKey.fill(-1);
    this.reads.fill(0);
    this.writes.fill(0);
    this.used = 0;
  }

  get bytes(): number {
    return this.size * 16;
  }

  #grow(): void {
    const old = { key: this.cellKey, gen: this.cellGen, r: this.reads, w: this.writes };
    this.size *= 2;
    this.cellKey = new Int32Array(this.size).fill(-1);
    this.cellGen = new Uint32Array(this.size);
    this.reads = new Uint32Array(this.size);
    this.writes = new Uint32Array(this.size);
    const mask = this.size - 1;
    for (let j = 0; j < old.key.length; j++) {
      const k = old.key[j];
      if (k === -1) continue;
      let i = fmix32(k ^ Math.imul(old.gen[j], 0x27d4eb2d)) & mask;
      while (this.cellKey[i] !== -1) i = (i + 1) & mask;
      this.cellKey[i] = k;
      this.cellGen[i] = old.gen[j];
      this.reads[i] = old.r[j];
      this.writes[i] = old.w[j];
    }
  }
}
