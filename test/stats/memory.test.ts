import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createStats } from '../../src/stats/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus ArrayBuffer backing stores (typed arrays live outside the JS heap). */
function heapUsed(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('memory budget', () => {
  it('holds with 1M distinct keys, and the hot keys stay exact', () => {
    const budget = 32 * 1024 * 1024;
    const t0 = Date.UTC(2025, 0, 6);
    const before = heapUsed();
    const stats = createStats(
      { logger: pino({ level: 'silent' }), clock: () => t0 + 3_600_000 },
      { memoryBudgetBytes: budget },
    );
    const zones = ['eu', 'us', 'asia'];
    const hot = ['hot/alpha', 'hot/beta', 'hot/gamma', 'hot/delta', 'hot/epsilon'];
    const hotTrue = new Map<string, number>();
    const distinct = 1_000_000;
    for (let i = 0; i < distinct; i++) {
      const ts = t0 + Math.floor((i / distinct) * 3_600_000);
      stats.record(
        `tail/object-${i.toString(36)}-${(i * 2654435761) >>> 0}`,
        i % 5 ? 'r' : 'w',
        zones[i % 3],
        `app${i % 7}`,
        512,
        ts,
      );
      if (i % 10 === 0) {
        const k = hot[(i / 10) % hot.length];
        stats.record(k, 'r', zones[i % 2], 'web', 1024, ts);
        hotTrue.set(k, (hotTrue.get(k) ?? 0) + 1);
      }
    }
    stats.tick();
    const estimate = stats.memoryBytes();
    const growth = heapUsed() - before;
    const summary = stats.summary();
    expect(summary.totalAccesses).toBe(distinct + distinct / 10);
    expect(estimate).toBeLessThanOrEqual(budget);
    // The real growth (JS heap + ArrayBuffers) stays within the budget too, and the estimate tracks it.
    expect(growth).toBeLessThanOrEqual(budget);
    expect(Math.abs(estimate - growth)).toBeLessThanOrEqual(0.25 * growth);
    for (const [k, n] of hotTrue) {
      expect(stats.count(k)).toEqual({ count: n, error: 0 });
      const series = stats.series(k);
      const total = Object.values(series.zones).reduce((s, z) => s + z.hour.reads.reduce((a, b) => a + b, 0), 0);
      expect(total).toBe(n);
    }
    expect(
      stats
        .top({ windowMs: 3_600_000, limit: 5 })
        .map((e) => e.key)
        .sort(),
    ).toEqual([...hot].sort());
    console.log(
      `1M keys: estimate ${(estimate / 2 ** 20).toFixed(1)} MiB, heap growth ${(growth / 2 ** 20).toFixed(1)} MiB, ` +
        `tracked ${summary.trackedKeys}, series keys ${summary.seriesKeys}, lanes ${summary.seriesLanes}`,
    );
  });
});
