import { blobRecord, docRecord, tombstoneRecord } from '../crdt/writes.ts';
import type { StoredRecord } from '../store/index.ts';
import type { RecordView, WriteConditions, WriteInput } from './engine.ts';
import { PreconditionFailedError } from './errors.ts';

export const isLive = (r: StoredRecord | undefined): r is StoredRecord => r !== undefined && !r.meta.tombstone;

/** What a read returns for a stored entry: its value and metadata, or undefined when absent or deleted. */
export const liveView = (key: string, r: StoredRecord | undefined): RecordView | undefined =>
  isLive(r) ? { key, value: r.value, meta: r.meta } : undefined;

/** Checks `If-Match` / `If-None-Match` against the current copy. */
export function checkConditions(key: string, current: StoredRecord | undefined, c: WriteConditions | undefined): void {
  if (!c) return;
  const exists = isLive(current);
  if (c.ifNoneMatch === '*' && exists)
    throw new PreconditionFailedError(`record ${JSON.stringify(key)} already exists`);
  if (c.ifMatch === undefined) return;
  if (!exists) throw new PreconditionFailedError(`record ${JSON.stringify(key)} does not exist`);
  if (c.ifMatch !== '*' && c.ifMatch !== current.meta.version) {
    throw new PreconditionFailedError(`record ${JSON.stringify(key)} is at version ${current.meta.version}`);
  }
}

/** The stored record of a write (or of a delete when `input` is undefined) on top of `current`. */
export function buildRecord(
  current: StoredRecord | undefined,
  input: WriteInput | undefined,
  version: string,
  now: number,
): StoredRecord {
  if (input === undefined) return tombstoneRecord(current, { version, now });
  if (input.kind === 'blob') return blobRecord(current, input.value, { version, now, contentType: input.contentType });
  return docRecord(current, input.write, { version, now });
}
