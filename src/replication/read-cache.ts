import { LRUCache } from 'lru-cache';
import type { StoredRecord } from '../store/index.ts';

/** Bytes counted per cached entry besides its value and key (decoded metadata, map slots). */
const ENTRY_OVERHEAD = 256;

/**
 * Decoded hot records of this daemon's store, by record key (least recently used out first, bounded
 * in bytes). A hit skips the store read and the entry decoding, about a quarter of a local GET.
 * Filled only by synchronous reads; every write of a key drops it before and after the store write,
 * so a read racing a write can hold the old copy only until that write is acknowledged.
 */
export class RecordReadCache {
  readonly #lru: LRUCache<string, StoredRecord> | undefined;

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

  /** Runs a store write of `keys`, dropping their cached copies before and after it. */
  async writing<T>(keys: string | readonly string[], write: () => Promise<T>): Promise<T> {
    if (this.#lru === undefined) return write();
    this.#drop(keys);
    try {
      return await write();
    } finally {
      this.#drop(keys);
    }
  }

  #drop(keys: string | readonly string[]): void {
    if (typeof keys === 'string') this.#lru!.delete(keys);
    else for (const k of keys) this.#lru!.delete(k);
  }
}
