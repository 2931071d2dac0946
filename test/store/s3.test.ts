import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createS3Store, type S3StoreOptions } from '../../plugins/store-s3/index.ts';
import { decodeKey, encodeKey, maxKeyBytes } from '../../plugins/store-s3/keys.ts';
import { makeRecord, runStoreCompliance } from '../../src/store/compliance.ts';
import { compareBytes, type Store } from '../../src/store/index.ts';
import { startS3Server } from '../support/s3-server.ts';

const BUCKET = 'shoal-test';
const server = await startS3Server([BUCKET]);
afterAll(() => server.stop());

function options(over: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    bucket: BUCKET,
    prefix: `t-${randomBytes(4).toString('hex')}/`,
    ...over,
  };
}

runStoreCompliance('s3', async () => {
  const opts = options();
  return { store: createS3Store(opts), reopen: async () => createS3Store(opts), cleanup: async () => {} };
});

describe('s3 key encoding', () => {
  it('preserves bytewise order and prefixes, and round-trips', () => {
    const key = fc.uint8Array({ maxLength: 260 });
    fc.assert(
      fc.property(key, key, (a, b) => {
        const ea = encodeKey(a);
        const eb = encodeKey(b);
        expect(Math.sign(Buffer.compare(Buffer.from(ea), Buffer.from(eb)))).toBe(Math.sign(compareBytes(a, b)));
        expect(Buffer.compare(decodeKey(ea)!, a)).toBe(0);
        const ab = Uint8Array.from([...a, ...b]);
        expect(encodeKey(ab).startsWith(ea)).toBe(true);
        expect(
          encodeKey(ab)
            .split('/')
            .every((seg) => seg.length <= 200),
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores object names that are not encoded keys', () => {
    expect(decodeKey('abc')).toBeUndefined();
    expect(decodeKey('zz')).toBeUndefined();
    expect(decodeKey('ab/cd')).toBeUndefined();
  });
});

describe('s3 store specifics', () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const opened = async (opts: S3StoreOptions): Promise<Store> => {
    const store = createS3Store(opts);
    await store.open();
    open.push(store);
    return store;
  };

  it('stores one object per record under the prefix, with the metadata in x-amz-meta-shoal', async () => {
    const opts = options();
    const store = await opened(opts);
    await store.put(Buffer.from([0x00, 0xff]), makeRecord('v', { contentType: 'text/plain; charset=\u00e9' }));
    const client = new S3Client({ ...server, forcePathStyle: true });
    try {
      const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: opts.prefix }));
      expect(res.Contents?.map((o) => o.Key)).toEqual([`${opts.prefix}00ff`]);
    } finally {
      client.destroy();
    }
    expect((await store.get(Buffer.from([0x00, 0xff])))!.meta.contentType).toBe('text/plain; charset=\u00e9');
  });

  it('keys longer than an object key can hold fail with STORE_ERROR; the longest that fits works', async () => {
    const opts = options();
    const store = await opened(opts);
    const max = maxKeyBytes(Buffer.byteLength(opts.prefix!));
    const fits = Buffer.alloc(max, 0x61);
    await store.put(fits, makeRecord('long'));
    expect(Buffer.from((await store.get(fits))!.value).toString()).toBe('long');
    const page = await store.scan({ prefix: fits.subarray(0, 150) });
    expect(page.entries.map((e) => Buffer.compare(e.key, fits))).toEqual([0]);
    await expect(store.put(Buffer.alloc(max + 1, 0x61), makeRecord('x'))).rejects.toMatchObject({
      code: 'STORE_ERROR',
    });
  });

  it('scans in key order across the 200-hex-character segment boundary', async () => {
    const store = await opened(options());
    const a = Buffer.alloc(100, 0x61); // exactly one segment
    const b = Buffer.concat([a, Buffer.alloc(50, 0x61)]); // a, then a second segment
    const c = Buffer.concat([Buffer.alloc(99, 0x61), Buffer.from('b')]);
    for (const key of [c, b, a]) await store.put(key, makeRecord(key.length.toString()));
    const page = await store.scan({ limit: 10 });
    expect(page.entries.map((e) => Buffer.from(e.record.value).toString())).toEqual(['100', '150', '100']);
    expect(page.entries.map((e) => Buffer.compare(e.key, a))).toEqual([0, 1, 1]);
    const second = await store.scan({ after: a, limit: 1 });
    expect(Buffer.compare(second.entries[0].key, b)).toBe(0);
  });

  it('a scan with keysOnly returns the metadata without the value', async () => {
    const store = await opened(options());
    await store.put(Buffer.from('a'), makeRecord('value-a', { version: 'v7' }));
    const page = await store.scan({ keysOnly: true });
    expect(page.entries.length).toBe(1);
    expect(page.entries[0].record.value.length).toBe(0);
    expect(page.entries[0].record.meta.version).toBe('v7');
  });

  it('wrong credentials fail at open with STORE_UNREACHABLE', async () => {
    const store = createS3Store(options({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' } }));
    await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNREACHABLE', message: /credentials/ });
  });

  it('a closed port fails at open with STORE_UNREACHABLE', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const store = createS3Store(options({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }));
    await expect(store.open()).rejects.toMatchObject({ code: 'STORE_UNREACHABLE', message: /unreachable/ });
  });

  it('a missing bucket fails at open unless createBucket is set', async () => {
    const bucket = `b-${randomBytes(4).toString('hex')}`;
    await expect(createS3Store(options({ bucket })).open()).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: /does not exist/,
    });
    const store = await opened(options({ bucket, createBucket: true }));
    await store.put(Buffer.from('k'), makeRecord('v'));
    expect(await store.get(Buffer.from('k'))).toBeDefined();
  });

  it('a batch applies the last op per key', async () => {
    const store = await opened(options());
    await store.batch([
      { type: 'put', key: Buffer.from('x'), record: makeRecord('1') },
      { type: 'del', key: Buffer.from('x') },
      { type: 'del', key: Buffer.from('y') },
      { type: 'put', key: Buffer.from('y'), record: makeRecord('2') },
    ]);
    expect(await store.get(Buffer.from('x'))).toBeUndefined();
    expect(Buffer.from((await store.get(Buffer.from('y')))!.value).toString()).toBe('2');
  });

  it('an abort during a request rejects with ABORTED', async () => {
    const store = await opened(options());
    const ac = new AbortController();
    const pending = store.put(Buffer.from('slow'), makeRecord(new Uint8Array(4 * 1024 * 1024)), { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
