import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createStats } from '../../src/stats/index.ts';
import { KEYSPACE, type Store } from '../../src/store/index.ts';

const logger = pino({ level: 'silent' });
const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 6);

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-stats-'));
  store = createLevelStore({ location: dir, durability: 'os' });
  await store.open();
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function reopen(): Promise<void> {
  await store.close();
  store = createLevelStore({ location: dir, durability: 'os' });
  await store.open();
}

describe('stats persistence', () => {
  it('keeps the rolled-up history across a restart (start/stop with a level store)', async () => {
    let now = T0;
    const first = createStats({ logger, clock: () => now, store });
    await first.start();
    for (let h = 0; h < 30; h++) {
      for (let i = 0; i <= h % 5; i++) first.record('doc/1', 'r', 'eu', 'web', 2048, T0 + h * HOUR + i * MIN);
      first.record('doc/1', 'w', 'us', 'sync', 2048, T0 + h * HOUR);
      first.record('doc/2', 'r', 'us', 'web', 10, T0 + h * HOUR);
    }
    now = T0 + 29 * HOUR + 30 * MIN;
    const before = { one: first.series('doc/1'), two: first.series('doc/2'), top: first.top({ windowMs: 24 * HOUR }) };
    const summaryBefore = first.summary();
    await first.stop();
    await reopen();

    const second = createStats({ logger, clock: () => now, store });
    await second.start();
    const after = {
      one: second.series('doc/1'),
      two: second.series('doc/2'),
      top: second.top({ windowMs: 24 * HOUR }),
    };
    expect(after.one.zones).toEqual(before.one.zones);
    expect(after.two.zones).toEqual(before.two.zones);
    expect(after.one.apps).toEqual(before.one.apps);
    expect(after.one.size).toBe(2048);
    expect(after.top).toEqual(before.top);
    const summaryAfter = second.summary();
    expect(summaryAfter.zones).toEqual(summaryBefore.zones);
    expect(summaryAfter.totalAccesses).toBe(summaryBefore.totalAccesses);
    // Day rollups: 30 hours span two days.
    expect(after.one.zones.us.day.writes.slice(-2)).toEqual([24, 6]);
    // New accesses after the restart add to the loaded history.
    second.record('doc/1', 'w', 'us', 'sync', 2048);
    expect(second.series('doc/1').zones.us.day.writes.at(-1)).toBe(7);
    await second.stop();
  });

  it('removes persisted series that are no longer kept, and only writes under the stats keyspace', async () => {
    let now = T0;
    const stats = createStats({ logger, clock: () => now }, { seriesLanes: 1, hotCapacity: 16 });
    stats.record('a', 'r', 'eu', 'x', 1, T0);
    now = T0 + MIN;
    await stats.persist(store);
    const keysOf = async () => (await store.scan({ limit: 100, keysOnly: true })).entries.map((e) => e.key);
    expect((await keysOf()).every((k) => k[0] === KEYSPACE.stats)).toBe(true);
    expect((await keysOf()).length).toBe(2); // meta + series of 'a'
    // 'b' is hotter in a later bucket and takes the single lane: 'a' must disappear from the store.
    for (let i = 0; i < 5; i++) stats.record('b', 'r', 'eu', 'x', 1, T0 + 2 * HOUR);
    now = T0 + 2 * HOUR + MIN;
    await stats.persist(store);
    const loaded = createStats({ logger, clock: () => now });
    await loaded.load(store);
    expect(Object.keys(loaded.series('a').zones)).toEqual([]);
    expect(loaded.series('b').zones.eu.hour.reads.at(-1)).toBe(5);
    expect((await keysOf()).length).toBe(2);
  });

  it('skips malformed persisted entries instead of failing to start', async () => {
    const value = new Uint8Array([0xc1]);
    const key = new Uint8Array([KEYSPACE.stats, ...new TextEncoder().encode('k/bad')]);
    const meta = {
      version: '0',
      type: 'blob' as const,
      contentType: 'x',
      size: 1,
      checksum: '',
      createdAt: 0,
      updatedAt: 0,
    };
    await store.put(key, { value, meta });
    await store.put(new Uint8Array([KEYSPACE.stats, ...new TextEncoder().encode('meta')]), { value, meta });
    const stats = createStats({ logger, clock: () => T0 });
    await expect(stats.load(store)).resolves.toBeUndefined();
    expect(stats.summary().seriesKeys).toBe(0);
  });
});
