import type { DatabaseSync } from 'node:sqlite';
import type { RecordMeta, StoredRecord } from '../../src/store/index.ts';

/** Version of the on-disk schema, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

/**
 * One row per record. `key` is a BLOB primary key: SQLite compares BLOBs with memcmp, which is the
 * bytewise order of the store contract, so its index (`sqlite_autoindex_records_1`) serves range
 * scans directly. The metadata columns come before `value`, so reading them (keys-only scans) never
 * touches the overflow pages of a large value.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS records (
  key          BLOB    NOT NULL PRIMARY KEY,
  version      TEXT    NOT NULL,
  type         TEXT    NOT NULL,
  content_type TEXT    NOT NULL,
  size         INTEGER NOT NULL,
  checksum     TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  tombstone    INTEGER NOT NULL DEFAULT 0,
  value        BLOB    NOT NULL
);
`;

/** Creates the schema when missing (migration 0 → 1) inside one transaction. */
export function migrate(db: DatabaseSync): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (row.user_version >= SCHEMA_VERSION) return;
  db.exec('BEGIN');
  try {
    db.exec(DDL);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

export const META_COLUMNS = 'key, version, type, content_type, size, checksum, created_at, updated_at, tombstone';

export const SQL = {
  get: `SELECT ${META_COLUMNS}, value FROM records WHERE key = ?`,
  put:
    'INSERT INTO records (key, version, type, content_type, size, checksum, created_at, updated_at, tombstone, value) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET version = excluded.version, ' +
    'type = excluded.type, content_type = excluded.content_type, size = excluded.size, checksum = excluded.checksum, ' +
    'created_at = excluded.created_at, updated_at = excluded.updated_at, tombstone = excluded.tombstone, value = excluded.value',
  del: 'DELETE FROM records WHERE key = ?',
} as const;

/** A scan statement: keys from `lo` (inclusive), below `hi` when given, in key order. */
export function scanSql(withUpper: boolean, keysOnly: boolean): string {
  const cols = keysOnly ? META_COLUMNS : `${META_COLUMNS}, value`;
  const upper = withUpper ? ' AND key < ?' : '';
  return `SELECT ${cols} FROM records WHERE key >= ?${upper} ORDER BY key LIMIT ?`;
}

/** `SELECT … WHERE key IN (?, …)` for `n` keys. */
export function getManySql(n: number): string {
  return `SELECT ${META_COLUMNS}, value FROM records WHERE key IN (${new Array(n).fill('?').join(', ')})`;
}

/** Parameters of the put statement, in column order. */
export function putParams(key: Uint8Array, record: StoredRecord): [Uint8Array, ...Array<string | number | Uint8Array>] {
  const m = record.meta;
  return [
    key,
    m.version,
    m.type,
    m.contentType,
    m.size,
    m.checksum,
    m.createdAt,
    m.updatedAt,
    m.tombstone ? 1 : 0,
    record.value,
  ];
}

/** A row as an array (statements return arrays: no per-row object with named properties). */
export type Row = unknown[];

/** Column positions of {@link META_COLUMNS}, then `value`. */
const COL = {
  key: 0,
  version: 1,
  type: 2,
  contentType: 3,
  size: 4,
  checksum: 5,
  createdAt: 6,
  updatedAt: 7,
  tombstone: 8,
  value: 9,
} as const;

const EMPTY = new Uint8Array(0);

export function rowKey(row: Row): Uint8Array {
  return row[COL.key] as Uint8Array;
}

/** Turns a row into a record; `value` is empty when the statement did not select it. */
export function rowToRecord(row: Row): StoredRecord {
  const meta: RecordMeta = {
    version: row[COL.version] as string,
    type: row[COL.type] as RecordMeta['type'],
    contentType: row[COL.contentType] as string,
    size: row[COL.size] as number,
    checksum: row[COL.checksum] as string,
    createdAt: row[COL.createdAt] as number,
    updatedAt: row[COL.updatedAt] as number,
  };
  if (row[COL.tombstone] === 1) meta.tombstone = true;
  return { meta, value: (row[COL.value] as Uint8Array | undefined) ?? EMPTY };
}
