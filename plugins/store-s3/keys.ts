/**
 * Object keys for record keys. S3 object keys are UTF-8 text of at most 1024 bytes, listed in UTF-8
 * byte order, so a record key is written as lowercase hex (order preserving: hex digits sort like the
 * nibbles they encode) after the store's prefix. Every {@link SEGMENT} hex characters a `/` is inserted:
 * filesystem-backed S3 servers (MinIO, s3rver) map `/` to directories and cannot hold a path segment
 * longer than 255 bytes. The slashes sit at the same offsets in every key, so two encodings first
 * differ at a hex digit or where one ends, and the byte order is still the record keys' order; and the
 * encoding of a byte prefix is a prefix of the encoding of every key that starts with it.
 */
import { StoreError } from '../../src/store/index.ts';

/** Hex characters between two `/` separators. */
export const SEGMENT = 200;

/** Longest S3 object key in bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;

/** The encoded form of `key` (or of a key prefix), without the store prefix. */
export function encodeKey(key: Uint8Array): string {
  const hex = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
  if (hex.length <= SEGMENT) return hex;
  const parts: string[] = [];
  for (let i = 0; i < hex.length; i += SEGMENT) parts.push(hex.slice(i, i + SEGMENT));
  return parts.join('/');
}

/** The record key of an encoded object key (store prefix already removed), or undefined if foreign. */
export function decodeKey(encoded: string): Uint8Array | undefined {
  const hex = encoded.includes('/') ? encoded.split('/').join('') : encoded;
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  if (encodeKey(Buffer.from(hex, 'hex')) !== encoded) return undefined;
  return Buffer.from(hex, 'hex');
}

/** Largest record key (in bytes) that fits in an object key after a store prefix of `prefixBytes`. */
export function maxKeyBytes(prefixBytes: number): number {
  let n = Math.floor((MAX_OBJECT_KEY_BYTES - prefixBytes) / 2);
  while (n > 0 && prefixBytes + encodedLength(n) > MAX_OBJECT_KEY_BYTES) n--;
  return Math.max(n, 0);
}

function encodedLength(keyBytes: number): number {
  const hex = keyBytes * 2;
  return hex + Math.max(0, Math.ceil(hex / SEGMENT) - 1);
}

/** The full object key of a record key; fails when it would exceed S3's 1024-byte limit. */
export function objectKey(prefix: string, key: Uint8Array): string {
  if (key.length === 0) throw new StoreError('s3 store: the empty key cannot be stored');
  const out = prefix + encodeKey(key);
  if (Buffer.byteLength(out) > MAX_OBJECT_KEY_BYTES) {
    throw new StoreError(
      `s3 store: key of ${key.length} bytes is too long (at most ${maxKeyBytes(Buffer.byteLength(prefix))} bytes ` +
        `with prefix "${prefix}")`,
    );
  }
  return out;
}
