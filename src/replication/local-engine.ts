import type { HlcClock } from '../crdt/hlc.ts';
import { throwIfAborted } from '../errors/index.ts';
import { checksumOf, type RecordMeta, type Store, type StoredRecord } from '../store/index.ts';
import type {
  BatchRequestOp,
  BatchResultOp,
  ListOptions,
  ListPage,
  RecordEngine,
  RecordView,
  RequestContext,
  WriteConditions,
  WriteInput,
  WriteResult,
} from './engine.ts';
import { PreconditionFailedError } from './errors.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { recordKeyOf, recordScanPrefix, recordStoreKey } from './record-keys.ts';

export interface LocalEngineComponents {
  store: Store;
  clock: HlcClock;
  /** Wall clock in ms (injectable for tests). */
  now?: () => number;
}

const EMPTY = new Uint8Array(0);
const MAX_LIST_LIMIT = 1000;

const live = (r: StoredRecord | undefined): r is StoredRecord => r !== undefined && !r.meta.tombstone;

function checkConditions(key: string, current: StoredRecord | undefined, c: WriteConditions | undefined): void {
  if (!c) return;
  const exists = live(current);
  if (c.ifNoneMatch === '*' && exists)
    throw new PreconditionFailedError(`record ${JSON.stringify(key)} already exists`);
  if (c.ifMatch === undefined) return;
  if (!exists) throw new PreconditionFailedError(`record ${JSON.stringify(key)} does not exist`);
  if (c.ifMatch !== '*' && c.ifMatch !== current.meta.version) {
    throw new PreconditionFailedError(`record ${JSON.stringify(key)} is at version ${current.meta.version}`);
  }
}

/**
 * The records of this daemon's own store: versioned by the daemon's HLC, deletes kept as tombstones
 * (so replicas cannot resurrect them), conditional writes serialised per key. On a single daemon it is
 * the whole {@link RecordEngine}; in a cluster the coordinator uses it for the local replica.
 */
export class LocalEngine implements RecordEngine {
  readonly #store: Store;
  readonly #clock: HlcClock;
  readonly #now: () => number;
  readonly #locks = new KeyedMutex();

  constructor(components: LocalEngineComponents) {
    this.#store = components.store;
    this.#clock = components.clock;
    this.#now = components.now ?? Date.now;
  }

  async get(key: string, ctx: RequestContext = {}): Promise<RecordView | undefined> {
    throwIfAborted(ctx.signal);
    const rec = await this.#store.get(recordStoreKey(key), { signal: ctx.signal });
    return live(rec) ? { key, value: rec.value, meta: rec.meta } : undefined;
  }

  /** The stored entry including tombstones (replication and `?meta=1` need them). */
  async getRaw(key: string, ctx: RequestContext = {}): Promise<StoredRecord | undefined> {
    return this.#store.get(recordStoreKey(key), { signal: ctx.signal });
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
      const current = await this.#store.get(storeKey, { signal: ctx.signal });
      checkConditions(key, current, conditions);
      const meta = this.#newMeta(current, input.value, input.type, input.contentType);
      await this.#store.put(storeKey, { value: input.value, meta }, { signal: ctx.signal });
      return { key, meta, created: !live(current) };
    });
  }

  async delete(key: string, conditions?: WriteConditions, ctx: RequestContext = {}): Promise<RecordMeta | undefined> {
    throwIfAborted(ctx.signal);
    const storeKey = recordStoreKey(key);
    return this.#locks.run(key, async () => {
      const current = await this.#store.get(storeKey, { signal: ctx.signal });
      checkConditions(key, current, conditions);
      if (!live(current)) return undefined;
      const meta = { ...this.#newMeta(current, EMPTY, current.meta.type, current.meta.contentType), tombstone: true };
      await this.#store.put(storeKey, { value: EMPTY, meta }, { signal: ctx.signal });
      return meta;
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
    const writes: Parameters<Store['batch']>[0] = [];
    ops.forEach((op, i) => {
      const cur = current[i];
      if (op.op === 'get') {
        results.push({
          op: 'get',
          key: op.key,
          record: live(cur) ? { key: op.key, value: cur.value, meta: cur.meta } : undefined,
        });
      } else if (op.op === 'put') {
        const meta = this.#newMeta(cur, op.input.value, op.input.type, op.input.contentType);
        writes.push({ type: 'put', key: keys[i], record: { value: op.input.value, meta } });
        results.push({ op: 'put', key: op.key, meta });
      } else {
        if (live(cur)) {
          const meta = { ...this.#newMeta(cur, EMPTY, cur.meta.type, cur.meta.contentType), tombstone: true };
          writes.push({ type: 'put', key: keys[i], record: { value: EMPTY, meta } });
        }
        results.push({ op: 'delete', key: op.key, deleted: live(cur) });
      }
    });
    await this.#store.batch(writes, { signal: ctx.signal });
    return results;
  }

  #newMeta(
    current: StoredRecord | undefined,
    value: Uint8Array,
    type: RecordMeta['type'],
    contentType: string,
  ): RecordMeta {
    const now = this.#now();
    return {
      version: this.#clock.now(),
      type,
      contentType,
      size: value.length,
      checksum: checksumOf(value),
      createdAt: live(current) ? current.meta.createdAt : now,
      updatedAt: now,
    };
  }
}
