import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../../plugins/store-level/codec.ts';
import { type RecordMeta, type StoredRecord, StoreError } from '../../src/store/index.ts';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

const metaArb: fc.Arbitrary<RecordMeta> = fc
  .record({
    version: fc.string({ unit: 'binary', maxLength: 40 }),
    type: fc.oneof(fc.constantFrom('blob' as const, 'doc' as const), fc.string({ maxLength: 8 })),
    contentType: fc.string({ unit: 'binary', maxLength: 300 }),
    size: fc.oneof(fc.nat(), fc.double({ noNaN: true })),
    // the usual lowercase SHA-256 hex, and any other string (upper case, short, empty, non-ASCII)
    checksum: fc.oneof(
      hex64,
      hex64.map((h) => h.toUpperCase()),
      fc.string({ unit: 'binary', maxLength: 70 }),
    ),
    createdAt: fc.oneof(fc.nat(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })),
    updatedAt: fc.double({ noNaN: true }),
    tombstone: fc.boolean(),
  })
  .map(({ tombstone, ...m }) => (tombstone ? { ...m, tombstone: true } : m) as RecordMeta);

describe('level entry codec', () => {
  it('round-trips any metadata and value', () => {
    fc.assert(
      fc.property(metaArb, fc.uint8Array({ maxLength: 2000 }), (meta, value) => {
        const bytes = encodeEntry({ meta, value });
        const got = decodeEntry(bytes);
        expect(got.meta).toStrictEqual(meta);
        expect(Buffer.from(got.value).equals(Buffer.from(value))).toBe(true);
        expect(decodeEntry(bytes, true).value.length).toBe(0);
        expect(decodeEntry(bytes, true).meta).toStrictEqual(meta);
      }),
    );
  });

  it('decodes from a view at an offset inside a larger buffer', () => {
    const value = Buffer.from('hello');
    const record: StoredRecord = {
      value,
      meta: {
        version: 'v1',
        type: 'doc',
        contentType: 'text/plain; charset=utf-8',
        size: 5,
        checksum: createHash('sha256').update(value).digest('hex'),
        createdAt: 1,
        updatedAt: 2,
      },
    };
    const entry = encodeEntry(record);
    const outer = new Uint8Array(entry.length + 10);
    outer.set(entry, 7);
    const got = decodeEntry(outer.subarray(7, 7 + entry.length));
    expect(got.meta).toStrictEqual(record.meta);
    expect(Buffer.from(got.value).toString()).toBe('hello');
  });

  it('stores a lowercase SHA-256 hex checksum in 32 bytes', () => {
    const meta = { version: 'v', type: 'blob', contentType: 'x', size: 0, createdAt: 0, updatedAt: 0 } as const;
    const short = encodeEntry({ value: new Uint8Array(0), meta: { ...meta, checksum: 'ab'.repeat(32) } });
    const long = encodeEntry({ value: new Uint8Array(0), meta: { ...meta, checksum: 'AB'.repeat(32) } });
    expect(long.length - short.length).toBe(32);
  });

  it('rejects a truncated entry instead of returning garbage', () => {
    const entry = encodeEntry({
      value: new Uint8Array(0),
      meta: { version: 'v1', type: 'blob', contentType: 'a/b', size: 0, checksum: 'c', createdAt: 0, updatedAt: 0 },
    });
    expect(() => decodeEntry(entry.subarray(0, 10))).toThrow(StoreError);
    expect(() => decodeEntry(entry.subarray(0, entry.length - 1))).toThrow(StoreError);
  });
});
