import type { RecordMeta, StoredRecord } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/index.ts';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes a schema or table name after checking it is a plain identifier (no injection possible). */
export function ident(name: string, what: string): string {
  if (!IDENT.test(name)) throw new StoreError(`postgres ${what} "${name}" must match ${IDENT}`);
  return `"${name}"`;
}

/** The statements of one store, for one fully qualified table. */
export interface Statements {
  /** Ordered migrations: index i moves the table from version i to i + 1. */
  migrations: string[];
  get: string;
  getMany: string;
  put: string;
  putMany: string;
  del: string;
  delMany: string;
  scan: (withUpper: boolean, keysOnly: boolean) => string;
}

const META = 'version, type, content_type, size, checksum, created_at, updated_at, tombstone';

/**
 * One row per record: `key bytea PRIMARY KEY` (bytea compares bytewise, so the primary key's btree
 * serves prefix and cursor scans in the store's order), the metadata as columns, `value bytea` last.
 */
export function statements(schema: string, table: string): Statements {
  const t = `${ident(schema, 'schema')}.${ident(table, 'table')}`;
  const conflict =
    'ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, type = EXCLUDED.type, ' +
    'content_type = EXCLUDED.content_type, size = EXCLUDED.size, checksum = EXCLUDED.checksum, ' +
    'created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, tombstone = EXCLUDED.tombstone, ' +
    'value = EXCLUDED.value';
  return {
    migrations: [
      `CREATE TABLE IF NOT EXISTS ${t} (
        key          bytea   NOT NULL PRIMARY KEY,
        version      text    NOT NULL,
        type         text    NOT NULL CHECK (type IN ('blob', 'doc')),
        content_type text    NOT NULL,
        size         bigint  NOT NULL,
        checksum     text    NOT NULL,
        created_at   bigint  NOT NULL,
        updated_at   bigint  NOT NULL,
        tombstone    boolean NOT NULL DEFAULT false,
        value        bytea   NOT NULL
      )`,
    ],
    get: `SELECT ${META}, value FROM ${t} WHERE key = $1`,
    getMany: `SELECT key, ${META}, value FROM ${t} WHERE key = ANY($1::bytea[])`,
    put: `INSERT INTO ${t} (key, ${META}, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ${conflict}`,
    putMany:
      `INSERT INTO ${t} (key, ${META}, value) SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], ` +
      `$4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::boolean[], $10::bytea[]) ${conflict}`,
    del: `DELETE FROM ${t} WHERE key = $1`,
    delMany: `DELETE FROM ${t} WHERE key = ANY($1::bytea[])`,
    scan: (withUpper, keysOnly) =>
      `SELECT key, ${META}${keysOnly ? '' : ', value'} FROM ${t} WHERE key >= $1` +
      `${withUpper ? ' AND key < $3' : ''} ORDER BY key LIMIT $2`,
  };
}

/** Migration bookkeeping shared by every shoal table of a schema. */
export function migrationsTable(schema: string): string {
  return `${ident(schema, 'schema')}."shoal_migrations"`;
}

export type Param = Buffer | string | number | boolean;

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parameters of the put statement, in column order. */
export function putParams(key: Uint8Array, record: StoredRecord): Param[] {
  const m = record.meta;
  return [
    toBuffer(key),
    m.version,
    m.type,
    m.contentType,
    m.size,
    m.checksum,
    m.createdAt,
    m.updatedAt,
    m.tombstone === true,
    toBuffer(record.value),
  ];
}

/** Column arrays of `putMany` (one array per column, one slot per record). */
export function putManyParams(puts: Array<{ key: Uint8Array; record: StoredRecord }>): unknown[] {
  const cols: unknown[][] = Array.from({ length: 10 }, () => new Array(puts.length));
  puts.forEach((p, i) => {
    const params = putParams(p.key, p.record);
    for (let c = 0; c < 10; c++) cols[c][i] = params[c];
  });
  return cols;
}

/** A row as an array (queries use `rowMode: 'array'`: no per-row object with named properties). */
export type Row = unknown[];

const EMPTY = new Uint8Array(0);

/**
 * Turns a row into a record: the metadata columns in `META` order start at `at` (0 for `get`, 1 after
 * the key otherwise), then `value` when selected. bigint columns arrive as strings.
 */
export function rowToRecord(row: Row, at: number): StoredRecord {
  const meta: RecordMeta = {
    version: row[at] as string,
    type: row[at + 1] as RecordMeta['type'],
    contentType: row[at + 2] as string,
    size: Number(row[at + 3]),
    checksum: row[at + 4] as string,
    createdAt: Number(row[at + 5]),
    updatedAt: Number(row[at + 6]),
  };
  if (row[at + 7] === true) meta.tombstone = true;
  return { meta, value: (row[at + 8] as Buffer | undefined) ?? EMPTY };
}
