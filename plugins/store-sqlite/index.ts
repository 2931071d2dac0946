/**
 * The SQL backend on an embedded SQLite, through Node's built-in `node:sqlite` (`DatabaseSync`).
 *
 * Why `node:sqlite` and not a package: it ships with Node 24 (nothing to compile or download, so it
 * installs offline), it is maintained with Node itself, and its synchronous statements are as fast as
 * better-sqlite3's. The cost of a synchronous driver is that a statement blocks the event loop while it
 * runs; with WAL and prepared statements that is microseconds per record, and an fsync per commit in
 * durability 'fsync'.
 *
 * Schema (see `schema.ts`): one table `records` with `key BLOB PRIMARY KEY` (memcmp order = the store's
 * bytewise order, so its index serves prefix and cursor scans), the metadata as columns and `value
 * BLOB` last. The schema version lives in `PRAGMA user_version` and is migrated at open.
 *
 * - WAL journal; durability 'fsync' → `PRAGMA synchronous = FULL` (the WAL is fsynced at every commit:
 *   crash- and power-safe), 'os' → `synchronous = NORMAL` (fsync only at checkpoints: survives a process
 *   crash, may lose the last commits on power loss).
 * - Locking: `PRAGMA locking_mode = EXCLUSIVE` and an exclusive transaction at open hold the file's lock
 *   until close, so a second daemon (or store) on the same file fails at open with STORE_LOCKED.
 * - Prepared statements are cached per connection; a batch is one `BEGIN IMMEDIATE … COMMIT`
 *   transaction (atomic); getMany is one `WHERE key IN (…)` query per 128 keys.
 */
import type { Store, StoreOptions } from '../../src/store/index.ts';
import { SqliteStore } from './store.ts';

export interface SqliteStoreOptions extends StoreOptions {
  /** Path of the database file; its directory is created when missing. */
  path: string;
}

/** Creates the SQLite backend (call `open()` before use). */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  return new SqliteStore(options);
}
