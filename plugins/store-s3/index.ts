/**
 * The object-storage backend: any S3-compatible service through `@aws-sdk/client-s3`.
 *
 * - One object per record, at `prefix + hex(key)` (lowercase hex preserves the bytewise key order in
 *   S3's UTF-8 listing order; a `/` every 200 hex characters keeps path segments short for
 *   filesystem-backed servers, see `keys.ts`). S3 caps object keys at 1024 bytes, so record keys are
 *   limited to about (1024 − prefix length) / 2 bytes (509 with an empty prefix): longer keys fail
 *   with STORE_ERROR.
 * - The value is the object body; the whole {@link RecordMeta} is one user metadata field,
 *   `x-amz-meta-shoal` = base64url(msgpack(meta)) (about 200 bytes, S3 allows 2 KB).
 * - Scans: ListObjectsV2 with `Prefix` and `StartAfter` (the cursor), following continuation tokens,
 *   then one GET per key (`keysOnly`: one HEAD, for the metadata without the body), with at most
 *   `concurrency` requests in flight. getMany is parallel GETs the same way.
 * - Durability: an acknowledged PUT is durable in S3; `durability` is accepted and ignored.
 * - Batches are not atomic (`supports.atomicBatch` is false): S3 has no multi-object transaction.
 *   Parallel puts to one key end with one of the written values, whole (S3 PUTs are atomic).
 * - No lock against a second daemon on the same bucket and prefix: give each daemon its own prefix.
 * - Errors: connection failures, refused credentials (401/403) and a missing bucket (unless
 *   `createBucket`) are STORE_UNREACHABLE; anything else is STORE_ERROR. `signal` is checked before
 *   each call and passed to the SDK, so an abort also cancels requests in flight (ABORTED).
 *
 * @see RecordMeta in src/store/index.ts
 */
import type { Store, StoreOptions } from '../../src/store/index.ts';
import { S3Store } from './store.ts';

export interface S3StoreOptions extends StoreOptions {
  /** Endpoint URL of an S3-compatible service, e.g. `http://127.0.0.1:9000` (default: AWS S3). */
  endpoint?: string;
  /** Bucket that holds the objects. */
  bucket: string;
  /** Prepended to every object key, e.g. `shoal/node-1/` (default ''). */
  prefix?: string;
  /** Region (default `us-east-1`). */
  region?: string;
  /** Static credentials (default: the SDK's provider chain: env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`); default true when `endpoint` is set, else false. */
  forcePathStyle?: boolean;
  /** Create the bucket at `open()` when it does not exist (default false). */
  createBucket?: boolean;
  /** Requests in flight for scans, getMany and batches (default 16). */
  concurrency?: number;
  /** Attempts per request, including retries with backoff (default 3). */
  maxAttempts?: number;
  /**
   * When the SDK adds and checks CRC checksums: 'WHEN_REQUIRED' (default; what S3 required before
   * 2025 and what most S3-compatible servers accept) or 'WHEN_SUPPORTED' (the SDK's own default).
   * Values are covered end to end by the record's SHA-256 checksum either way.
   */
  checksums?: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
}

/** Creates the S3 backend (call `open()` before use; it checks, or creates, the bucket). */
export function createS3Store(options: S3StoreOptions): Store {
  return new S3Store(options);
}
