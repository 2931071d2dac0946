import { createHash } from 'node:crypto';
import pg from 'pg';
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
  StoreLockedError,
  type StoreManifest,
} from '../../src/store/index.ts';
import { describeTarget, mapPgError } from './errors.ts';
import type { PostgresStoreOptions } from './index.ts';
import {
  ident,
  migrationsTable,
  type Param,
  putManyParams,
  putParams,
  type Row,
  rowToRecord,
  type Statements,
  statements,
  toBuffer,
} from './sql.ts';

const MANIFEST: StoreManifest = {
  durableFsync: true,
  atomicBatch: true,
  maxValueBytes: 256 * 1024 * 1024,
  maxKeyBytes: 64 * 1024,
  persistent: true,
};

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly supports = MANIFEST;
  readonly #options: PostgresStoreOptions;
  readonly #schema: string;
  readonly #table: string;
  readonly #target: string;
  readonly #sql: Statements;
  /** Prefix of the names of this store's prepared statements (unique per schema.table). */
  readonly #name: string;
  readonly #names = new Map<string, string>();
  #pool: pg.Pool | undefined;
  #lockClient: pg.Client | undefined;

  constructor(options: PostgresStoreOptions) {
    this.#options = options;
    this.#schema = options.schema ?? 'public';
    this.#table = options.table ?? 'shoal_records';
    this.#sql = statements(this.#schema, this.#table);
    this.#target = describeTarget(options.connectionString);
    const id = createHash('sha256').update(`${this.#schema}.${this.#table}`).digest('hex').slice(0, 12);
    this.#name = `shoal_${id}`;
  }

  async open(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    if (this.#pool) return;
    const config: pg.PoolConfig = {
      connectionString: this.#options.connectionString,
      max: this.#options.poolSize ?? 10,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'shoal',
      // Durability 'os': every session of the pool commits without waiting for the WAL flush.
      options: (this.#options.durability ?? 'fsync') === 'os' ? '-c synchronous_commit=off' : undefined,
    };
    const admin = new pg.Client(config);
    // A broken idle connection emits 'error'; without a listener it would crash the process. The next
    // query on it fails and is reported through the normal path.
    admin.on('error', () => {});
    try {
      await admin.connect();
      await this.#migrate(admin);
      if (this.#options.exclusive ?? true) await this.#lock(admin);
    } catch (err) {
      await admin.end().catch(() => {});
      throw mapPgError(this.#target, err, 'open');
    }
    if (this.#options.exclusive ?? true) this.#lockClient = admin;
    else await admin.end().catch(() => {});
    const pool = new pg.Pool(config);
    pool.on('error', () => {});
    this.#pool = pool;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    const lock = this.#lockClient;
    this.#pool = undefined;
    this.#lockClient = undefined;
    await pool?.end();
    await lock?.end().catch(() => {});
  }

  async get(key: Uint8Array, options?: CallOptions): Promise<StoredRecord | undefined> {
    throwIfAborted(options?.signal);
    const rows = await this.#query('get', this.#sql.get, [toBuffer(key)]);
    return rows.length === 0 ? undefined : rowToRecord(rows[0], 0);
  }

  async getMany(keys: Uint8Array[], options?: CallOptions): Promise<Array<StoredRecord | undefined>> {
    throwIfAborted(options?.signal);
    if (keys.length === 0) return [];
    const rows = await this.#query('getmany', this.#sql.getMany, [keys.map(toBuffer)]);
    const found = new Map<string, StoredRecord>();
    for (const row of rows) found.set((row[0] as Buffer).toString('hex'), rowToRecord(row, 1));
    return keys.map((key) => found.get(toBuffer(key).toString('hex')));
  }

  async put(key: Uint8Array, record: StoredRecord, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    await this.#query('put', this.#sql.put, putParams(key, record));
  }

  async delete(key: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    await this.#query('del', this.#sql.del, [toBuffer(key)]);
  }

  /**
   * One transaction with at most two statements, whatever the batch size: the last op per key wins
   * (as if applied in order), its puts go in one `INSERT … SELECT FROM unnest(…) ON CONFLICT` and its
   * deletes in one `DELETE … WHERE key = ANY(…)`.
   */
  async batch(ops: BatchOp[], options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    if (ops.length === 0) return;
    const last = new Map<string, BatchOp>();
    for (const op of ops) last.set(toBuffer(op.key).toString('hex'), op);
    const puts: Array<{ key: Uint8Array; record: StoredRecord }> = [];
    const dels: Buffer[] = [];
    for (const op of last.values()) {
      if (op.type === 'put') puts.push(op);
      else dels.push(toBuffer(op.key));
    }
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (puts.length > 0) await client.query(this.#named('putmany', this.#sql.putMany, putManyParams(puts)));
      if (dels.length > 0) await client.query(this.#named('delmany', this.#sql.delMany, [dels]));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw mapPgError(this.#target, err, 'batch');
    } finally {
      client.release(broken);
    }
  }

  async scan(options: ScanOptions = {}): Promise<ScanPage> {
    throwIfAborted(options.signal);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 10_000);
    const keysOnly = options.keysOnly === true;
    let lo: Uint8Array = options.prefix ?? new Uint8Array(0);
    if (options.after && compareBytes(options.after, lo) >= 0) lo = successor(options.after);
    const hi = options.prefix ? prefixUpperBound(options.prefix) : undefined;
    const params: Param[] = [toBuffer(lo), limit + 1];
    if (hi) params.push(toBuffer(hi));
    const name = `scan${hi ? 'r' : 'o'}${keysOnly ? 'k' : 'v'}`;
    const rows = await this.#query(name, this.#sql.scan(hi !== undefined, keysOnly), params);
    const more = rows.length > limit;
    const entries = (more ? rows.slice(0, limit) : rows).map((row) => ({
      key: row[0] as Uint8Array,
      record: rowToRecord(row, 1),
    }));
    return more ? { entries, cursor: entries[entries.length - 1].key } : { entries };
  }

  /** Runs a named (prepared once per pooled connection, then reused) statement. */
  async #query(name: string, text: string, values: unknown[]): Promise<Row[]> {
    const pool = this.#openPool();
    try {
      const res = await pool.query<Row>({ name: this.#fullName(name), text, values, rowMode: 'array' });
      return res.rows;
    } catch (err) {
      throw mapPgError(this.#target, err, name);
    }
  }

  #named(name: string, text: string, values: unknown[]): pg.QueryConfig {
    return { name: this.#fullName(name), text, values };
  }

  /** `<store prefix>_<name>`, built once per name (pg looks prepared statements up by this string). */
  #fullName(name: string): string {
    let full = this.#names.get(name);
    if (full === undefined) {
      full = `${this.#name}_${name}`;
      this.#names.set(name, full);
    }
    return full;
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#openPool().connect();
    } catch (err) {
      throw mapPgError(this.#target, err, 'connect');
    }
  }

  #openPool(): pg.Pool {
    if (!this.#pool) throw new StoreError(`postgres store ${this.#schema}.${this.#table} is not open`);
    return this.#pool;
  }

  /**
   * Creates the schema, the migrations table and the records table, or brings it to the latest
   * version, in one transaction serialised across daemons by a transaction-scoped advisory lock.
   */
  async #migrate(client: pg.Client): Promise<void> {
    const migrations = migrationsTable(this.#schema);
    await client.query('BEGIN');
    try {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('shoal:migrate'))");
      const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.#schema]);
      if (ns.rowCount === 0) await client.query(`CREATE SCHEMA ${ident(this.#schema, 'schema')}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${migrations} (table_name text PRIMARY KEY, version integer NOT NULL, ` +
          'applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const res = await client.query<{ version: number }>(`SELECT version FROM ${migrations} WHERE table_name = $1`, [
        this.#table,
      ]);
      const from = res.rows[0]?.version ?? 0;
      for (let v = from; v < this.#sql.migrations.length; v++) await client.query(this.#sql.migrations[v]);
      if (from < this.#sql.migrations.length) {
        await client.query(
          `INSERT INTO ${migrations} (table_name, version) VALUES ($1, $2) ` +
            'ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, applied_at = now()',
          [this.#table, this.#sql.migrations.length],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** Takes a session advisory lock on schema.table, held by `client` until close. */
  async #lock(client: pg.Client): Promise<void> {
    const res = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext('shoal:store'), hashtext($1)) AS locked",
      [`${this.#schema}.${this.#table}`],
    );
    if (!res.rows[0].locked) {
      throw new StoreLockedError(
        `postgres table ${this.#schema}.${this.#table} at ${this.#target} is used by another shoal daemon`,
      );
    }
  }
}

/** The smallest key greater than `key`: `key` followed by a 0x00 byte. */
function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}
