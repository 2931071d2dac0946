import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { throwIfAborted } from '../../src/errors/index.ts';
import {
  type BatchOp,
  type CallOptions,
  compareBytes,
  prefixUpperBound,
  type ScanOptions,
  type ScanPage,
  type Store,
  type StoredRecord,
  StoreError,
  type StoreManifest,
} from '../../src/store/index.ts';
import { openError } from './errors.ts';
import type { SqliteStoreOptions } from './index.ts';
import { getManySql, migrate, putParams, type Row, rowKey, rowToRecord, SQL, scanSql } from './schema.ts';

const MANIFEST: StoreManifest = {
  durableFsync: true,
  atomicBatch: true,
  maxValueBytes: 256 * 1024 * 1024,
  maxKeyBytes: 64 * 1024,
  persistent: true,
};

/** Keys per `IN (…)` query of getMany; larger requests are split into chunks of this size. */
const GET_MANY_CHUNK = 128;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly supports = MANIFEST;
  readonly #path: string;
  readonly #synchronous: 'FULL' | 'NORMAL';
  #db: DatabaseSync | undefined;
  readonly #statements = new Map<string, StatementSync>();

  constructor(options: SqliteStoreOptions) {
    this.#path = options.path;
    this.#synchronous = (options.durability ?? 'fsync') === 'fsync' ? 'FULL' : 'NORMAL';
  }

  async open(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    if (this.#db) return;
    let db: DatabaseSync | undefined;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      // timeout 0: a database held by another daemon fails at once instead of waiting.
      db = new DatabaseSync(this.#path, { timeout: 0 });
      // EXCLUSIVE locking mode keeps every lock this connection takes until it closes; the empty
      // exclusive transaction below takes the write lock now, so a second daemon on the same file
      // fails here, at open, with SQLITE_BUSY. The OS drops the lock if this process dies.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${this.#synchronous}`);
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      migrate(db);
    } catch (err) {
      try {
        db?.close();
      } catch {
        // the open error below is the one worth reporting
      }
      throw openError(this.#path, err);
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#statements.clear();
    db?.close();
  }

  async get(key: Uint8Array, options?: CallOptions): Promise<StoredRecord | undefined> {
    throwIfAborted(options?.signal);
    return this.getSync(key);
  }

  // node:sqlite is synchronous anyway: the daemon may read through this without a promise.
  getSync(key: Uint8Array): StoredRecord | undefined {
    const row = this.#run(() => this.#stmt(SQL.get).get(key) as unknown as Row | undefined);
    return row === undefined ? undefined : rowToRecord(row);
  }

  async getMany(keys: Uint8Array[], options?: CallOptions): Promise<Array<StoredRecord | undefined>> {
    throwIfAborted(options?.signal);
    const found = new Map<string, StoredRecord>();
    this.#run(() => {
      for (let i = 0; i < keys.length; i += GET_MANY_CHUNK) {
        const chunk = keys.slice(i, i + GET_MANY_CHUNK);
        const rows = this.#stmt(getManySql(chunk.length)).all(...chunk) as unknown as Row[];
        for (const row of rows) found.set(hex(rowKey(row)), rowToRecord(row));
      }
    });
    return keys.map((key) => found.get(hex(key)));
  }

  async put(key: Uint8Array, record: StoredRecord, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    this.#run(() => this.#stmt(SQL.put).run(...putParams(key, record)));
  }

  async delete(key: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    this.#run(() => this.#stmt(SQL.del).run(key));
  }

  async batch(ops: BatchOp[], options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    if (ops.length === 0) return;
    this.#run(() => {
      const db = this.#open();
      const put = this.#stmt(SQL.put);
      const del = this.#stmt(SQL.del);
      // node:sqlite is synchronous, so nothing else runs on this connection inside the transaction.
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const op of ops) {
          if (op.type === 'put') put.run(...putParams(op.key, op.record));
          else del.run(op.key);
        }
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async scan(options: ScanOptions = {}): Promise<ScanPage> {
    throwIfAborted(options.signal);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 10_000);
    const keysOnly = options.keysOnly === true;
    let lo: Uint8Array = options.prefix ?? new Uint8Array(0);
    if (options.after && compareBytes(options.after, lo) >= 0) lo = successor(options.after);
    const hi = options.prefix ? prefixUpperBound(options.prefix) : undefined;
    const rows = this.#run(() => {
      const stmt = this.#stmt(scanSql(hi !== undefined, keysOnly));
      return (hi ? stmt.all(lo, hi, limit + 1) : stmt.all(lo, limit + 1)) as unknown as Row[];
    });
    const more = rows.length > limit;
    const entries = (more ? rows.slice(0, limit) : rows).map((row) => ({
      key: rowKey(row),
      record: rowToRecord(row),
    }));
    return more ? { entries, cursor: entries[entries.length - 1].key } : { entries };
  }

  /** Pages in use (the logical database, committed WAL frames included) times the page size: three pragmas, no table read. */
  async approximateBytes(options?: CallOptions): Promise<number> {
    throwIfAborted(options?.signal);
    return this.#run(() => {
      const pragma = (name: string) => (this.#stmt(`PRAGMA ${name}`).get() as unknown as [number])[0];
      return (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
    });
  }

  #open(): DatabaseSync {
    if (!this.#db) throw new StoreError(`sqlite store ${this.#path} is not open`);
    return this.#db;
  }

  /** A prepared statement, prepared once per connection and reused. */
  #stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#open().prepare(sql);
      stmt.setReturnArrays(true);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`sqlite ${this.#path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The smallest key greater than `key`: `key` followed by a 0x00 byte. */
function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

function hex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}
