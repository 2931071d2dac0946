import { hashPair } from './hash.ts';

/** Int32 fields per slot record: list links, group, key hash, generation, error, two caller tags. */
const S = 8;
const S_NEXT = 0;
const S_PREV = 1;
const S_GROUP = 2;
const S_HASH = 3;
const S_GEN = 4;
const S_ERROR = 5;
const S_TAG = 6;
/** Caller-owned uint32 fields per slot (reset to 0 whenever the slot changes key). */
export const SLOT_TAGS = 2;
/** Group records allocated up front (more are added by doubling). */
const INITIAL_GROUPS = 1024;
/** Int32 fields per group record: the count as a float64 (two int32s), head slot, next and previous group. */
const G = 6;
const G_HEAD = 2;
const G_NEXT = 3;
const G_PREV = 4;

/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi 2005) with the Stream-Summary layout: slots with
 * equal counts hang in one group, groups form a list in ascending count order, so an increment and an
 * eviction of the minimum are O(1) with no allocation. Each slot is one 32-byte record of a shared
 * Int32Array (links, group, key hash, generation, error, two caller tags), so an access touches one cache
 * line per slot rather than one per field. Keys are found through an open-addressing index (linear probing,
 * backward-shift deletion, load <= 1/2) of slot numbers keyed by a 32-bit hash of the key, so the only
 * per-key heap object is the key string the caller already holds.
 *
 * Guarantees, with N accesses offered and C slots:
 * - every key whose true count exceeds N / C is tracked (it holds a slot);
 * - for a tracked key, `count - error <= true count <= count`, where `error` is the minimum count at the
 *   moment the key took over its slot; `error` is 0 for a key tracked since its first access, whose count
 *   is then exact; and `error <= N / C` always (stored as uint32, saturating: N / C < 2^32 in practice).
 */
export class SpaceSaving {
  readonly capacity: number;
  /** Slot → key ('' when free). */
  readonly keys: string[];
  /** Sum of the UTF-16 lengths of the tracked keys (for the memory estimate). */
  keyChars = 0;
  #used = 0;
  readonly #slots: Int32Array;
  /**
   * Group records; the count of group g is `#gValue[g * G / 2]` (a view on the same buffer). Grown by
   * doubling up to `capacity` records (there are never more groups than tracked keys, usually far fewer).
   */
  #groups: Int32Array;
  #gValue: Float64Array;
  /** Open-addressing index: slot number or -1 (empty), probed from `hash & #mask`. */
  readonly #index: Int32Array;
  readonly #mask: number;
  readonly #h = new Uint32Array(2);
  /** Head of the free-group list (linked through G_NEXT). */
  #gFreeHead: number;
  #minGroup = -1;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Array<string>(capacity).fill('');
    this.#slots = new Int32Array(capacity * S);
    this.#groups = new Int32Array(0);
    this.#gValue = new Float64Array(0);
    this.#gFreeHead = -1;
    this.#growGroups(Math.min(capacity, INITIAL_GROUPS));
    this.#index = new Int32Array(indexSize(capacity)).fill(-1);
    this.#mask = this.#index.length - 1;
  }

  /** Number of tracked keys. */
  get size(): number {
    return this.#used;
  }

  /** The slot of `key`, or -1 when it is not tracked. */
  slotOf(key: string): number {
    return this.#find(key, hashPair(key, this.#h));
  }

  /** Counts one access of `key`; returns its slot (tracked afterwards, possibly by evicting the minimum). */
  offer(key: string): number {
    return this.offerHashed(key, hashPair(key, this.#h));
  }

  /** {@link offer} with `h1` of the key's {@link hashPair} already computed. */
  offerHashed(key: string, hash: number): number {
    const slot = this.#find(key, hash);
    if (slot !== -1) {
      this.#increment(slot);
      return slot;
    }
    const sl = this.#slots;
    if (this.#used < this.capacity) {
      const s = this.#used++;
      this.#take(s, key, hash, 0);
      const g = this.#minGroup;
      if (g !== -1 && this.#gValue[(g * G) >> 1] === 1) this.#attach(s, g);
      else this.#attach(s, this.#newGroup(1, -1, g));
      return s;
    }
    const g = this.#minGroup;
    const s = this.#groups[g * G + G_HEAD];
    this.#remove(s);
    this.keyChars -= this.keys[s].length;
    sl[s * S + S_GEN]++;
    this.#take(s, key, hash, this.#gValue[(g * G) >> 1]);
    this.#increment(s);
    return s;
  }

  /** Overestimated count of the key in `slot` (true count in [count - error, count]). */
  countOf(slot: number): number {
    return this.#gValue[(this.#slots[slot * S + S_GROUP] * G) >> 1];
  }

  /** Maximum overestimation of `countOf(slot)`: the minimum count when the key took the slot over. */
  errorOf(slot: number): number {
    return this.#slots[slot * S + S_ERROR] >>> 0;
  }

  /** Generation of `slot`, bumped on every eviction, so stale references to a slot can be detected. */
  genOf(slot: number): number {
    return this.#slots[slot * S + S_GEN] >>> 0;
  }

  /** Caller tag `i` (< {@link SLOT_TAGS}) of `slot`, a uint32. */
  tag(slot: number, i: number): number {
    return this.#slots[slot * S + S_TAG + i] >>> 0;
  }

  setTag(slot: number, i: number, value: number): void {
    this.#slots[slot * S + S_TAG + i] = value;
  }

  /** The current minimum count (0 while slots are free): the error a newly admitted key would get. */
  minCount(): number {
    return this.#used < this.capacity || this.#minGroup === -1 ? 0 : this.#gValue[(this.#minGroup * G) >> 1];
  }

  /** Bytes of the typed arrays and the `keys` array (the group records grow with the number of distinct counts). */
  get arrayBytes(): number {
    return this.#slots.byteLength + this.#groups.byteLength + this.#index.byteLength + this.capacity * 8;
  }

  #take(s: number, key: string, hash: number, error: number): void {
    const o = s * S;
    const sl = this.#slots;
    this.keys[s] = key;
    this.keyChars += key.length;
    sl[o + S_HASH] = hash;
    sl[o + S_ERROR] = Math.min(error, 0xffffffff);
    for (let i = 0; i < SLOT_TAGS; i++) sl[o + S_TAG + i] = 0;
    this.#insert(s, hash);
  }

  /** The slot holding `key` (whose hash is `hash`), or -1. */
  #find(key: string, hash: number): number {
    const index = this.#index;
    const mask = this.#mask;
    const h = hash | 0;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const s = index[i];
      if (s === -1) return -1;
      if (this.#slots[s * S + S_HASH] === h && this.keys[s] === key) return s;
    }
  }

  #insert(s: number, hash: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let i = hash & mask;
    while (index[i] !== -1) i = (i + 1) & mask;
    index[i] = s;
  }

  /** Removes slot `s` from the index by backward-shift deletion (no tombstones, probes stay short). */
  #remove(s: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let hole = this.#slots[s * S + S_HASH] & mask;
    while (index[hole] !== s) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const t = index[j];
      if (t === -1) break;
      // `t` may fill the hole unless its home position lies cyclically in (hole, j].
      const home = this.#slots[t * S + S_HASH] & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = t;
        hole = j;
      }
    }
    index[hole] = -1;
  }

  #increment(s: number): void {
    const gr = this.#groups;
    const g = this.#slots[s * S + S_GROUP];
    const v = this.#gValue[(g * G) >> 1] + 1;
    const next = gr[g * G + G_NEXT];
    this.#detach(s, g);
    const empty = gr[g * G + G_HEAD] === -1;
    if (next !== -1 && this.#gValue[(next * G) >> 1] === v) {
      this.#attach(s, next);
      if (empty) this.#freeGroup(g);
    } else if (empty) {
      this.#gValue[(g * G) >> 1] = v;
      this.#attach(s, g);
    } else {
      this.#attach(s, this.#newGroup(v, g, next));
    }
  }

  #attach(s: number, g: number): void {
    const sl = this.#slots;
    const head = this.#groups[g * G + G_HEAD];
    sl[s * S + S_NEXT] = head;
    sl[s * S + S_PREV] = -1;
    if (head !== -1) sl[head * S + S_PREV] = s;
    this.#groups[g * G + G_HEAD] = s;
    sl[s * S + S_GROUP] = g;
  }

  #detach(s: number, g: number): void {
    const sl = this.#slots;
    const p = sl[s * S + S_PREV];
    const n = sl[s * S + S_NEXT];
    if (p !== -1) sl[p * S + S_NEXT] = n;
    else this.#groups[g * G + G_HEAD] = n;
    if (n !== -1) sl[n * S + S_PREV] = p;
  }

  /** A new empty group with value `v` linked between `prev` and `next` (either may be -1). */
  #newGroup(v: number, prev: number, next: number): number {
    if (this.#gFreeHead === -1) this.#growGroups(Math.min(this.capacity, 2 * (this.#groups.length / G)));
    const gr = this.#groups;
    const g = this.#gFreeHead;
    this.#gFreeHead = gr[g * G + G_NEXT];
    this.#gValue[(g * G) >> 1] = v;
    gr[g * G + G_HEAD] = -1;
    gr[g * G + G_PREV] = prev;
    gr[g * G + G_NEXT] = next;
    if (prev !== -1) gr[prev * G + G_NEXT] = g;
    else this.#minGroup = g;
    if (next !== -1) gr[next * G + G_PREV] = g;
    return g;
  }

  /** Reallocates the group records for `n` groups, threading the new ones onto the free list. */
  #growGroups(n: number): void {
    const old = this.#groups;
    const from = old.length / G;
    const buf = new ArrayBuffer(n * G * 4);
    this.#groups = new Int32Array(buf);
    this.#groups.set(old);
    this.#gValue = new Float64Array(buf);
    for (let g = from; g < n; g++) this.#groups[g * G + G_NEXT] = g + 1 < n ? g + 1 : this.#gFreeHead;
    this.#gFreeHead = from < n ? from : this.#gFreeHead;
  }

  #freeGroup(g: number): void {
    const gr = this.#groups;
    const p = gr[g * G + G_PREV];
    const n = gr[g * G + G_NEXT];
    if (p !== -1) gr[p * G + G_NEXT] = n;
    else this.#minGroup = n;
    if (n !== -1) gr[n * G + G_PREV] = p;
    gr[g * G + G_NEXT] = this.#gFreeHead;
    this.#gFreeHead = g;
  }
}

/** Index positions for `capacity` slots: a power of two at least twice the capacity (load <= 1/2). */
export function indexSize(capacity: number): number {
  let n = 2;
  while (n < 2 * capacity) n *= 2;
  return n;
}
