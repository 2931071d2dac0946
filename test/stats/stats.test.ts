import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createStats, StatsConfigError } from '../../src/stats/index.ts';

const logger = pino({ level: 'silent' });
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 6); // a Monday, 00:00 UTC

describe('stats recording and rollups', () => {
  it('rolls base buckets into hours and days exactly (random accesses over 3 days vs brute force)', () => {
    const access = fc.record({
      at: fc.integer({ min: 0, max: 3 * DAY - 1 }),
      key: fc.constantFrom('a', 'b', 'c'),
      zone: fc.constantFrom('eu', 'us'),
      write: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(access, { minLength: 1, maxLength: 300 }), (raw) => {
        const accesses = [...raw].sort((x, y) => x.at - y.at);
        const last = T0 + accesses[accesses.length - 1].at;
        const stats = createStats(
          { logger, clock: () => last },
          {
            bucketMs: 15 * MIN,
            retention: { bucketMs: 4 * DAY, hourMs: 4 * DAY, dayMs: 10 * DAY },
            hotCapacity: 64,
            seriesLanes: 16,
          },
        );
        for (const a of accesses) stats.record(a.key, a.write ? 'w' : 'r', a.zone, 'app', 1, T0 + a.at);
        for (const key of ['a', 'b', 'c']) {
          const view = stats.series(key);
          for (const zone of ['eu', 'us']) {
            const mine = accesses.filter((a) => a.key === key && a.zone === zone);
            const z = view.zones[zone];
            if (mine.length === 0) {
              expect(z).toBeUndefined();
              continue;
            }
            for (const [res, width] of [
              ['bucket', 15 * MIN],
              ['hour', HOUR],
              ['day', DAY],
            ] as const) {
              const b = z[res];
              expect(b.widthMs).toBe(width);
              const want = new Map<number, [number, number]>();
              for (const a of mine) {
                const i = Math.floor((T0 + a.at - b.startMs) / width);
                const c = want.get(i) ?? [0, 0];
                c[a.write ? 1 : 0]++;
                want.set(i, c);
              }
              for (let i = 0; i < b.reads.length; i++) {
                const [r, w] = want.get(i) ?? [0, 0];
                expect([b.reads[i], b.writes[i]], `${key}/${zone} ${res}[${i}]`).toEqual([r, w]);
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('answers top per zone and window, series with app shares, and counts late accesses in the open bucket', () => {
    let now = T0 + 10 * MIN;
    const stats = createStats({ logger, clock: () => now });
    for (let i = 0; i < 30; i++) stats.record('hot', 'r', 'eu', 'web', 10, T0 + i * 1000);
    for (let i = 0; i < 10; i++) stats.record('hot', 'w', 'us', 'batch', 10, T0 + 5 * MIN + i);
    for (let i = 0; i < 20; i++) stats.record('us-only', 'r', 'us', 'web', 3, T0 + 5 * MIN + i);
    stats.record('late', 'r', 'eu', 'web', 1, T0); // older than the open bucket: counted in it
    now = T0 + 5 * MIN + 30_000; // minute 5 is the open bucket
    expect(stats.top({ windowMs: HOUR })).toEqual([
      { key: 'hot', reads: 30, writes: 10, total: 40 },
      { key: 'us-only', reads: 20, writes: 0, total: 20 },
      { key: 'late', reads: 1, writes: 0, total: 1 },
    ]);
    expect(stats.top({ zone: 'us', windowMs: HOUR, limit: 1 })).toEqual([
      { key: 'us-only', reads: 20, writes: 0, total: 20, zone: 'us' },
    ]);
    // A window of two minutes (minutes 4 and 5, the open one) excludes minute 0.
    expect(stats.top({ zone: 'eu', windowMs: 2 * MIN })).toEqual([
      { key: 'late', reads: 1, writes: 0, total: 1, zone: 'eu' },
    ]);
    expect(stats.top({ zone: 'nowhere' })).toEqual([]);
    const view = stats.series('hot');
    expect(view.tracked).toBe(true);
    expect(view.count).toBe(40);
    expect(view.error).toBe(0);
    expect(view.estimate).toBeGreaterThanOrEqual(40);
    expect(view.apps).toEqual([
      { app: 'web', reads: 30, writes: 0, share: 0.75 },
      { app: 'batch', reads: 0, writes: 10, share: 0.25 },
    ]);
    expect(view.zones.us.bucket.writes.at(-1)).toBe(10);
    expect(view.zones.eu.hour.reads.at(-1)).toBe(30);
    const summary = stats.summary();
    expect(summary.totalAccesses).toBe(61);
    expect(summary.zones.eu).toEqual({ reads: 31, writes: 0, bytesRead: 301, bytesWritten: 0 });
    expect(summary.apps.batch).toEqual({ reads: 0, writes: 10 });
    expect(summary.trackedKeys).toBe(3);
    expect(summary.memoryBytes).toBeLessThanOrEqual(summary.memoryBudgetBytes);
  });

  it('exports closed buckets per (key, zone) for the PAE, batched without splitting a key', async () => {
    const stats = createStats({ logger, clock: () => T0 + 4 * MIN });
    for (let m = 0; m < 4; m++) {
      for (let i = 0; i <= m; i++) stats.record('k1', 'r', 'eu', 'a', 100, T0 + m * MIN + i);
      stats.record('k1', 'w', 'us', 'b', 100, T0 + m * MIN);
      stats.record('k2', 'r', 'eu', 'a', 7, T0 + m * MIN);
    }
    const batch = stats.seriesBatch({ length: 4 });
    expect(batch.bucketMs).toBe(MIN);
    expect(batch.startMs).toBe(T0);
    expect(batch.buckets).toBe(4);
    const rows = batch.keys.map((k, r) => ({
      key: `${k}/${batch.zones[r]}`,
      reads: [...batch.reads.subarray(r * 4, r * 4 + 4)],
      writes: [...batch.writes.subarray(r * 4, r * 4 + 4)],
      size: batch.sizeBytes[r],
    }));
    expect(rows).toContainEqual({ key: 'k1/eu', reads: [1, 2, 3, 4], writes: [0, 0, 0, 0], size: 100 });
    expect(rows).toContainEqual({ key: 'k1/us', reads: [0, 0, 0, 0], writes: [1, 1, 1, 1], size: 100 });
    expect(rows).toContainEqual({ key: 'k2/eu', reads: [1, 1, 1, 1], writes: [0, 0, 0, 0], size: 7 });
    const batches = [];
    for await (const b of stats.paeSource({ length: 4 }).series({ batchRows: 1 })) batches.push(b);
    // k1 has two rows: it stays in one batch although batchRows is 1.
    expect(batches.map((b) => b.keys)).toEqual([['k1', 'k1'], ['k2']]);
  });

  it('rejects a bucket width that does not divide an hour', () => {
    expect(() => createStats({ logger }, { bucketMs: 7000 })).toThrow(StatsConfigError);
    expect(() => createStats({ logger }, { memoryBudgetBytes: 1000 })).toThrow(StatsConfigError);
  });
});
