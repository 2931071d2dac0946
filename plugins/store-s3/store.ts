import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { throwIfAborted } from '../../src/errors/index.ts';
import type {
  BatchOp,
  CallOptions,
  ScanOptions,
  ScanPage,
  Store,
  StoredRecord,
  StoreEntry,
  StoreManifest,
} from '../../src/store/index.ts';
import { StoreError, StoreUnreachableError } from '../../src/store/index.ts';
import { isNotFound, mapS3Error } from './errors.ts';
import type { S3StoreOptions } from './index.ts';
import { decodeKey, encodeKey, maxKeyBytes, objectKey } from './keys.ts';
import { decodeMeta, encodeMeta, META_FIELD } from './meta.ts';

/** What the S3 store can do; its longest key depends on the configured object key prefix. */
function manifest(prefixBytes: number): StoreManifest {
  return {
    // An acknowledged PUT is stored durably by S3 (no fsync knob exists or is needed).
    durableFsync: true,
    // Each object write is atomic, but a batch is several requests: a failure can apply part of it.
    atomicBatch: false,
    maxValueBytes: 256 * 1024 * 1024,
    maxKeyBytes: maxKeyBytes(prefixBytes),
    persistent: true,
  };
}

const EMPTY = new Uint8Array(0);
/** Keys per ListObjectsV2 request (S3's maximum). */
const LIST_PAGE = 1000;

export class S3Store implements Store {
  readonly kind = 's3';
  readonly supports: StoreManifest;
  readonly #options: S3StoreOptions;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #target: string;
  readonly #concurrency: number;
  #client: S3Client | undefined;

  constructor(options: S3StoreOptions) {
    this.#options = options;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? '';
    this.supports = manifest(Buffer.byteLength(this.#prefix));
    this.#concurrency = Math.max(1, options.concurrency ?? 16);
    this.#target = `${options.endpoint ?? 'aws'}/${options.bucket}`;
  }

  async open(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    if (this.#client) return;
    const o = this.#options;
    const client = new S3Client({
      endpoint: o.endpoint,
      region: o.region ?? 'us-east-1',
      credentials: o.credentials,
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      maxAttempts: o.maxAttempts ?? 3,
      requestChecksumCalculation: o.checksums ?? 'WHEN_REQUIRED',
      responseChecksumValidation: o.checksums ?? 'WHEN_REQUIRED',
    });
    try {
      await this.#ensureBucket(client, options?.signal);
    } catch (err) {
      client.destroy();
      throw mapS3Error(this.#target, err, 'open');
    }
    this.#client = client;
  }

  /** HeadBucket; a missing bucket is created with `createBucket`, else STORE_UNREACHABLE. */
  async #ensureBucket(client: S3Client, abortSignal?: AbortSignal): Promise<void> {
    try {
      await client.send(new HeadBucketCommand({ Bucket: this.#bucket }), { abortSignal });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!this.#options.createBucket) {
      throw new StoreUnreachableError(
        `s3 bucket ${this.#bucket} does not exist at ${this.#options.endpoint ?? 'aws'} (create it, or set createBucket)`,
      );
    }
    await client.send(new CreateBucketCommand({ Bucket: this.#bucket }), { abortSignal });
  }

  async close(): Promise<void> {
    this.#client?.destroy();
    this.#client = undefined;
  }

  async get(key: Uint8Array, options?: CallOptions): Promise<StoredRecord | undefined> {
    throwIfAborted(options?.signal);
    return this.#get(objectKey(this.#prefix, key), options?.signal);
  }

  async getMany(keys: Uint8Array[], options?: CallOptions): Promise<Array<StoredRecord | undefined>> {
    throwIfAborted(options?.signal);
    const names = keys.map((key) => objectKey(this.#prefix, key));
    return mapLimit(names, this.#concurrency, (name) => this.#get(name, options?.signal));
  }

  async put(key: Uint8Array, record: StoredRecord, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    await this.#put(objectKey(this.#prefix, key), record, options?.signal);
  }

  async delete(key: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    await this.#delete(objectKey(this.#prefix, key), options?.signal);
  }

  /**
   * Not atomic: the last op per key is applied (as if in order), up to `concurrency` requests at a
   * time; when one fails the batch rejects and the other ops may or may not have been applied.
   */
  async batch(ops: BatchOp[], options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const last = new Map<string, BatchOp>();
    for (const op of ops) last.set(objectKey(this.#prefix, op.key), op);
    await mapLimit([...last], this.#concurrency, ([name, op]) =>
      op.type === 'put' ? this.#put(name, op.record, options?.signal) : this.#delete(name, options?.signal),
    );
  }

  /**
   * ListObjectsV2 under `prefix + encode(options.prefix)`, from `StartAfter = encode(after)`, then one
   * GET (or HEAD with `keysOnly`, for the metadata) per listed key, `concurrency` at a time. A key
   * deleted between the listing and its GET is left out of the page.
   */
  async scan(options: ScanOptions = {}): Promise<ScanPage> {
    const signal = options.signal;
    throwIfAborted(signal);
    const client = this.#open();
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 10_000);
    const listPrefix = this.#prefix + (options.prefix ? encodeKey(options.prefix) : '');
    const startAfter = options.after ? this.#prefix + encodeKey(options.after) : undefined;
    const listed: Array<{ key: Uint8Array; name: string }> = [];
    let token: string | undefined;
    try {
      // S3 says whether more keys follow (IsTruncated), so a page lists exactly `limit` keys.
      do {
        const res = await client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: listPrefix,
            StartAfter: token ? undefined : startAfter,
            ContinuationToken: token,
            MaxKeys: Math.min(LIST_PAGE, limit - listed.length),
          }),
          { abortSignal: signal },
        );
        for (const obj of res.Contents ?? []) {
          const key = obj.Key?.startsWith(this.#prefix) ? decodeKey(obj.Key.slice(this.#prefix.length)) : undefined;
          if (key && listed.length < limit) listed.push({ key, name: obj.Key! });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token && listed.length < limit);
    } catch (err) {
      throw mapS3Error(this.#target, err, 'scan');
    }
    const more = token !== undefined && listed.length > 0;
    const page = listed;
    const records = await mapLimit(page, this.#concurrency, ({ name }) =>
      options.keysOnly ? this.#head(name, signal) : this.#get(name, signal),
    );
    const entries: StoreEntry[] = [];
    page.forEach(({ key }, i) => {
      const record = records[i];
      if (record) entries.push({ key, record });
    });
    return more ? { entries, cursor: page[page.length - 1].key } : { entries };
  }

  async #get(name: string, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    const client = this.#open();
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: name }), {
        abortSignal: signal,
      });
      const meta = decodeMeta(res.Metadata);
      const value = res.Body ? await res.Body.transformToByteArray() : EMPTY;
      return meta ? { meta, value } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapS3Error(this.#target, err, 'get');
    }
  }

  async #head(name: string, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    const client = this.#open();
    try {
      const res = await client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: name }), {
        abortSignal: signal,
      });
      const meta = decodeMeta(res.Metadata);
      return meta ? { meta, value: EMPTY } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapS3Error(this.#target, err, 'head');
    }
  }

  async #put(name: string, record: StoredRecord, signal?: AbortSignal): Promise<void> {
    const client = this.#open();
    const command = new PutObjectCommand({
      Bucket: this.#bucket,
      Key: name,
      Body: record.value,
      ContentLength: record.value.length,
      ContentType: 'application/octet-stream',
      Metadata: { [META_FIELD]: encodeMeta(record.meta) },
    });
    try {
      await client.send(command, { abortSignal: signal });
    } catch (err) {
      throw mapS3Error(this.#target, err, 'put');
    }
  }

  async #delete(name: string, signal?: AbortSignal): Promise<void> {
    const client = this.#open();
    try {
      await client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: name }), { abortSignal: signal });
    } catch (err) {
      if (isNotFound(err)) return;
      throw mapS3Error(this.#target, err, 'delete');
    }
  }

  #open(): S3Client {
    if (!this.#client) throw new StoreError(`s3 store ${this.#target} is not open`);
    return this.#client;
  }
}

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
