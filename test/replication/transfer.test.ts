import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLevelStore } from '../../plugins/store-level/index.ts';
import { createHlc } from '../../src/crdt/hlc.ts';
import { generateClusterSecret, type Net } from '../../src/net/index.ts';
import { buildRecord } from '../../src/replication/build.ts';
import type { ClusterRing } from '../../src/replication/cluster-ring.ts';
import { handOff } from '../../src/replication/handoff.ts';
import { HintQueue } from '../../src/replication/hints.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
import { NO_OBSERVER, type ReplicationObserver } from '../../src/replication/observer.ts';
import { sendRecords, serveTransfers } from '../../src/replication/transfer.ts';
import type { Store } from '../../src/store/index.ts';
import { cleanup, startCluster } from '../net/helpers.ts';

const openStore = async (): Promise<Store> => {
  const location = join(await mkdtemp(join(tmpdir(), 'shoal-transfer-')), 'db');
  const store = createLevelStore({ location, durability: 'os' });
  await store.open();
  return store;
};

describe('record transfer (hints, hand-off, repair)', () => {
  let a: Net;
  let b: Net;
  let store: Store;
  let hintStore: Store;
  let engine: LocalEngine;
  /** Runs inside the receiver before each record it applies. */
  let onApply: (key: string) => Promise<void> = async () => {};
  beforeAll(async () => {
    [a, b] = await startCluster(2, { clusterSecret: generateClusterSecret() });
    store = await openStore();
    hintStore = await openStore();
    engine = new LocalEngine({ store, clock: createHlc({ node: 'b' }) }, { readCacheBytes: 0 });
    const applyRecord = engine.applyRecord.bind(engine);
    engine.applyRecord = async (key, record, ctx) => {
      await onApply(key);
      return applyRecord(key, record, ctx);
    };
    await serveTransfers(b, engine, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await cleanup();
    await store.close();
    await hintStore.close();
  });
  const clock = createHlc({ node: 'a' });
  const record = (value: Uint8Array) =>
    buildRecord(undefined, { kind: 'blob', value, contentType: 'application/octet-stream' }, clock.now(), Date.now());
  const text = async (key: string) => Buffer.from((await engine.getRaw(key))?.value ?? []).toString();
  const hintQueue = () =>
    new HintQueue({ store: hintStore, net: a, logger: pino({ level: 'silent' }) }, { maxAgeMs: 3_600_000 });

  it('carries a 16 MiB value that follows a batch of small records', { timeout: 60_000 }, async () => {
    // ~250 KiB of small records, then a value of the largest accepted size: together they are more than
    // one frame may hold.
    const small = Array.from({ length: 1000 }, (_, i) => ({ key: `small/${i}`, record: record(randomBytes(50)) }));
    const big = { key: 'big', record: record(randomBytes(16 * 1024 * 1024)) };
    const result = await sendRecords(a, b.peerId, [...small, big], AbortSignal.timeout(50_000));
    expect(result).toEqual({ applied: 1001, rejected: 0, bytes: 1000 * 50 + 16 * 1024 * 1024 });
    expect((await engine.getRaw('big'))?.meta.checksum).toBe(big.record.meta.checksum);
    expect((await engine.getRaw('small/999'))?.meta.checksum).toBe(small[999].record.meta.checksum);
  });

  it('merges records of later frames while an earlier record is still being written', async () => {
    // ~3 frames of 1 KB records. The first record's merge waits until the last record's has begun: a
    // receiver that merged frame by frame would never read the last frame, and the transfer would stall.
    const records = Array.from({ length: 600 }, (_, i) => ({ key: `pipe/${i}`, record: record(randomBytes(1024)) }));
    let lastStarted: () => void = () => {};
    const last = new Promise<void>((resolve) => {
      lastStarted = resolve;
    });
    let overtaken = false;
    onApply = async (key) => {
      if (key === 'pipe/599') lastStarted();
      if (key === 'pipe/0') {
        overtaken = await Promise.race([
          last.then(() => true),
          new Promise<boolean>((r) => setTimeout(r, 5_000, false)),
        ]);
      }
    };
    try {
      const result = await sendRecords(a, b.peerId, records, AbortSignal.timeout(20_000));
      expect(result).toEqual({ applied: 600, rejected: 0, bytes: 600 * 1024 });
    } finally {
      onApply = async () => {};
    }
    expect(overtaken).toBe(true);
    expect((await engine.getRaw('pipe/0'))?.meta.checksum).toBe(records[0].record.meta.checksum);
  });

  it('keeps the newest hint whatever order the hints of two writes arrive in', async () => {
    const hints = hintQueue();
    const older = record(Buffer.from('older'));
    const newer = record(Buffer.from('newer'));
    await hints.add(b.peerId, 'order', newer);
    await hints.add(b.peerId, 'order', older);
    expect(await hints.replay(b.peerId)).toBe(1);
    expect(await text('order')).toBe('newer');
  });

  it('replay keeps a hint that a newer write replaced while its page was on the way', async () => {
    const hints = hintQueue();
    await hints.add(b.peerId, 'raced', record(Buffer.from('first')));
    const second = record(Buffer.from('second'));
    onApply = async (key) => {
      if (key === 'raced') await hints.add(b.peerId, 'raced', second);
    };
    try {
      // The kept hint is sent again by the same pass: both versions arrive, the newer one wins.
      expect(await hints.replay(b.peerId)).toBe(2);
    } finally {
      onApply = async () => {};
    }
    expect(await text('raced')).toBe('second');
    expect(await hints.replay(b.peerId)).toBe(0);
  });

  /** An observer that keeps what the metrics would be told. */
  const watching = () => {
    const seen = { pending: [] as number[], handedOff: [] as Array<[string, number]> };
    const observer: ReplicationObserver = {
      ...NO_OBSERVER,
      hintsPending: (n) => seen.pending.push(n),
      handedOff: (kind, bytes) => seen.handedOff.push([kind, bytes]),
    };
    return { seen, observer };
  };

  it('counts the hints held (after a restart too) and the bytes their replay hands over', async () => {
    const own = await openStore();
    try {
      const { seen, observer } = watching();
      const logger = pino({ level: 'silent' });
      const hints = new HintQueue({ store: own, net: a, logger, observer }, { maxAgeMs: 3_600_000 });
      await hints.add(b.peerId, 'p/1', record(Buffer.from('one')));
      await hints.add(b.peerId, 'p/1', record(Buffer.from('two'))); // the same key: still one hint
      await hints.add(b.peerId, 'p/2', record(Buffer.from('three')));
      await hints.add('12D3KooWother', 'p/3', record(Buffer.from('four')));
      expect(hints.pending).toBe(3);
      expect(seen.pending.at(-1)).toBe(3);
      // A daemon restarted over the same store counts the hints it finds there.
      const restarted = new HintQueue({ store: own, net: a, logger, observer }, { maxAgeMs: 3_600_000 });
      expect(await restarted.load()).toBe(3);
      expect(restarted.pending).toBe(3);
      expect(await restarted.replay(b.peerId)).toBe(2);
      expect(restarted.pending).toBe(1);
      expect(seen.handedOff).toEqual([['hints', 'two'.length + 'three'.length]]);
      expect(await restarted.drop('12D3KooWother')).toBe(1);
      expect(restarted.pending).toBe(0);
      expect(seen.pending.at(-1)).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('the hand-off reports the value bytes it delivered', async () => {
    const own = await openStore();
    try {
      const local = new LocalEngine({ store: own, clock: createHlc({ node: 'a' }) }, { readCacheBytes: 0 });
      const values = ['alpha', 'beta-beta'];
      for (const [i, v] of values.entries()) await local.applyRecord(`h/${i}`, record(Buffer.from(v)));
      // This daemon replicates none of its records any more: b does.
      const ring = { self: a.peerId, replicasOf: () => [b.peerId], heldBack: () => false } as unknown as ClusterRing;
      const { seen, observer } = watching();
      const report = await handOff({ net: a, local, ring, logger: pino({ level: 'silent' }), observer });
      expect(report).toEqual({ foreign: 2, handedOff: 2 });
      expect(seen.handedOff).toEqual([['ring', 'alpha'.length + 'beta-beta'.length]]);
      expect(await text('h/1')).toBe('beta-beta');
    } finally {
      await own.close();
    }
  });
});
