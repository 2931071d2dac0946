import type { HlcClock } from '../crdt/hlc.ts';
import { mergeRecord } from '../crdt/merge.ts';
import { throwIfAborted } from '../errors/index.ts';
import type { RecordMeta, Store, StoredRecord } from '../store/index.ts';
import { buildRecord, checkConditions, isLive as live, liveView } from './build.ts';
import type {
  BatchRequestOp,
  BatchResultOp,
  ImmediateRead,
  ListOptions,
  ListPage,
  RecordEngine,
  RecordView,
  RequestContext,
  WriteConditions,
  WriteInput,
  WriteResult,
} from './engine.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { RecordReadCache } from './read-cache.ts';
import { recordKeyOf, recordScanPrefix, recordStoreKey } from './record-keys.ts';

/** The daemon's clock; `next()` (a persistent clock) resolves once the version is covered by its durable ceiling. */
export type EngineClock = HlcClock & { next?: () => Promise<string> };

export interface LocalEngineComponents {
  store: Store;
  clock: EngineClock;
  /** Wall clock in ms (injectable for tests). */
  now?: () => number;
}

export interface LocalEngineOptions {
  /** Bytes of decoded hot records kept in memory for synchronous reads (0: none). Default 0. */
  readCacheBytes?: number;
  /** Metadata of this many recently written records kept in memory ({@link LocalEngine.metaMany}; 0: none). Default 0. */
  metaCacheEntries?: number;
}

const MAX_LIST_LIMIT = 1000;
/** Keys per store call of {@link LocalEngine.getRawMany}: 64 records of 64 KiB are 4 MiB. */
const MANY_CHUNK = 64;

/**
 * The records of this daemon's own store: versioned by the daemon's HLC, deletes kept as tombstones
 * (so replicas cannot resurrect them), conditional writes serialised per key. On a single daemon it is
 * the whole {@link RecordEngine}; in a cluster the coordinator uses it for the local replica.
 */
export class LocalEngine implements RecordEngine {
  readonly #store: Store;
  readonly #clock: EngineClock;
  readonly #now: () => number;
  readonly #locks = new KeyedMutex();
  readonly #cache: RecordReadCache;

  constructor(components: LocalEngineComponents, options: LocalEngineOptions = {}) {
    this.#cache = new RecordReadCache(options.readCacheBytes ?? 0, options.metaCacheEntries ?? 0);
    this.#store = components.store;
    this.#clock = components.clock;
    this.#now = components.now ?? Date.now;
  }

  async get(key: string, ctx: RequestContext = {}): Promise<RecordView | undefined> {
    throwIfAborted(ctx.signal);
    const rec = await this.#store.get(recordStoreKey(key), { signal: ctx.signal });
    return liveView(key, rec);
  }

  getNow(key: string): ImmediateRead | undefined {
    if (!this.readsSync) return undefined;
    const rec = this.getRawSync(key);
    return { record: liveView(key, rec) };
  }

  /** True when the store reads synchronously ({@link getRawSync} works). */
  get readsSync(): boolean {
    return this.#store.getSync !== undefined;
  }

  /** {@link getRaw} without a promise; only when {@link readsSync}. */
  getRawSync(key: string): StoredRecord | undefined {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const rec = this.#store.getSync!(recordStoreKey(key));
    this.#cache.fill(key, rec);
    return rec;
  }

  /** The current copy for a read-check-write: from the read cache or a synchronous read when the store has one. */
  #current(
    key: string,
    storeKey: Uint8Array,
    signal?: AbortSignal,
  ): StoredRecord | undefined | Promise<StoredRecord | undefined> {
    return this.readsSync ? this.getRawSync(key) : this.#store.get(storeKey, { signal });
  }

  /** The stored entry including tombstones (replication and `?meta=1` need them). */
  async getRaw(key: string, ctx: RequestContext = {}): Promise<StoredRecord | undefined> {
    return this.#store.get(recordStoreKey(key), { signal: ctx.signal });
  }

  /**
   * {@link getRaw} for many keys, in their order: one store call per {@link MANY_CHUNK} keys, so a wave's
   * thousands of keys cost a few native reads, and a batch of large records is never in memory at once
   * beyond a chunk (a caller that keeps only the metadata lets each chunk go).
   */
  async *getRawMany(keys: readonly string[], ctx: RequestContext = {}): AsyncGenerator<StoredRecord | undefined> {
    for (let i = 0; i < keys.length; i += MANY_CHUNK) {
      const chunk = keys.slice(i, i + MANY_CHUNK).map(recordStoreKey);
      yield* await this.#store.getMany(chunk, { signal: ctx.signal });
    }
  }

  /** The stored entries of `keys` that exist (tombstones included), with their keys, in order: for transfers. */
  async *recordsOf(
    keys: readonly string[],
    ctx: RequestContext = {},
  ): AsyncGenerator<{ key: string; record: StoredRecord }> {
    let i = 0;
    for await (const record of this.getRawMany(keys, ctx)) {
      const key = keys[i++];
      if (record !== undefined) yield { key, record };
    }
  }

  /**
   * The metadata of the stored entries of `keys` (tombstones included), in their order: from the
   * metadata cache where it knows the key (records written since start), the store for the rest.
   */
  async metaMany(keys: readonly string[], ctx: RequestContext = {}): Promise<Array<RecordMeta | undefined>> {
    const out = keys.map((k) => this.#cache.meta(k));
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) if (out[i] === undefined) missing.push(i);
    let j = 0;
    for await (const r of this.getRawMany(
      missing.map((i) => keys[i]),
      ctx,
    ))
      out[missing[j++]] = r?.meta;
    return out;
  }

  async put(
    key: string,
    input: WriteInput,
    conditions?: WriteConditions,
    ctx: RequestContext = {},
  ): Promise<WriteResult> {
    throwIfAborted(ctx.signal);
    const storeKey = recordStoreKey(key);
    return this.#locks.run(key, async () => {
      const read = this.#current(key, storeKey, ctx.signal);
      // Awaiting a value that is already there would still cost a microtask turn on every write.
      const current = read instanceof Promise ? await read : read;
      checkConditions(key, current, conditions);
      const record = buildRecord(current, input, await this.version(), this.#now());
      await this.#cache.writing(key, () => this.#store.put(storeKey, record, { signal: ctx.signal }), record);
      const meta = record.meta;
      return { key, meta, created: !live(current) };
    });
  }

  async delete(key: string, conditions?: WriteConditions, ctx: RequestContext = {}): Promise<RecordMeta | undefined> {
    throwIfAborted(ctx.signal);
    const storeKey = recordStoreKey(key);
    return this.#locks.run(key, async () => {
      const current = await this.#current(key, storeKey, ctx.signal);
      checkConditions(key, current, conditions);
      if (!live(current)) return undefined;
      const tombstone = buildRecord(current, undefined, await this.version(), this.#now());
      await this.#cache.writing(key, () => this.#store.put(storeKey, tombstone, { signal: ctx.signal }), tombstone);
      return tombstone.meta;
    });
  }

  async list(options: ListOptions): Promise<ListPage> {
    throwIfAborted(options.signal);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_LIST_LIMIT);
    const prefix = recordScanPrefix(options.prefix);
    let after = options.after === undefined ? undefined : recordStoreKey(options.after);
    const items: ListPage['items'] = [];
    // Tombstones are skipped, so a page may need several store pages to fill.
    while (items.length < limit) {
      const page = await this.#store.scan({
        prefix,
        after,
        limit: limit - items.length,
        keysOnly: true,
        signal: options.signal,
      });
      for (const e of page.entries)
        if (!e.record.meta.tombstone) items.push({ key: recordKeyOf(e.key), meta: e.record.meta });
      if (!page.cursor) return { items };
      after = page.cursor;
    }
    return { items, next: items[items.length - 1].key };
  }

  /**
   * Applies the operations in one atomic store batch; gets see the state before the batch.
   * Writes to one key in one batch: the last one wins.
   */
  async batch(ops: BatchRequestOp[], ctx: RequestContext = {}): Promise<BatchResultOp[]> {
    throwIfAborted(ctx.signal);
    const keys = ops.map((o) => recordStoreKey(o.key));
    const current = await this.#store.getMany(keys, { signal: ctx.signal });
    const results: BatchResultOp[] = [];
    const version = await this.version();
    const writes: Parameters<Store['batch']>[0] = [];
    const writtenKeys: string[] = [];
    const writtenRecords: Array<StoredRecord | undefined> = [];
    ops.forEach((op, i) => {
      const cur = current[i];
      if (op.op === 'get') {
        results.push({
          op: 'get',
          key: op.key,
          record: liveView(op.key, cur),
        });
      } else if (op.op === 'put') {
        const record = buildRecord(cur, op.input, version, this.#now());
        writes.push({ type: 'put', key: keys[i], record });
        writtenKeys.push(op.key);
        writtenRecords.push(record);
        results.push({ op: 'put', key: op.key, meta: record.meta });
      } else {
        const tombstone = live(cur) ? buildRecord(cur, undefined, version, this.#now()) : undefined;
        if (tombstone) writes.push({ type: 'put', key: keys[i], record: tombstone });
        writtenKeys.push(op.key);
        // Nothing written for a key that was not live: undefined just drops what a cache holds of it.
        writtenRecords.push(tombstone);
        results.push({ op: 'delete', key: op.key, deleted: live(cur) });
      }
    });
    await this.#cache.writing(writtenKeys, () => this.#store.batch(writes, { signal: ctx.signal }), writtenRecords);
    return results;
  }

  /**
   * Merges a record that came from another replica (replication, read repair, hints, anti-entropy,
   * transfers) into the local copy through the CRDT rules; returns the merged record. Never
   * overwrites: a stale incoming copy changes nothing. `existed`: a live copy was here before.
   * `bulk`: part of a transfer (a move, a hand-off): only the metadata is cached, a bulk of moved
   * values would flush the hot records from the read cache (and cost a copy each).
   */
  async applyRecord(
    key: string,
    incoming: StoredRecord,
    ctx: RequestContext & { bulk?: boolean } = {},
  ): Promise<{ record: StoredRecord; existed: boolean }> {
    throwIfAborted(ctx.signal);
    const storeKey = recordStoreKey(key);
    this.#clock.observe(incoming.meta.version);
    return this.#locks.run(key, async () => {
      const current = await this.#current(key, storeKey, ctx.signal);
      const merged = mergeRecord(current, incoming);
      if (merged.changed)
        await this.#cache.writing(
          key,
          () => this.#store.put(storeKey, merged.record, { signal: ctx.signal }),
          merged.record,
          ctx.bulk === true,
        );
      return { record: merged.record, existed: live(current) };
    });
  }

  /** Every stored record (tombstones included), page by page, in key order: for anti-entropy and handoff. */
  async *scanRecords(
    options: { keysOnly?: boolean; pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<{ key: string; record: StoredRecord }> {
    let after: Uint8Array | undefined;
    const prefix = recordScanPrefix();
    for (;;) {
      const page = await this.#store.scan({
        prefix,
        after,
        limit: options.pageSize ?? 500,
        keysOnly: options.keysOnly,
        signal: options.signal,
      });
      for (const e of page.entries) yield { key: recordKeyOf(e.key), record: e.record };
      if (!page.cursor) return;
      after = page.cursor;
    }
  }

  /** Removes the local copy of a record this daemon no longer replicates (after handing it off); true when removed. */
  async dropRecord(key: string, expected: { version: string; checksum: string }): Promise<boolean> {
    const storeKey = recordStoreKey(key);
    return this.#locks.run(key, async () => {
      const current = await this.#current(key, storeKey);
      // A write that arrived after the hand-off started must not be lost: keep it for the next pass. The
      // checksum too: a doc merge can change the content and keep the greater of the two versions.
      if (current?.meta.version !== expected.version || current.meta.checksum !== expected.checksum) return false;
      await this.#cache.writing(key, () => this.#store.delete(storeKey));
      return true;
    });
  }

  /** Removes the tombstone of `key` if it is exactly version `version` (tombstone GC); true when removed. */
  async purgeTombstone(key: string, version: string): Promise<boolean> {
    const storeKey = recordStoreKey(key);
    return this.#locks.run(key, async () => {
      const current = await this.#current(key, storeKey);
      if (!current?.meta.tombstone || current.meta.version !== version) return false;
      await this.#cache.writing(key, () => this.#store.delete(storeKey));
      return true;
    });
  }

  /** The clock, for coordinators that order writes across replicas. */
  get clock(): HlcClock {
    return this.#clock;
  }

  /** A fresh version for a write, durable across a crash when the clock is persistent. */
  version(): Promise<string> {
    return this.#clock.next ? this.#clock.next() : Promise.resolve(this.#clock.now());
  }
}
