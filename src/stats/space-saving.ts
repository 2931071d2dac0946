/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi 2005) with the Stream-Summary layout in typed
 * arrays: slots with equal counts hang in one group, groups form a list in ascending count order, so an
 * increment and an eviction of the minimum are O(1) with no allocation (apart from the key string the
 * caller already holds and one Map entry per newly tracked key).
 *
 * Guarantees, with N accesses offered and C slots:
 * - every key whose true count exceeds N / C is tracked (it holds a slot);
 * - for a tracked key, `count - error <= true count <= count`, where `error` is the minimum count at the
 *   moment the key took over its slot; `error` is 0 for a key tracked since its first access, whose count
 *   is then exact; and `error <= N / C` always.
 */
export class SpaceSaving {
  readonly capacity: number;
  /** Slot → key ('' when free). */
  readonly keys: string[];
  /** Slot → maximum overestimation (the count the slot had when this key took it over). */
  readonly error: Float64Array;
  /** Slot → generation, bumped on every eviction, so stale references to a slot can be detected. */
  readonly gen: Uint32Array;
  /** Sum of the UTF-16 lengths of the tracked keys (for the memory estimate). */
  keyChars = 0;
  #used = 0;
  readonly #index = new Map<string, number>();
  readonly #sNext: Int32Array;
  readonly #sPrev: Int32Array;
  readonly #sGroup: Int32Array;
  readonly #gValue: Float64Array;
  readonly #gHead: Int32Array;
  readonly #gNext: Int32Array;
  readonly #gPrev: Int32Array;
  /** Head of the free-group list (linked through #gNext). */
  #gFreeHead: number;
  #minGroup = -1;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Array<string>(capacity).fill('');
    this.error = new Float64Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.#sNext = new Int32Array(capacity);
    this.#sPrev = new Int32Array(capacity);
    this.#sGroup = new Int32Array(capacity);
    this.#gValue = new Float64Array(capacity);
    this.#gHead = new Int32Array(capacity);
    this.#gNext = new Int32Array(capacity);
    this.#gPrev = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#gNext[i] = i + 1 < capacity ? i + 1 : -1;
    this.#gFreeHead = 0;
  }

  /** Number of tracked keys. */
  get size(): number {
    return this.#used;
  }

  /** The slot of `key`, or -1 when it is not tracked. */
  slotOf(key: string): number {
    return this.#index.get(key) ?? -1;
  }

  /** Counts one access of `key`; returns its slot (tracked afterwards, possibly by evicting the minimum). */
  offer(key: string): number {
    const slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#increment(slot);
      return slot;
    }
    if (this.#used < this.capacity) {
      const s = this.#used++;
      this.keys[s] = key;
      this.keyChars += key.length;
      this.#index.set(key, s);
      this.error[s] = 0;
      const g = this.#minGroup;
      if (g !== -1 && this.#gValue[g] === 1) this.#attach(s, g);
      else this.#attach(s, this.#newGroup(1, -1, g));
      return s;
    }
    const g = this.#minGroup;
    const s = this.#gHead[g];
    const old = this.keys[s];
    this.#index.delete(old);
    this.keyChars += key.length - old.length;
    this.keys[s] = key;
    this.#index.set(key, s);
    this.gen[s]++;
    this.error[s] = this.#gValue[g];
    this.#increment(s);
    return s;
  }

  /** Overestimated count of the key in `slot` (true count in [count - error, count]). */
  countOf(slot: number): number {
    return this.#gValue[this.#sGroup[slot]];
  }

  /** The current minimum count (0 while slots are free): the error a newly admitted key would get. */
  minCount(): number {
    return this.#used < this.capacity || this.#minGroup === -1 ? 0 : this.#gValue[this.#minGroup];
  }

  #increment(s: number): void {
    const g = this.#sGroup[s];
    const v = this.#gValue[g] + 1;
    const next = this.#gNext[g];
    this.#detach(s, g);
    const empty = this.#gHead[g] === -1;
    if (next !== -1 && this.#gValue[next] === v) {
      this.#attach(s, next);
      if (empty) this.#freeGroup(g);
    } else if (empty) {
      this.#gValue[g] = v;
      this.#attach(s, g);
    } else {
      this.#attach(s, this.#newGroup(v, g, next));
    }
  }

  #attach(s: number, g: number): void {
    const head = this.#gHead[g];
    this.#sNext[s] = head;
    this.#sPrev[s] = -1;
    if (head !== -1) this.#sPrev[head] = s;
    this.#gHead[g] = s;
    this.#sGroup[s] = g;
  }

  #detach(s: number, g: number): void {
    const p = this.#sPrev[s];
    const n = this.#sNext[s];
    if (p !== -1) this.#sNext[p] = n;
    else this.#gHead[g] = n;
    if (n !== -1) this.#sPrev[n] = p;
  }

  /** A new empty group with value `v` linked between `prev` and `next` (either may be -1). */
  #newGroup(v: number, prev: number, next: number): number {
    const g = this.#gFreeHead;
    this.#gFreeHead = this.#gNext[g];
    this.#gValue[g] = v;
    this.#gHead[g] = -1;
    this.#gPrev[g] = prev;
    this.#gNext[g] = next;
    if (prev !== -1) this.#gNext[prev] = g;
    else this.#minGroup = g;
    if (next !== -1) this.#gPrev[next] = g;
    return g;
  }

  #freeGroup(g: number): void {
    const p = this.#gPrev[g];
    const n = this.#gNext[g];
    if (p !== -1) this.#gNext[p] = n;
    else this.#minGroup = n;
    if (n !== -1) this.#gPrev[n] = p;
    this.#gNext[g] = this.#gFreeHead;
    this.#gFreeHead = g;
  }

  /** Bytes of the typed arrays (fixed at construction). */
  get arrayBytes(): number {
    return this.capacity * (8 * 2 + 4 * 7);
  }
}
