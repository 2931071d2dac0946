import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createHlc } from '../../src/crdt/hlc.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
import { RecordReadCache } from '../../src/replication/read-cache.ts';
import { recordStoreKey } from '../../src/replication/record-keys.ts';
import type { Store, StoredRecord } from '../../src/store/index.ts';

const blob = (text: string) => ({
  kind: 'blob' as const,
  value: new TextEncoder().encode(text),
  contentType: 'text/plain',
});
const text = (e: LocalEngine, key: string) => {
  const rec = e.getNow(key)?.record;
  return rec === undefined ? undefined : Buffer.from(rec.value).toString();
};

describe('LocalEngine read cache', () => {
  let store: Store | undefined;
  let dir = '';
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  let storeReads = 0;
  async function engine(readCacheBytes = 1024 * 1024): Promise<LocalEngine> {
    dir = await mkdtemp(join(tmpdir(), 'shoal-cache-'));
    const level = createLevelStore({ location: join(dir, 'db'), durability: 'os' });
    store = level;
    await level.open();
    storeReads = 0;
    // Counts the synchronous store reads, to tell a cache hit from a store read.
    const counting = new Proxy(level, {
      get: (target, prop) => {
        if (prop === 'getSync')
          return (key: Uint8Array) => {
            storeReads++;
            return target.getSync!(key);
          };
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return new LocalEngine({ store: counting, clock: createHlc({ node: 'n1' }) }, { readCacheBytes });
  }

  it('a cached read never outlives a write of the key, on every write path', async () => {
    const e = await engine();
    await e.put('k', blob('one'));
    expect(text(e, 'k')).toBe('one'); // now cached
    await e.put('k', blob('two'));
    expect(text(e, 'k')).toBe('two');
    await e.batch([{ op: 'put', key: 'k', input: blob('three') }]);
    expect(text(e, 'k')).toBe('three');
    const newer = (await e.getRaw('k'))!;
    const incoming = {
      ...newer,
      value: new TextEncoder().encode('four'),
      meta: { ...newer.meta, version: e.clock.now() },
    };
    await e.applyRecord('k', incoming);
    expect(text(e, 'k')).toBe('four');
    await e.delete('k');
    expect(text(e, 'k')).toBeUndefined();
    const tomb = e.getRawSync('k')!;
    expect(tomb.meta.tombstone).toBe(true); // the tombstone is cached now
    expect(await e.purgeTombstone('k', tomb.meta.version)).toBe(true);
    expect(e.getRawSync('k')).toBeUndefined();
    await e.put('k', blob('five'));
    expect(text(e, 'k')).toBe('five');
    const five = e.getRawSync('k')!.meta;
    await e.dropRecord('k', { version: five.version, checksum: 'not-what-was-handed-off' });
    expect(text(e, 'k')).toBe('five'); // same version, other content: kept
    await e.dropRecord('k', five);
    expect(e.getRawSync('k')).toBeUndefined();
  });

  it('a read racing a write sees the new value once the write is acknowledged', async () => {
    const e = await engine();
    await e.put('k', blob('old'));
    const writing = e.put('k', blob('new'));
    text(e, 'k'); // may cache the old copy while the write is in flight
    await writing;
    expect(text(e, 'k')).toBe('new');
  });

  it('gives the same answers with the cache off', async () => {
    const e = await engine(0);
    await e.put('k', blob('one'));
    expect(text(e, 'k')).toBe('one');
    await e.put('k', blob('two'));
    expect(text(e, 'k')).toBe('two');
    expect(e.getNow('missing')).toEqual({ record: undefined });
  });

  it('keeps what a write stored, so the next read of the key does not go to the store', async () => {
    const e = await engine();
    await e.put('k', blob('one'));
    await e.delete('k');
    await e.put('k', blob('two'));
    const reads = storeReads;
    expect(text(e, 'k')).toBe('two');
    expect(storeReads).toBe(reads);
    // The cached copy is the record the store holds, field for field.
    const cached = e.getRawSync('k')!;
    const stored = (await store!.get(recordStoreKey('k')))!;
    expect(cached.meta).toStrictEqual(stored.meta);
    expect(Buffer.from(cached.value).equals(Buffer.from(stored.value))).toBe(true);
  });

  it('caches a written value that is a slice of a larger buffer as a copy of its own', async () => {
    const e = await engine();
    const big = Buffer.alloc(64 * 1024, 'x');
    big.write('hello', 1000);
    await e.put('k', { kind: 'blob', value: big.subarray(1000, 1005), contentType: 'text/plain' });
    const cached = e.getRawSync('k')!;
    expect(Buffer.from(cached.value).toString()).toBe('hello');
    expect(cached.value.buffer.byteLength).toBe(5);
  });

  it('after overlapping writes of one key, reads return what the store holds', async () => {
    const e = await engine();
    for (let round = 0; round < 20; round++) {
      // A batch does not take the key lock, so it overlaps the put and the applied merge.
      await Promise.all([
        e.put('k', blob(`put ${round}`)),
        e.batch([{ op: 'put', key: 'k', input: blob(`batch ${round}`) }]),
        e.put('k', blob(`second put ${round}`)),
      ]);
      const stored = (await e.getRaw('k'))!;
      const cached = e.getRawSync('k')!;
      expect(cached.meta).toStrictEqual(stored.meta);
      expect(Buffer.from(cached.value).toString()).toBe(Buffer.from(stored.value).toString());
    }
  });
});

describe('RecordReadCache', () => {
  const rec = (text: string): StoredRecord => ({
    value: new TextEncoder().encode(text),
    meta: {
      version: text,
      type: 'blob',
      contentType: 'text/plain',
      size: text.length,
      checksum: '',
      createdAt: 0,
      updatedAt: 0,
    },
  });
  const pending = () => {
    let done!: () => void;
    const p = new Promise<void>((r) => {
      done = r;
    });
    return { p, done };
  };

  it('caches a write once it is stored', async () => {
    const cache = new RecordReadCache(1 << 20);
    await cache.writing('k', async () => {}, rec('a'));
    expect(cache.get('k')?.meta.version).toBe('a');
  });

  it('keeps nothing for a key whose writes overlapped: the store may have applied them in either order', async () => {
    const cache = new RecordReadCache(1 << 20);
    const a = pending();
    const b = pending();
    const first = cache.writing('k', () => a.p, rec('a'));
    const second = cache.writing('k', () => b.p, rec('b'));
    // Acknowledged in start order, but a store with several connections may have applied b before a.
    a.done();
    await first;
    b.done();
    await second;
    expect(cache.get('k')).toBeUndefined();
    // The next write alone caches again.
    await cache.writing('k', async () => {}, rec('c'));
    expect(cache.get('k')?.meta.version).toBe('c');
  });

  it('keeps nothing when the store write fails', async () => {
    const cache = new RecordReadCache(1 << 20);
    cache.fill('k', rec('old'));
    await expect(cache.writing('k', () => Promise.reject(new Error('disk full')), rec('new'))).rejects.toThrow();
    expect(cache.get('k')).toBeUndefined();
  });
});

describe('LocalEngine metadata cache (metaMany)', () => {
  let store: Store | undefined;
  let dir = '';
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An engine whose store counts the keys read by getMany (the path metaMany falls back to). */
  async function engine(reads: { keys: number }): Promise<LocalEngine> {
    dir = await mkdtemp(join(tmpdir(), 'shoal-meta-'));
    const level = createLevelStore({ location: join(dir, 'db'), durability: 'os' });
    store = level;
    await level.open();
    const counting = new Proxy(level, {
      get: (target, prop) => {
        if (prop === 'getMany')
          return (keys: Uint8Array[], o?: { signal?: AbortSignal }) => {
            reads.keys += keys.length;
            return target.getMany(keys, o);
          };
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return new LocalEngine({ store: counting, clock: createHlc({ node: 'n1' }) }, { metaCacheEntries: 100 });
  }

  it('answers from the writes it saw, reads the store for the rest, and follows every write path', async () => {
    const reads = { keys: 0 };
    const e = await engine(reads);
    const put = await e.put('a', blob('one'));
    await e.batch([
      { op: 'put', key: 'b', input: blob('two') },
      { op: 'delete', key: 'a' },
    ]);
    reads.keys = 0;
    const [a, b, none] = await e.metaMany(['a', 'b', 'none']);
    expect(reads.keys).toBe(1); // only 'none' came from the store (batch reads go through getMany too)
    expect(a?.tombstone).toBe(true);
    expect(a?.version).not.toBe(put.meta.version);
    expect(b?.version).toBe((await e.getRaw('b'))?.meta.version);
    expect(none).toBeUndefined();
    // A merged copy from a replica, and a drop, are seen too.
    const newer = { ...(await e.getRaw('b'))! };
    newer.meta = { ...newer.meta, version: `${newer.meta.version}z` };
    await e.applyRecord('b', newer);
    expect((await e.metaMany(['b']))[0]?.version).toBe(newer.meta.version);
    // A transferred copy (a move, a hand-off) keeps only its metadata: moved values are not hot.
    const moved = { ...newer, meta: { ...newer.meta, version: `${newer.meta.version}z` } };
    await e.applyRecord('b', moved, { bulk: true });
    reads.keys = 0;
    expect((await e.metaMany(['b']))[0]?.version).toBe(moved.meta.version);
    expect(reads.keys).toBe(0);
    newer.meta = moved.meta;
    expect(await e.dropRecord('b', newer.meta)).toBe(true);
    reads.keys = 0;
    expect(await e.metaMany(['b'])).toEqual([undefined]);
    expect(reads.keys).toBe(1);
  });
});
