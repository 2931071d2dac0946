/**
 * Builders of the record a local write stores, so the data API applies the horizon rules the same way
 * everywhere. `version` must be a fresh HLC timestamp taken after observing `local.meta.version`
 * (`clock.observe(local.meta.version); version = await clock.next()`), so it is greater than it.
 */
import type { StoredRecord } from '../store/index.ts';
import { checksumOf } from '../store/index.ts';
import { clientIdFor } from './client-id.ts';
import { applyJsonMergePatch, applyYjsUpdate, docFromJson, replaceDocJson } from './doc.ts';
import { decodeDocValue, encodeDocValue } from './doc-value.ts';
import { DocTypeConflictError } from './errors.ts';
import { isLiveDoc } from './merge.ts';

export interface WriteContext {
  /** Fresh HLC version of this write. */
  version: string;
  /** Wall-clock ms of the write (createdAt / updatedAt). */
  now: number;
  /** Content type given by the client. */
  contentType?: string;
}

export const DOC_CONTENT_TYPE = 'application/json';
export const DEFAULT_BLOB_CONTENT_TYPE = 'application/octet-stream';

/** A write on a doc record. */
export type DocWrite =
  | { kind: 'put'; json: unknown }
  | { kind: 'patch'; patch: unknown }
  | { kind: 'yjs'; update: Uint8Array };

function live(local: StoredRecord | undefined): StoredRecord | undefined {
  return local && local.meta.tombstone !== true ? local : undefined;
}

/** PUT of a blob: replaces whatever is there (a reset: it wins over concurrent doc edits). */
export function blobRecord(local: StoredRecord | undefined, value: Uint8Array, ctx: WriteContext): StoredRecord {
  return {
    value,
    meta: {
      version: ctx.version,
      type: 'blob',
      contentType: ctx.contentType ?? DEFAULT_BLOB_CONTENT_TYPE,
      size: value.byteLength,
      checksum: checksumOf(value),
      createdAt: live(local)?.meta.createdAt ?? ctx.now,
      updatedAt: ctx.now,
    },
  };
}

const EMPTY = new Uint8Array(0);
const EMPTY_CHECKSUM = checksumOf(EMPTY);

/** DELETE: a tombstone (empty value) of the record's type, LWW by version. */
export function tombstoneRecord(local: StoredRecord | undefined, ctx: WriteContext): StoredRecord {
  return {
    value: EMPTY,
    meta: {
      version: ctx.version,
      type: local?.meta.type ?? 'blob',
      contentType: local?.meta.contentType ?? DEFAULT_BLOB_CONTENT_TYPE,
      size: 0,
      checksum: EMPTY_CHECKSUM,
      createdAt: live(local)?.meta.createdAt ?? ctx.now,
      updatedAt: ctx.now,
      tombstone: true,
    },
  };
}

/**
 * A write on a doc record: on a live doc it edits that doc (same horizon, merges with concurrent
 * edits); on an empty key, a tombstone or (PUT only) a blob it starts a fresh doc whose horizon is the
 * version of what it replaces. PATCH and Yjs updates on a live blob throw {@link DocTypeConflictError};
 * invalid JSON or updates throw `InvalidDocJsonError` / `InvalidDocUpdateError`.
 */
export function docRecord(
  local: StoredRecord | undefined,
  write: DocWrite,
  ctx: WriteContext & { clientId?: number },
): StoredRecord {
  const clientId = ctx.clientId ?? clientIdFor(ctx.version);
  const current = live(local);
  let horizon: string;
  let base: Uint8Array | undefined;
  if (current && isLiveDoc(current)) {
    const decoded = decodeDocValue(current.value);
    horizon = decoded.horizon;
    base = decoded.state;
  } else {
    if (current && write.kind !== 'put') throw new DocTypeConflictError();
    horizon = local?.meta.version ?? '';
  }
  let state: Uint8Array;
  if (write.kind === 'put')
    state = base ? replaceDocJson(base, write.json, { clientId }) : docFromJson(write.json, { clientId });
  else if (write.kind === 'patch') state = applyJsonMergePatch(base, write.patch, { clientId });
  else state = applyYjsUpdate(base, write.update);
  const value = encodeDocValue({ horizon, state });
  return {
    value,
    meta: {
      version: ctx.version,
      type: 'doc',
      // Reads of a doc return its JSON view, whatever the request body's type was.
      contentType: DOC_CONTENT_TYPE,
      size: value.byteLength,
      checksum: checksumOf(value),
      createdAt: current?.meta.createdAt ?? ctx.now,
      updatedAt: ctx.now,
    },
  };
}
