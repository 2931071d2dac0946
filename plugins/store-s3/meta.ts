import { Decoder, Encoder } from '@msgpack/msgpack';
import type { RecordMeta } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/index.ts';

/** Name of the user metadata field (`x-amz-meta-shoal`) that holds the record's metadata. */
export const META_FIELD = 'shoal';

/** S3 allows 2 KB of user metadata per object (names and values). */
const MAX_META_BYTES = 2048 - META_FIELD.length;

// One encoder and decoder for the process (the msgpack `encode`/`decode` helpers allocate a new one,
// with a 2 KiB buffer, per call). Both are synchronous, so calls never interleave.
const encoder = new Encoder();
const decoder = new Decoder();

/**
 * The whole {@link RecordMeta} as base64url(msgpack): header-safe ASCII whatever the content type or
 * version contain, and compact (about 200 bytes for a typical record).
 */
export function encodeMeta(meta: RecordMeta): string {
  const bytes = encoder.encodeSharedRef(meta);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  if (text.length > MAX_META_BYTES) {
    throw new StoreError(`s3 store: record metadata is ${text.length} bytes encoded, S3 allows ${MAX_META_BYTES}`);
  }
  return text;
}

/** Reads the metadata of an object; undefined when the object was not written by shoal. */
export function decodeMeta(metadata: Record<string, string> | undefined): RecordMeta | undefined {
  const text = metadata?.[META_FIELD];
  if (!text) return undefined;
  try {
    return decoder.decode(Buffer.from(text, 'base64url')) as RecordMeta;
  } catch {
    return undefined;
  }
}
