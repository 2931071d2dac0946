import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createHlc } from '../../src/crdt/hlc.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
import type { Store } from '../../src/store/index.ts';

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

  async function engine(readCacheBytes = 1024 * 1024): Promise<LocalEngine> {
    dir = await mkdtemp(join(tmpdir(), 'shoal-cache-'));
    store = createLevelStore({ location: join(dir, 'db'), durability: 'os' });
    await store.open();
    return new LocalEngine({ store, clock: createHlc({ node: 'n1' }) }, { readCacheBytes });
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
    await e.dropRecord('k', e.getRawSync('k')!.meta.version);
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
});
