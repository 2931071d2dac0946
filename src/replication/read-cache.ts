import { LRUCache } from 'lru-cache';
import type { RecordMeta, StoredRecord } from '../store/index.ts';

/** Bytes counted per cached entry besides its value and key (decoded metadata, map slots). */
const ENTRY_OVERHEAD = 256;

/**
 * Decoded hot records of this daemon's store, by record key (least recently used out first, bounded
 * in bytes), and the metadata of recently written records (bounded in entries). A hit skips the store
 * read and the entry decoding, about a quarter of a local GET; a metadata hit lets a wave's version,
 * receipt and release checks skip reading a record's value (a 64 KiB record was read ~8 times per move).
 * Filled by synchronous reads and by writes: a write of a key drops its cached copy before the store
 * write, and once the store has it caches the written record, unless another write of the key
 * overlapped it (the order in which a store applies concurrent writes is not known here, so the key
 * then stays dropped). Asynchronous reads never fill it: one could finish after a write it raced.
 * A read racing a write can therefore hold the old copy only until that write is acknowledged.
 */
export class RecordReadCache {
  readonly #lru: LRUCache<string, StoredRecord> | undefined;
  readonly #metas: LRUCache<string, RecordMeta> | undefined;
  /** Keys with a store write in flight: how many, and the sequence number of the latest to start. */
  readonly #writing = new Map<string, { n: number; last: number }>();
  #seq = 0;

  /** `maxBytes` 0 disables the record cache, `metaEntries` 0 the metadata cache. */
  constructor(maxBytes: number, metaEntries = 0) {
    if (metaEntries > 0) this.#metas = new LRUCache<string, RecordMeta>({ max: metaEntries });
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

  /** The metadata of the stored entry of `key` when known here; undefined means "read the store". */
  meta(key: string): RecordMeta | undefined {
    return this.#lru?.get(key)?.meta ?? this.#metas?.get(key);
  }

  fill(key: string, rec: StoredRecord | undefined): void {
    if (rec !== undefined) this.#lru?.set(key, rec);
  }

  /**
   * Runs a store write of `keys`, dropping their cached copies first. `written`: the record the write
   * leaves in the store for each key, in the order of `keys` (undefined when it removes the entry),
   * cached once it is stored (`metaOnly`: only its metadata).
   */
  async writing<T>(
    keys: string | readonly string[],
    write: () => Promise<T>,
    written?: StoredRecord | ReadonlyArray<StoredRecord | undefined>,
    metaOnly = false,
  ): Promise<T> {
    if (this.#lru === undefined && this.#metas === undefined) return write();
    const list = typeof keys === 'string' ? [keys] : keys;
    const records = written === undefined || Array.isArray(written) ? written : [written as StoredRecord];
    const seq = ++this.#seq;
    // Cache a written record only if no other write of its key was in flight at any time during this one.
    const toCache = list.map((k, i) => (this.#writing.has(k) ? undefined : records?.[i]));
    for (const k of list) {
      const w = this.#writing.get(k);
      if (w) {
        w.n++;
        w.last = seq;
      } else this.#writing.set(k, { n: 1, last: seq });
      this.#lru?.delete(k);
      this.#metas?.delete(k);
    }
    let stored = false;
    try {
      const result = await write();
      stored = true;
      return result;
    } finally {
      for (const [i, k] of list.entries()) {
        const w = this.#writing.get(k)!;
        const alone = --w.n === 0 && w.last === seq;
        if (w.n === 0) this.#writing.delete(k);
        const rec = alone && stored ? toCache[i] : undefined;
        if (rec === undefined || metaOnly) this.#lru?.delete(k);
        else this.#lru?.set(k, owningValue(rec));
        if (rec === undefined) this.#metas?.delete(k);
        else this.#metas?.set(k, rec.meta);
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
