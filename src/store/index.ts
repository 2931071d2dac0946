/**
 * The storage interface every shoal backend implements (level, sqlite, postgres, s3), in the style of
 * abstract-level: one interface, one compliance suite (`runStoreCompliance` in `./compliance.ts`) that
 * every plugin runs with one line, guarded by a {@link StoreManifest}.
 *
 * Keys are bytes, ordered bytewise (memcmp); the data API stores UTF-8 record keys, internal keyspaces
 * use a one-byte prefix (see {@link KEYSPACE}). A stored entry is the value's bytes plus its
 * {@link RecordMeta}; backends keep the metadata beside the value (columns, object metadata, a header).
 */

/** How a record's value is interpreted and merged. */
export type RecordType = 'blob' | 'doc';

/** Metadata stored with every value. */
export interface RecordMeta {
  /** Totally ordered version (an encoded hybrid logical clock, see src/crdt); used as ETag. */
  version: string;
  type: RecordType;
  /** Content type given at write time (default application/octet-stream). */
  contentType: string;
  /** Size of the value in bytes. */
  size: number;
  /** Hex SHA-256 of the value bytes. */
  checksum: string;
  /** Milliseconds since the epoch of the first write of this key. */
  createdAt: number;
  /** Milliseconds since the epoch of the last write. */
  updatedAt: number;
  /** True for a delete tombstone (the value is then empty). */
  tombstone?: boolean;
}

/** A value with its metadata. */
export interface StoredRecord {
  value: Uint8Array;
  meta: RecordMeta;
}

export interface StoreEntry {
  key: Uint8Array;
  record: StoredRecord;
}

export type BatchOp = { type: 'put'; key: Uint8Array; record: StoredRecord } | { type: 'del'; key: Uint8Array };

/** Options of every async call. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface ScanOptions extends CallOptions {
  /** Only keys starting with these bytes. */
  prefix?: Uint8Array;
  /** Continue after this key (exclusive): the `cursor` of a previous page. */
  after?: Uint8Array;
  /** Maximum entries per page (default 100, at most 10,000). */
  limit?: number;
  /** Return keys only: `record.value` is then empty (backends may skip reading values). */
  keysOnly?: boolean;
}

export interface ScanPage {
  entries: StoreEntry[];
  /** Pass as `after` to get the next page; absent on the last page. */
  cursor?: Uint8Array;
}

/** What a backend can do; the compliance suite skips what is not supported. */
export interface StoreManifest {
  /** Writes survive a process crash once acknowledged with durability 'fsync'. */
  durableFsync: boolean;
  /** Batches are atomic (all or nothing). */
  atomicBatch: boolean;
  /** Largest value the backend accepts, in bytes. */
  maxValueBytes: number;
  /** Longest store key the backend accepts, in bytes (a record key is 1 keyspace byte + its UTF-8). */
  maxKeyBytes: number;
  /** Data survives close() and reopen with the same options. */
  persistent: boolean;
}

/** Whether an acknowledged write includes an fsync (crash-safe) or only reached the OS (fast). */
export type Durability = 'fsync' | 'os';

/** A storage backend. Implementations must honour `signal` before starting I/O. */
export interface Store {
  /** Backend kind: 'level', 'sqlite', 'postgres', 's3'. */
  readonly kind: string;
  readonly supports: StoreManifest;
  open(options?: CallOptions): Promise<void>;
  close(): Promise<void>;
  get(key: Uint8Array, options?: CallOptions): Promise<StoredRecord | undefined>;
  /**
   * Optional synchronous `get` for backends whose reads are in-process and fast (an embedded store's
   * cache hit): lets a daemon answer a local read without a promise round trip. Same result as `get`.
   */
  getSync?(key: Uint8Array): StoredRecord | undefined;
  /** Several keys at once; the result has one slot per key, undefined where missing. */
  getMany(keys: Uint8Array[], options?: CallOptions): Promise<Array<StoredRecord | undefined>>;
  put(key: Uint8Array, record: StoredRecord, options?: CallOptions): Promise<void>;
  delete(key: Uint8Array, options?: CallOptions): Promise<void>;
  batch(ops: BatchOp[], options?: CallOptions): Promise<void>;
  /** Ordered (bytewise ascending) range scan with a limit and a cursor. */
  scan(options?: ScanOptions): Promise<ScanPage>;
  /**
   * Optional: an estimate of the bytes this store holds (every keyspace, on-disk size where the backend
   * has one, so it may lag writes or include space not yet reclaimed from deletes). Cheap enough to call
   * every few seconds: it reads a size the backend already keeps, it never scans the records. A daemon
   * announces it to the cluster (membership `usedBytes`) so the DSM keeps records out of full daemons.
   * Absent where the backend cannot tell cheaply (postgres, s3): the size is then unknown.
   */
  approximateBytes?(options?: CallOptions): Promise<number>;
}

/** Options every backend factory accepts. */
export interface StoreOptions {
  durability?: Durability;
}

/**
 * One-byte prefixes that separate the keyspaces of one store: user records, and internal state of
 * the daemon modules, so that a scan of records never sees internal keys.
 */
export const KEYSPACE = {
  record: 0x72, // 'r'
  hint: 0x68, // 'h': hinted handoff queue
  meta: 0x6d, // 'm': daemon state (hlc, identity)
  stats: 0x73, // 's': rolled-up access series
  epoch: 0x65, // 'e': layout epochs
} as const;

export { internalEntry } from './blob.ts';
export { checksumOf } from './checksum.ts';
export {
  isNetworkErrorCode,
  StoreError,
  StoreLockedError,
  StoreUnreachableError,
  StoreUnwritableError,
} from './errors.ts';
export { compareBytes, prefixKey, prefixUpperBound, stripPrefix } from './keys.ts';
