/**
 * shoal's conflict resolution: hybrid logical clocks and the merge rules every replica path uses.
 *
 * - Versions are encoded HLC timestamps (`./hlc.ts`): string order = clock order, ties by node id.
 *   A daemon's clock survives restarts through a persisted ceiling (`./hlc-persistent.ts`) and refuses
 *   remote timestamps more than 60 s in its future.
 * - {@link mergeRecord} is the only way two copies of a record are combined: replication, read repair,
 *   hinted handoff, anti-entropy and migration call it instead of overwriting. Blobs: last writer wins
 *   by version. Docs: Yjs documents, merged by union of operations. Deletes and blob writes are
 *   *resets*; a doc carries the version of the reset it was born after (its horizon), so that the
 *   merge stays associative (see `./merge.ts`).
 * - Doc values: a small envelope (horizon + Yjs full state, `./doc-value.ts`); the JSON view is the
 *   root map `root` (`./doc.ts`); each write uses a Yjs client id derived from its version
 *   (`./client-id.ts`).
 * - Tombstones are collected only under {@link tombstoneCollectable} (`./gc.ts`).
 * The user-facing guarantees are in docs/consistency.md.
 */

export { clientIdFor } from './client-id.ts';
export {
  applyJsonMergePatch,
  applyYjsUpdate,
  canonicalDocState,
  DOC_ROOT,
  type DocWriteOptions,
  docDelta,
  docFromJson,
  docToJson,
  emptyDocState,
  mergeDocStates,
  replaceDocJson,
} from './doc.ts';
export { type DocValue, decodeDocValue, docHorizonOf, encodeDocValue } from './doc-value.ts';
export {
  CorruptDocValueError,
  DocTypeConflictError,
  DocUpdateMissingDependenciesError,
  HlcDriftError,
  HlcNotStartedError,
  InvalidDocJsonError,
  InvalidDocUpdateError,
  InvalidHlcError,
} from './errors.ts';
export { type GraceInputs, recommendedTombstoneGraceMs, type TombstoneGcContext, tombstoneCollectable } from './gc.ts';
export {
  compareHlc,
  createHlc,
  DEFAULT_MAX_DRIFT_MS,
  decodeHlc,
  encodeHlc,
  type HlcClock,
  type HlcLogger,
  type HlcOptions,
  type HlcTimestamp,
  isHlc,
  maxHlc,
} from './hlc.ts';
export {
  createPersistentHlc,
  DEFAULT_HLC_WINDOW_MS,
  type HlcPersistence,
  type PersistentHlcClock,
  type PersistentHlcOptions,
} from './hlc-persistent.ts';
export {
  canonicalize,
  canonicalJson,
  isJsonObject,
  type JsonObject,
  type JsonPrimitive,
  type JsonValue,
} from './json.ts';
export { horizonOf, isLiveDoc, type MergeResult, mergeRecord, mergeRecords, recordsEqual } from './merge.ts';
export {
  blobRecord,
  DEFAULT_BLOB_CONTENT_TYPE,
  DOC_CONTENT_TYPE,
  type DocWrite,
  docRecord,
  tombstoneRecord,
  type WriteContext,
} from './writes.ts';
