/**
 * mergeRecord: the one conflict-resolution function of shoal (replication, read repair, hinted
 * handoff, anti-entropy and migration all call it instead of overwriting).
 *
 * Every record has a *horizon* H:
 * - a reset (a blob, or a tombstone of either type): H = its version;
 * - a live doc: H = the version of the reset it was built on (kept in its value envelope), '' if none.
 *
 * Merge order: the record with the greater horizon wins whole. At equal horizons: two docs merge
 * (union of their Yjs operations, version = max, createdAt = min, updatedAt = max); a doc beats the
 * reset it was built on; two resets with the same version (the same write) keep the greater by a
 * deterministic tie-break. Consequences, all deterministic:
 * - blob vs blob, blob vs tombstone, type changes doc→blob: last writer (greatest HLC) wins;
 * - a delete (or blob write) wins over concurrent doc edits that had not seen it, whatever their
 *   versions; a doc write made after seeing the delete starts a fresh doc (horizon = the tombstone's
 *   version) and wins over the tombstone;
 * - concurrent doc edits on the same incarnation never lose each other's fields.
 * This is a lexicographic product of join-semilattices, so the merge is commutative, associative and
 * idempotent (test/crdt/merge.property.test.ts). A plain "doc vs tombstone by version" rule is not
 * associative once doc states have been merged together; the horizon is what makes it so.
 * The merged version can be lower than a discarded input's version: compare records with this
 * function, never by version alone.
 */
import type { RecordMeta, StoredRecord } from '../store/index.ts';
import { checksumOf } from '../store/index.ts';
import { mergeDocStates } from './doc.ts';
import { decodeDocValue, encodeDocValue } from './doc-value.ts';
import { maxHlc } from './hlc.ts';

export interface MergeResult {
  /** The merged record (one of the inputs when it wins whole). */
  record: StoredRecord;
  /** True when the local copy must be rewritten with `record`. */
  changed: boolean;
}

/** True for a live doc record (not a tombstone). */
export function isLiveDoc(record: Pick<StoredRecord, 'meta'>): boolean {
  return record.meta.type === 'doc' && record.meta.tombstone !== true;
}

/** The horizon of a record (see the module comment). */
export function horizonOf(record: StoredRecord): string {
  return isLiveDoc(record) ? decodeDocValue(record.value).horizon : record.meta.version;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function metaEqual(a: RecordMeta, b: RecordMeta): boolean {
  return (
    a.version === b.version &&
    a.type === b.type &&
    a.contentType === b.contentType &&
    a.size === b.size &&
    a.checksum === b.checksum &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt &&
    (a.tombstone === true) === (b.tombstone === true)
  );
}

/** Same metadata and same value bytes. */
export function recordsEqual(a: StoredRecord, b: StoredRecord): boolean {
  return metaEqual(a.meta, b.meta) && bytesEqual(a.value, b.value);
}

/** Total order of two resets with the same version (only a faulty writer produces two): deterministic. */
function compareResets(a: StoredRecord, b: StoredRecord): number {
  const ka = resetKey(a.meta);
  const kb = resetKey(b.meta);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return Buffer.compare(a.value, b.value);
}

function resetKey(m: RecordMeta): string {
  return [m.version, m.tombstone ? '1' : '0', m.type, m.checksum, m.contentType, m.createdAt, m.updatedAt, m.size].join(
    '\0',
  );
}

function mergeDocs(local: StoredRecord, incoming: StoredRecord, horizon: string): MergeResult {
  const l = decodeDocValue(local.value);
  const i = decodeDocValue(incoming.value);
  const state = bytesEqual(l.state, i.state) ? l.state : mergeDocStates(l.state, i.state);
  const value = bytesEqual(state, l.state) ? local.value : encodeDocValue({ horizon, state });
  const lm = local.meta;
  const im = incoming.meta;
  const newer = lm.version > im.version || (lm.version === im.version && lm.contentType >= im.contentType) ? lm : im;
  const meta: RecordMeta = {
    version: maxHlc(lm.version, im.version),
    type: 'doc',
    contentType: newer.contentType,
    size: value.byteLength,
    checksum: value === local.value ? lm.checksum : checksumOf(value),
    createdAt: Math.min(lm.createdAt, im.createdAt),
    updatedAt: Math.max(lm.updatedAt, im.updatedAt),
  };
  if (value === local.value && metaEqual(meta, lm)) return { record: local, changed: false };
  return { record: { value, meta }, changed: true };
}

/**
 * Merges an incoming copy of a record (from a peer, a hint, a repair or a migration) into the local
 * copy. Deterministic, commutative, associative and idempotent over the records' contents.
 * Throws `CorruptDocValueError` when a doc value is not a valid envelope.
 */
export function mergeRecord(local: StoredRecord | undefined, incoming: StoredRecord): MergeResult {
  if (local === undefined) return { record: incoming, changed: true };
  if (local === incoming || recordsEqual(local, incoming)) return { record: local, changed: false };
  const hl = horizonOf(local);
  const hi = horizonOf(incoming);
  if (hl !== hi) return hl > hi ? { record: local, changed: false } : { record: incoming, changed: true };
  const ld = isLiveDoc(local);
  const id = isLiveDoc(incoming);
  if (ld && id) return mergeDocs(local, incoming, hl);
  if (ld) return { record: local, changed: false };
  if (id) return { record: incoming, changed: true };
  return compareResets(local, incoming) >= 0 ? { record: local, changed: false } : { record: incoming, changed: true };
}

/** Folds {@link mergeRecord} over several copies (e.g. the answers of a quorum read). */
export function mergeRecords(records: Iterable<StoredRecord | undefined>): StoredRecord | undefined {
  let acc: StoredRecord | undefined;
  for (const r of records) if (r !== undefined) acc = mergeRecord(acc, r).record;
  return acc;
}
