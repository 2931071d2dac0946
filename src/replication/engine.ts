import type { DocWrite } from '../crdt/writes.ts';
import type { RecordMeta } from '../store/index.ts';

/** Consistency level of one request (see docs/consistency.md). */
export type Consistency = 'one' | 'quorum' | 'all' | 'linearizable';
export const CONSISTENCY_LEVELS: readonly Consistency[] = ['one', 'quorum', 'all', 'linearizable'];

export interface RequestContext {
  signal?: AbortSignal;
  consistency?: Consistency;
  /** Zone the request comes from (stats and placement). */
  origin?: string;
}

/** A write: a blob replaces the value; a doc write edits (or starts) a Yjs document. */
export type WriteInput = { kind: 'blob'; value: Uint8Array; contentType: string } | { kind: 'doc'; write: DocWrite };

/** Conditions of a conditional write, from `If-Match` / `If-None-Match`. */
export interface WriteConditions {
  /** Write only if the current version is this one ('*': only if the record exists). */
  ifMatch?: string;
  /** '*': write only if the record does not exist. */
  ifNoneMatch?: '*';
}

export interface RecordView {
  key: string;
  value: Uint8Array;
  meta: RecordMeta;
}

/** A read answered synchronously: `record` is undefined when there is no live record. */
export interface ImmediateRead {
  record: RecordView | undefined;
}

export interface WriteResult {
  key: string;
  meta: RecordMeta;
  /** True when the key did not exist (or was deleted) before this write. */
  created: boolean;
}

export interface RecordSummary {
  key: string;
  meta: RecordMeta;
}

export interface ListOptions extends RequestContext {
  prefix?: string;
  /** Continue after this key (exclusive). */
  after?: string;
  limit?: number;
  /** Also list deleted records (their tombstones): a cluster-wide list needs them to merge pages. */
  includeTombstones?: boolean;
}

export interface ListPage {
  items: RecordSummary[];
  /** Last key of the page when more may follow. */
  next?: string;
}

export type BatchRequestOp =
  | { op: 'put'; key: string; input: WriteInput }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string };

export type BatchResultOp =
  | { op: 'put'; key: string; meta: RecordMeta }
  | { op: 'delete'; key: string; deleted: boolean }
  | { op: 'get'; key: string; record?: RecordView };

/** One replica's copy of a record, as `?meta=1` reports it. */
export interface ReplicaCopy {
  peerId: string;
  /** Version it holds (absent when it has no copy or did not answer). */
  version?: string;
  tombstone?: boolean;
  /** True when its copy equals the merged record. */
  agrees: boolean;
  /** Why it did not answer. */
  error?: string;
}

/**
 * What the data API needs from the layer below: the local engine on a single daemon, the
 * replication coordinator in a cluster. Every call honours `signal`.
 */
export interface RecordEngine {
  get(key: string, ctx?: RequestContext): Promise<RecordView | undefined>;
  /**
   * Answers a read synchronously when this daemon alone can (its store reads synchronously and its own
   * copy is all the level needs), else returns undefined and the caller uses `get`. The hot GET path
   * saves a promise chain and an abort signal this way.
   */
  getNow?(key: string, consistency?: Consistency): ImmediateRead | undefined;
  put(key: string, input: WriteInput, conditions?: WriteConditions, ctx?: RequestContext): Promise<WriteResult>;
  /** Returns the tombstone's metadata, or undefined when there was nothing to delete. */
  delete(key: string, conditions?: WriteConditions, ctx?: RequestContext): Promise<RecordMeta | undefined>;
  list(options: ListOptions): Promise<ListPage>;
  batch(ops: BatchRequestOp[], ctx?: RequestContext): Promise<BatchResultOp[]>;
  /** Every replica's copy of the key and whether it agrees with the merged one. */
  inspect?(key: string, ctx?: RequestContext): Promise<ReplicaCopy[]>;
}
