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
import { HintQueue } from '../../src/replication/hints.ts';
import { LocalEngine } from '../../src/replication/local-engine.ts';
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
    expect(result).toEqual({ applied: 1001, rejected: 0 });
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
      expect(result).toEqual({ applied: 600, rejected: 0 });
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
});
