import { LRUCache } from 'lru-cache';
import type { StoredRecord } from '../store/index.ts';

/** Bytes counted per cached entry besides its value and key (decoded metadata, map slots). */
const ENTRY_OVERHEAD = 256;

/**
 * Decoded hot records of this daemon's store, by record key (least recently used out first, bounded
 * in bytes). A hit skips the store read and the entry decoding, about a quarter of a local GET.
 * Filled by synchronous reads and by writes: a write of a key drops its cached copy before the store
 * write, and once the store has it caches the written record, unless another write of the key
 * overlapped it (the order in which a store applies concurrent writes is not known here, so the key
 * then stays dropped).
 * A read racing a write can therefore hold the old copy only until that write is acknowledged.
 */
export class RecordReadCache {
  readonly #lru: LRUCache<string, StoredRecord> | undefined;
  /** Keys with a store write in flight: how many, and the sequence number of the latest to start. */
  readonly #writing = new Map<string, { n: number; last: number }>();
  #seq = 0;

  /** `maxBytes` 0 disables the cache. */
  constructor(maxBytes: number) {
    if (maxBytes <= 0) return;
    this.#lru = new LRUCache<string, StoredRecord>({
      maxSize: maxBytes,
      // One large record must not flush every hot small one.
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 16)),
      sizeCalculation: (rec, key) => rec.value.byteLength + 2 * key.length + ENTRY_OVERHEAD,
    });
  }

  get(key: string): StoredRecord | undefined {
    return this.#lru?.get(key);
  }

  fill(key: string, rec: StoredRecord | undefined): void {
    if (rec !== undefined) this.#lru?.set(key, rec);
  }

  /**
   * Runs a store write of `keys`, dropping their cached copies first. `written`: the record the write
   * leaves in the store for a single key (undefined when it removes the entry), cached once it is stored.
   */
  async writing<T>(keys: string | readonly string[], write: () => Promise<T>, written?: StoredRecord): Promise<T> {
    const lru = this.#lru;
    if (lru === undefined) return write();
    const list = typeof keys === 'string' ? [keys] : keys;
    const seq = ++this.#seq;
    // Cache the written record only if no other write of the key was in flight at any time during this one.
    const toCache = typeof keys === 'string' && !this.#writing.has(keys) ? written : undefined;
    for (const k of list) {
      const w = this.#writing.get(k);
      if (w) {
        w.n++;
        w.last = seq;
      } else this.#writing.set(k, { n: 1, last: seq });
      lru.delete(k);
    }
    let stored = false;
    try {
      const result = await write();
      stored = true;
      return result;
    } finally {
      for (const k of list) {
        const w = this.#writing.get(k)!;
        const alone = --w.n === 0 && w.last === seq;
        if (w.n === 0) this.#writing.delete(k);
        if (alone && stored && toCache !== undefined) lru.set(k, owningValue(toCache));
        else lru.delete(k);
      }
    }
  }
}

/**
 * The record with a value that owns its memory. A written value can be a slice of a larger buffer (a
 * socket read, Node's shared pool for small buffers) that the cache would keep alive unaccounted.
 */
function owningValue(rec: StoredRecord): StoredRecord {
  const v = rec.value;
  if (v.byteOffset === 0 && v.buffer.byteLength === v.byteLength) return rec;
  return { meta: rec.meta, value: new Uint8Array(v) };
}
