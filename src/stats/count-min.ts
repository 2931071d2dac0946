import { hashPair } from './hash.ts';

/**
 * Count-min sketch with conservative update (Estan and Varghese) over 32-bit counters.
 *
 * Width `w = nextPow2(ceil(e / epsilon))`, depth `d = ceil(ln(1 / delta))`. For a stream of N accesses the
 * estimate of any key satisfies `true <= estimate` always, and `estimate <= true + epsilon * N` with
 * probability at least `1 - delta` (conservative update only lowers estimates, so the classic bound holds).
 * Counters saturate at 2^32 - 1.
 */
export class CountMinSketch {
  readonly width: number;
  readonly depth: number;
  readonly epsilon: number;
  readonly delta: number;
  /** Total accesses added (N of the error bound). */
  total = 0;
  readonly #rows: Uint32Array;
  readonly #mask: number;
  readonly #h = new Uint32Array(2);
  readonly #idx: Int32Array;

  constructor(epsilon: number, delta: number) {
    this.epsilon = epsilon;
    this.delta = delta;
    this.width = nextPow2(Math.ceil(Math.E / epsilon));
    this.depth = Math.max(1, Math.ceil(Math.log(1 / delta)));
    this.#mask = this.width - 1;
    this.#rows = new Uint32Array(this.width * this.depth);
    this.#idx = new Int32Array(this.depth);
  }

  /** Adds one access of `key` (conservative update: only the minimal counters grow). */
  add(key: string): void {
    hashPair(key, this.#h);
    this.addHashed(this.#h[0], this.#h[1]);
  }

  /** {@link add} with the key's {@link hashPair} already computed (the recording hot path hashes once). */
  addHashed(h1: number, h2: number): void {
    const rows = this.#rows;
    let min = 0xffffffff;
    for (let i = 0; i < this.depth; i++) {
      const at = i * this.width + ((h1 + Math.imul(i, h2)) & this.#mask);
      this.#idx[i] = at;
      if (rows[at] < min) min = rows[at];
    }
    this.total++;
    if (min === 0xffffffff) return;
    const next = min + 1;
    for (let i = 0; i < this.depth; i++) {
      const at = this.#idx[i];
      if (rows[at] < next) rows[at] = next;
    }
  }

  /** Upper-bound estimate of the accesses of `key` (see the class doc for the error bound). */
  estimate(key: string): number {
    hashPair(key, this.#h);
    const h1 = this.#h[0];
    const h2 = this.#h[1];
    let min = 0xffffffff;
    for (let i = 0; i < this.depth; i++) {
      const v = this.#rows[i * this.width + ((h1 + Math.imul(i, h2)) & this.#mask)];
      if (v < min) min = v;
    }
    return min;
  }

  /** The additive error bound `epsilon * N` that holds with probability `1 - delta`. */
  errorBound(): number {
    return this.epsilon * this.total;
  }

  get bytes(): number {
    return this.#rows.byteLength;
  }

  /** Raw counters (for persistence). */
  get rows(): Uint32Array {
    return this.#rows;
  }
}

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
