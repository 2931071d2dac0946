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
import { LocalEngine } from '../../src/replication/local-engine.ts';
import { sendRecords, serveTransfers } from '../../src/replication/transfer.ts';
import type { Store } from '../../src/store/index.ts';
import { cleanup, startCluster } from '../net/helpers.ts';

describe('record transfer (hints, hand-off, repair)', () => {
  let a: Net;
  let b: Net;
  let store: Store;
  let engine: LocalEngine;
  beforeAll(async () => {
    [a, b] = await startCluster(2, { clusterSecret: generateClusterSecret() });
    store = createLevelStore({
      location: join(await mkdtemp(join(tmpdir(), 'shoal-transfer-')), 'db'),
      durability: 'os',
    });
    await store.open();
    engine = new LocalEngine({ store, clock: createHlc({ node: 'b' }) }, { readCacheBytes: 0 });
    await serveTransfers(b, engine, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await cleanup();
    await store.close();
  });

  it('carries a 16 MiB value that follows a batch of small records', { timeout: 60_000 }, async () => {
    const clock = createHlc({ node: 'a' });
    const record = (value: Uint8Array) =>
      buildRecord(undefined, { kind: 'blob', value, contentType: 'application/octet-stream' }, clock.now(), Date.now());
    // ~250 KiB of small records, then a value of the largest accepted size: together they are more than
    // one frame may hold.
    const small = Array.from({ length: 1000 }, (_, i) => ({ key: `small/${i}`, record: record(randomBytes(50)) }));
    const big = { key: 'big', record: record(randomBytes(16 * 1024 * 1024)) };
    const result = await sendRecords(a, b.peerId, [...small, big], AbortSignal.timeout(50_000));
    expect(result).toEqual({ applied: 1001, rejected: 0 });
    expect((await engine.getRaw('big'))?.meta.checksum).toBe(big.record.meta.checksum);
    expect((await engine.getRaw('small/999'))?.meta.checksum).toBe(small[999].record.meta.checksum);
  });
});
