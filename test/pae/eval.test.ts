import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBaseline } from '../../src/pae/baselines.ts';
import { backtest, backtestOrigins, precisionAtK } from '../../src/pae/eval.ts';
import { evalMarkdown, evalSvg } from '../../src/pae/report.ts';
import { loadTraceTable } from '../../src/pae/trace-series.ts';

/**
 * 200 keys at steady rates from two zones, for 2 hours; periods divide the 60 s buckets, so every bucket count is
 * constant; only key 0 (1 s) and key 1 (2 s) run at the top two rates.
 */
async function steadyTrace(): Promise<string> {
  const rows: Array<[number, string]> = [];
  for (let i = 0; i < 200; i++) {
    const periods = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];
    const every = (i < 12 ? periods[i] : periods[2 + (i % 10)]) * 1000;
    for (let t = 0; t < 7200_000; t += every) rows.push([t, `${t},/k${i},r,${i % 2 ? 'eu' : 'na'},10`]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  const dir = await mkdtemp(join(tmpdir(), 'shoal-eval-'));
  const p = join(dir, 'steady.csv');
  await writeFile(p, `ts_ms,key,op,origin,size\n${rows.map((r) => r[1]).join('\n')}\n`);
  return p;
}

describe('backtest', () => {
  it('scores a steady trace: EWMA is near exact, precision@k is 1, origins lie in the last quarter', async () => {
    const table = await loadTraceTable(await steadyTrace());
    const origins = backtestOrigins(table, { horizonBuckets: 4 });
    expect(origins.length).toBeGreaterThan(2);
    for (const o of origins) {
      expect(o.at).toBeGreaterThanOrEqual(table.minTs + 0.75 * (table.maxTs - table.minTs) - 1);
      expect(o.at + 4 * o.bucketMs).toBeLessThanOrEqual(table.maxTs + 1);
    }
    const report = await backtest(table, { horizonBuckets: 4 });
    const ewma = report.models.find((m) => m.name === 'ewma')!;
    expect(report.bucketMs.every((b) => b === 60_000)).toBe(true);
    expect(ewma.wape).toBeLessThan(1e-6);
    expect(ewma.precisionAtK).toBe(1);
    expect(report.models.map((m) => m.name)).toEqual(['ewma', 'seasonal-naive', 'spar']);
    expect(report.models.every((m) => m.calibrationError < 0.05)).toBe(true); // one zone per key: p = 1, observed 1
    expect(evalMarkdown(report, 'steady')).toMatch(/ewma.*\| baseline \| 0\.000 \|/);
    expect(evalSvg(report, 'steady')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  it('scores each learned model in a mean and a median ensemble with the baselines', async () => {
    const table = await loadTraceTable(await steadyTrace());
    const m = { ...createBaseline('ewma', 4), name: 'm' };
    const report = await backtest(table, { horizonBuckets: 4, models: [m], maxOrigins: 2 });
    expect(report.models.map((x) => [x.name, x.kind])).toEqual([
      ['ewma', 'baseline'],
      ['seasonal-naive', 'baseline'],
      ['spar', 'baseline'],
      ['m', 'learned'],
      ['mean(m,spar)', 'ensemble'],
      ['median(m,spar,seasonal-naive)', 'ensemble'],
    ]);
    // every member is near exact on a steady trace, so are the ensembles
    for (const x of report.models.slice(4)) expect(x.wape).toBeLessThan(0.05);
  });
});

describe('precision@k of the hot set', () => {
  // 200 keys → k = 2; one zone per key unless stated
  const keys = Array.from({ length: 200 }, (_, i) => `/k${i}`);
  const zeros = (): number[] => keys.map(() => 0);

  it('counts a predicted key tied with the k-th hottest as a hit (ties at the boundary are arbitrary)', () => {
    const actual = zeros();
    actual[0] = 10;
    actual[5] = 4; // /k5 and /k9 tie for the 2nd place
    actual[9] = 4;
    const pred = zeros();
    pred[0] = 9;
    pred[9] = 5; // picks /k9, not /k5 (the lexically first of the tie)
    expect(precisionAtK(keys, pred, actual)).toBe(1);
    pred[9] = 0;
    pred[7] = 5; // /k7 is cold
    expect(precisionAtK(keys, pred, actual)).toBe(0.5);
  });

  it('divides by the keys accessed when fewer than k were, and sums zones per key', () => {
    const actual = zeros();
    actual[3] = 1;
    const pred = zeros();
    pred[3] = 2;
    expect(precisionAtK(keys, pred, actual)).toBe(1);
    expect(precisionAtK(keys, zeros(), zeros())).toBeUndefined();
    const two = ['/a', '/a', '/b'];
    expect(precisionAtK(two, [1, 1, 1.5], [0, 3, 2])).toBe(1); // /a totals 2 > /b 1.5; actual /a 3 > /b 2
    expect(precisionAtK(two, [0.5, 0.5, 1.5], [0, 3, 2])).toBe(0);
  });
});
