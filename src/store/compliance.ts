/**
 * The compliance suite every store backend runs with one line:
 * `runStoreCompliance('level', async () => ({ store, reopen, cleanup }))`.
 * It checks the whole {@link Store} contract against a model; features a backend does not claim in
 * its manifest are skipped.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { checksumOf } from './checksum.ts';
import type { RecordMeta, Store, StoredRecord } from './index.ts';
import { compareBytes } from './keys.ts';

export interface StoreHarness {
  store: Store;
  /** Closes nothing; opens a new store over the same data (after the suite closed `store`). */
  reopen: () => Promise<Store>;
  /** Removes everything the harness created. */
  cleanup: () => Promise<void>;
}

const enc = new TextEncoder();
const k = (s: string) => enc.encode(s);

export function makeRecord(value: Uint8Array | string, over: Partial<RecordMeta> = {}): StoredRecord {
  const bytes = typeof value === 'string' ? enc.encode(value) : value;
  const now = 1_700_000_000_000;
  return {
    value: bytes,
    meta: {
      version: '0000018bcfe56800.0000.n1',
      type: 'blob',
      contentType: 'application/octet-stream',
      size: bytes.length,
      checksum: checksumOf(bytes),
      createdAt: now,
      updatedAt: now,
      ...over,
    },
  };
}

async function scanAll(store: Store, prefix?: Uint8Array, limit = 7): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  let after: Uint8Array | undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await store.scan({ prefix, after, limit });
    for (const e of res.entries) keys.push(e.key);
    if (!res.cursor) return keys;
    after = res.cursor;
  }
  throw new Error('scan did not terminate');
}

export function runStoreCompliance(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store compliance: ${name}`, () => {
    let h: StoreHarness | undefined;
    const open = async () => {
      h = await factory();
      await h.store.open();
      return h.store;
    };
    afterEach(async () => {
      await h?.store.close().catch(() => {});
      await h?.cleanup();
      h = undefined;
    });

    it('get of a missing key is undefined; put then get returns bytes and metadata', async () => {
      const s = await open();
      expect(await s.get(k('nope'))).toBeUndefined();
      const rec = makeRecord('hello', { type: 'doc', contentType: 'application/json', tombstone: false });
      await s.put(k('a'), rec);
      const got = await s.get(k('a'));
      expect(Buffer.from(got!.value).toString()).toBe('hello');
      expect({ ...got!.meta, tombstone: got!.meta.tombstone ?? false }).toEqual(rec.meta);
    });

    it('getSync, when offered, answers exactly like get (live, tombstone, missing)', async () => {
      const s = await open();
      if (!s.getSync) return;
      await s.put(k('live'), makeRecord('v', { contentType: 'text/plain' }));
      await s.put(k('dead'), makeRecord(new Uint8Array(0), { tombstone: true, version: 'v3' }));
      for (const key of ['live', 'dead', 'missing']) expect(s.getSync(k(key))).toEqual(await s.get(k(key)));
      expect(s.getSync(k('missing'))).toBeUndefined();
    });

    it('overwrites, deletes, and deleting a missing key is fine', async () => {
      const s = await open();
      await s.put(k('a'), makeRecord('1'));
      await s.put(k('a'), makeRecord('2', { version: 'v2' }));
      const got = await s.get(k('a'));
      expect(Buffer.from(got!.value).toString()).toBe('2');
      expect(got!.meta.version).toBe('v2');
      await s.delete(k('a'));
      expect(await s.get(k('a'))).toBeUndefined();
      await s.delete(k('never-there'));
    });

    it('keeps tombstones with their metadata', async () => {
      const s = await open();
      await s.put(k('t'), makeRecord(new Uint8Array(0), { tombstone: true, version: 'v9' }));
      const got = await s.get(k('t'));
      expect(got!.meta.tombstone).toBe(true);
      expect(got!.value.length).toBe(0);
    });

    it('binary keys and values round-trip, including 0x00 and 0xff bytes', async () => {
      const s = await open();
      const key = Uint8Array.from([0, 1, 0xff, 0x7f, 0x80, 0, 0x2f, 0x2e]);
      const value = Uint8Array.from({ length: 1024 }, (_, i) => (i * 31) & 0xff);
      await s.put(key, makeRecord(value));
      const got = await s.get(key);
      expect(Buffer.compare(got!.value, value)).toBe(0);
      expect(got!.meta.checksum).toBe(checksumOf(value));
      expect(await s.get(key.subarray(0, 3))).toBeUndefined();
    });

    it('takes keys up to supports.maxKeyBytes (a 1024-byte record key needs 1025)', async () => {
      const s = await open();
      const long = new Uint8Array(Math.min(s.supports.maxKeyBytes, 4096)).fill(0x61);
      await s.put(long, makeRecord('long'));
      expect(Buffer.from((await s.get(long))!.value).toString()).toBe('long');
    });

    it('empty and large values round-trip', async () => {
      const s = await open();
      await s.put(k('empty'), makeRecord(new Uint8Array(0)));
      expect((await s.get(k('empty')))!.value.length).toBe(0);
      const size = Math.min(s.supports.maxValueBytes, 8 * 1024 * 1024);
      const big = new Uint8Array(size);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
      await s.put(k('big'), makeRecord(big));
      const got = await s.get(k('big'));
      expect(got!.value.length).toBe(size);
      expect(checksumOf(got!.value)).toBe(checksumOf(big));
    });

    it('getMany answers one slot per key', async () => {
      const s = await open();
      await s.put(k('x1'), makeRecord('1'));
      await s.put(k('x3'), makeRecord('3'));
      const got = await s.getMany([k('x1'), k('x2'), k('x3')]);
      expect(got.map((r) => (r ? Buffer.from(r.value).toString() : null))).toEqual(['1', null, '3']);
    });

    it('batch applies puts and deletes', async () => {
      const s = await open();
      await s.put(k('b0'), makeRecord('old'));
      await s.batch([
        { type: 'put', key: k('b1'), record: makeRecord('1') },
        { type: 'put', key: k('b2'), record: makeRecord('2') },
        { type: 'del', key: k('b0') },
      ]);
      expect(await s.get(k('b0'))).toBeUndefined();
      expect(Buffer.from((await s.get(k('b2')))!.value).toString()).toBe('2');
      await s.batch([]);
    });

    it('scans in bytewise order with prefix, limit and cursor, each key once', async () => {
      const s = await open();
      const keys = ['p/b', 'p/a', 'p/\u00e9', 'p/A', 'p/', 'q/a', 'o/z', 'p/a/1', 'p/\u0000x'];
      for (const key of keys) await s.put(k(key), makeRecord(key));
      const all = await scanAll(s, k('p/'), 2);
      const expected = keys
        .filter((x) => x.startsWith('p/'))
        .map(k)
        .sort(compareBytes);
      expect(all.map((x) => Buffer.from(x).toString())).toEqual(expected.map((x) => Buffer.from(x).toString()));
      const first = await s.scan({ limit: 3 });
      expect(first.entries.length).toBe(3);
      expect(first.cursor).toBeDefined();
      expect(Buffer.from(first.entries[0].record.value).toString()).toBe('o/z');
      const keysOnly = await s.scan({ prefix: k('q/'), keysOnly: true });
      expect(keysOnly.entries.map((e) => Buffer.from(e.key).toString())).toEqual(['q/a']);
      expect((await s.scan({ prefix: k('zz') })).entries).toEqual([]);
    });

    it('parallel puts to one key end with one of the written values, intact', async () => {
      const s = await open();
      const values = Array.from({ length: 20 }, (_, i) => `value-${i}-${'x'.repeat(i * 50)}`);
      await Promise.all(values.map((v) => s.put(k('hot'), makeRecord(v))));
      const got = await s.get(k('hot'));
      const text = Buffer.from(got!.value).toString();
      expect(values).toContain(text);
      expect(got!.meta.checksum).toBe(checksumOf(got!.value));
    });

    it('approximateBytes, when offered, is a byte count that grows by about 1 MB after 1 MB of writes', async () => {
      const s = await open();
      if (!s.approximateBytes) return;
      const before = await s.approximateBytes();
      expect(Number.isSafeInteger(before) && before >= 0).toBe(true);
      // Incompressible values (a backend may compress): 64 records of 16 KiB.
      for (let i = 0; i < 64; i++)
        await s.put(k(`size/${i}`), makeRecord(crypto.getRandomValues(new Uint8Array(16 * 1024))));
      const after = await s.approximateBytes();
      expect(Number.isSafeInteger(after)).toBe(true);
      expect(after - before).toBeGreaterThanOrEqual(512 * 1024);
      expect(after - before).toBeLessThan(16 * 1024 * 1024);
      const ac = new AbortController();
      ac.abort();
      await expect(s.approximateBytes({ signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    });

    it('an aborted signal rejects without writing', async () => {
      const s = await open();
      const ac = new AbortController();
      ac.abort();
      await expect(s.put(k('ab'), makeRecord('x'), { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await s.get(k('ab'))).toBeUndefined();
    });

    it('matches a Map model over random operations', async () => {
      const s = await open();
      const keyArb = fc.uint8Array({ minLength: 1, maxLength: 6 });
      const opArb = fc.oneof(
        fc.record({ t: fc.constant('put' as const), key: keyArb, v: fc.uint8Array({ maxLength: 40 }) }),
        fc.record({ t: fc.constant('del' as const), key: keyArb }),
      );
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 25 }), async (ops) => {
          const prefix = Uint8Array.from([0xfe, round >> 8, round & 0xff]);
          round++;
          const model = new Map<string, Uint8Array>();
          for (const op of ops) {
            const key = Uint8Array.from([...prefix, ...op.key]);
            const hex = Buffer.from(key).toString('hex');
            if (op.t === 'put') {
              await s.put(key, makeRecord(op.v));
              model.set(hex, op.v);
            } else {
              await s.delete(key);
              model.delete(hex);
            }
          }
          const scanned = await scanAll(s, prefix, 4);
          const want = [...model.keys()].sort();
          expect(scanned.map((x) => Buffer.from(x).toString('hex'))).toEqual(want);
          for (const [hex, v] of model) {
            const got = await s.get(Buffer.from(hex, 'hex'));
            expect(Buffer.compare(got!.value, v)).toBe(0);
          }
        }),
        { numRuns: 20 },
      );
    });

    it('data survives close and reopen', async () => {
      const s = await open();
      if (!s.supports.persistent) return;
      await s.put(k('keep'), makeRecord('kept'));
      await s.batch([{ type: 'put', key: k('keep2'), record: makeRecord('kept2') }]);
      await s.close();
      const again = await h!.reopen();
      h!.store = again;
      await again.open();
      expect(Buffer.from((await again.get(k('keep')))!.value).toString()).toBe('kept');
      expect(Buffer.from((await again.get(k('keep2')))!.value).toString()).toBe('kept2');
    });
  });
}
