import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actualsBetween, loadTraceTable, seriesAt } from '../../src/pae/trace-series.ts';

const row = fc.record({
  t: fc.integer({ min: 0, max: 100_000 }),
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  op: fc.constantFrom('r', 'w'),
  origin: fc.constantFrom('eu', 'na', 'asia'),
});

describe('trace → series', () => {
  it('counts every row before `at` in its bucket, lists every seen (key, zone), and counts actuals after (property)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-series-'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 110_000 }),
        fc.constantFrom(1000, 5000, 30_000),
        async (rows, at, bucketMs) => {
          const p = join(dir, 'p.csv');
          // unsorted on purpose: the loader sorts
          await writeFile(
            p,
            `ts_ms,key,op,origin,size\n${rows.map((r) => `${r.t},${r.key},${r.op},${r.origin},1`).join('\n')}\n`,
          );
          const table = await loadTraceTable(p);
          const b = seriesAt(table, at, bucketMs, 512);
          const seen = new Set(rows.filter((r) => r.t < at).map((r) => `${r.key}@${r.origin}`));
          expect(new Set(b.keys.map((k, i) => `${k}@${b.zones[i]}`))).toEqual(seen);
          expect(b.startMs + b.buckets * b.bucketMs).toBe(at);
          for (let r = 0; r < b.rows; r++) {
            for (let k = 0; k < b.buckets; k++) {
              const lo = b.startMs + k * bucketMs;
              const match = rows.filter(
                (x) => x.key === b.keys[r] && x.origin === b.zones[r] && x.t >= lo && x.t < lo + bucketMs,
              );
              expect(b.reads[r * b.buckets + k]).toBe(match.filter((x) => x.op === 'r').length);
              expect(b.writes[r * b.buckets + k]).toBe(match.filter((x) => x.op === 'w').length);
            }
          }
          const act = actualsBetween(table, b, at, at + 4 * bucketMs);
          for (let r = 0; r < b.rows; r++) {
            const n = rows.filter(
              (x) => x.key === b.keys[r] && x.origin === b.zones[r] && x.t >= at && x.t < at + 4 * bucketMs,
            ).length;
            expect(act[r]).toBe(n);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
