import { describe, expect, it } from 'vitest';
import { createEnsemble, rowMedian } from '../../src/pae/ensemble.ts';
import type { Forecaster, SeriesBatch } from '../../src/pae/index.ts';
import { seasonalBatch } from './helpers.ts';

/** A forecaster returning fixed values (row r → values[r]). */
function fixed(name: string, values: number[], horizonBuckets = 4): Forecaster {
  return {
    name,
    kind: 'baseline',
    horizonBuckets,
    async forecast(batch: SeriesBatch) {
      return Float32Array.from({ length: batch.rows }, (_, r) => values[r]);
    },
  };
}

describe('ensemble forecaster', () => {
  const batch = seasonalBatch(3, 2, 1);

  it('returns the weighted mean of its members (weights normalised; equal by default)', async () => {
    const a = fixed('a', [0, 10, 4]);
    const b = fixed('b', [8, 2, 4]);
    const equal = createEnsemble([a, b]);
    expect(equal.name).toBe('mean(a,b)');
    expect(equal.horizonBuckets).toBe(4);
    expect([...(await equal.forecast(batch))]).toEqual([4, 6, 4]);
    const weighted = createEnsemble([a, b], { weights: [3, 1], name: 'w' });
    expect(weighted.name).toBe('w');
    expect([...(await weighted.forecast(batch))]).toEqual([2, 8, 4]);
  });

  it('returns the row-wise median (mean of the middle two for an even count)', async () => {
    const e = createEnsemble([fixed('a', [0, 10, 4]), fixed('b', [8, 2, 4]), fixed('c', [1, 5, 9])], {
      combine: 'median',
    });
    expect(e.name).toBe('median(a,b,c)');
    expect([...(await e.forecast(batch))]).toEqual([1, 5, 4]);
    expect([...rowMedian([Float32Array.of(1, 7), Float32Array.of(3, 1)])]).toEqual([2, 4]);
  });

  it('refuses members with different horizons and bad weights', () => {
    expect(() => createEnsemble([])).toThrow(/at least one/);
    expect(() => createEnsemble([fixed('a', []), fixed('b', [], 8)])).toThrow(/horizon/);
    expect(() => createEnsemble([fixed('a', [])], { weights: [1, 2] })).toThrow(/weights/);
    expect(() => createEnsemble([fixed('a', []), fixed('b', [])], { weights: [1, -1] })).toThrow(/>= 0/);
    expect(() => createEnsemble([fixed('a', []), fixed('b', [])], { weights: [0, 0] })).toThrow(/positive sum/);
  });

  it('stops on an aborted signal', async () => {
    const c = new AbortController();
    c.abort();
    await expect(createEnsemble([fixed('a', [1, 1, 1])]).forecast(batch, { signal: c.signal })).rejects.toThrow();
  });
});
