/**
 * The SQL-server backend: PostgreSQL through `pg` with a connection pool.
 *
 * - Schema: table `<schema>.<table>` (default `public.shoal_records`) with `key bytea PRIMARY KEY`
 *   (bytea compares bytewise, so the primary key's btree serves prefix and cursor scans in the store's
 *   order), the metadata as columns and `value bytea` last. It is created by a migration at the first
 *   `open()`; `<schema>.shoal_migrations` records each table's schema version. Migrations run in one
 *   transaction under an advisory lock, so daemons starting together do not race.
 * - Durability 'fsync' keeps the server's `synchronous_commit` (default `on`: a commit is acknowledged
 *   once its WAL record is flushed to disk). 'os' starts every pooled session with
 *   `-c synchronous_commit=off`: commits are acknowledged before the WAL flush; a server crash can lose
 *   the last ~3 × `wal_writer_delay` (600 ms by default) of commits, but never corrupts the database.
 * - Statements are named, so each pooled connection prepares them once and reuses them; a batch is one
 *   transaction (atomic) of at most two statements; getMany is one `WHERE key = ANY($1)` query.
 * - Exclusive use: by default `open()` holds a session advisory lock on schema.table on one extra
 *   connection until `close()`, so a second daemon pointed at the same table fails with STORE_LOCKED.
 * - Errors: refused or timed-out connections, wrong credentials (SQLSTATE class 28) and an unknown
 *   database are STORE_UNREACHABLE, with the target (password masked) in the message; anything else
 *   is STORE_ERROR. `signal` is checked before each call; a query already sent is not cancelled.
 */
import type { Store, StoreOptions } from '../../src/store/index.ts';
import { PostgresStore } from './store.ts';

export interface PostgresStoreOptions extends StoreOptions {
  /** libpq-style URL, e.g. `postgres://user:password@127.0.0.1:5432/shoal`. */
  connectionString: string;
  /** Maximum connections of the pool (default 10). */
  poolSize?: number;
  /** Schema of the records table; created when missing (default `public`). */
  schema?: string;
  /** Name of the records table (default `shoal_records`); one table per daemon. */
  table?: string;
  /** Milliseconds to wait for a connection before STORE_UNREACHABLE (default 10,000). */
  connectTimeoutMs?: number;
  /** Hold an advisory lock on the table so a second daemon cannot use it (default true). */
  exclusive?: boolean;
}

/** Creates the PostgreSQL backend (call `open()` before use; it connects and migrates). */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  return new PostgresStore(options);
}
