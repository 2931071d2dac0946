import { describe, expect, it } from 'vitest';
import { keyTotals, oracleCeiling, poissonSample } from '../../src/pae/ceiling.ts';
import { mulberry32 } from '../../src/pae/rng.ts';

function pmf(mean: number, n: number): number {
  let p = Math.exp(-mean);
  for (let i = 1; i <= n; i++) p *= mean / i;
  return p;
}

function moments(mean: number, draws: number, seed: number): { mean: number; variance: number; zeros: number } {
  const rand = mulberry32(seed);
  let s = 0;
  let s2 = 0;
  let zeros = 0;
  for (let i = 0; i < draws; i++) {
    const x = poissonSample(mean, rand);
    expect(Number.isInteger(x) && x >= 0).toBe(true);
    s += x;
    s2 += x * x;
    if (x === 0) zeros++;
  }
  const m = s / draws;
  return { mean: m, variance: s2 / draws - m * m, zeros: zeros / draws };
}

describe('poissonSample', () => {
  it('matches Poisson moments and P(0) with Knuth (small mean)', () => {
    const r = moments(4, 40_000, 1);
    expect(r.mean).toBeCloseTo(4, 1);
    expect(r.variance).toBeGreaterThan(3.8);
    expect(r.variance).toBeLessThan(4.2);
    expect(r.zeros).toBeGreaterThan(pmf(4, 0) - 0.003);
    expect(r.zeros).toBeLessThan(pmf(4, 0) + 0.003);
  });

  it('matches Poisson moments with the normal approximation (large mean)', () => {
    const r = moments(400, 40_000, 2);
    expect(Math.abs(r.mean - 400)).toBeLessThan(0.5);
    expect(r.variance).toBeGreaterThan(385);
    expect(r.variance).toBeLessThan(415);
  });

  it('gives 0 for a zero or negative mean', () => {
    const rand = mulberry32(3);
    expect(poissonSample(0, rand)).toBe(0);
    expect(poissonSample(-1, rand)).toBe(0);
  });
});

describe('oracleCeiling', () => {
  it('is 1 when the true rates of the top k are far apart from the rest', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const rates = keys.map((_, i) => (i < 3 ? 10_000 * 2 ** i : 1 + (i % 5)));
    const r = oracleCeiling(keys, rates, mulberry32(4), 100);
    expect(r.k).toBe(3);
    expect(r.scored).toBe(100);
    expect(r.ceiling).toBe(1);
  });

  it('is about 1/n for n keys at one equal large rate (k = 1)', () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const r = oracleCeiling(keys, new Array(100).fill(1000), mulberry32(5), 4000);
    // P(the key picked by name is the maximum) = 1/100 plus the chance of a tie at the maximum (a few %)
    expect(r.ceiling).toBeGreaterThan(0.006);
    expect(r.ceiling).toBeLessThan(0.016);
  });

  it('counts ties at the k-th place as hot: n equal small rates, P(key 0 = max | some access)', () => {
    const n = 20;
    const mean = 1;
    const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const r = oracleCeiling(keys, new Array(n).fill(mean), mulberry32(6), 20_000);
    expect(r.k).toBe(1);
    let cdf = pmf(mean, 0);
    let expected = 0;
    for (let m = 1; m < 40; m++) {
      cdf += pmf(mean, m);
      expected += pmf(mean, m) * cdf ** (n - 1);
    }
    expected /= 1 - pmf(mean, 0) ** n; // ≈ 0.099; ties missed (strict maximum) would give ≈ 0.027, 1/n = 0.05
    expect(Math.abs(r.ceiling - expected)).toBeLessThan(0.01);
  });

  it('two tied keys among idle ones: P(A >= B, A > 0 | not both 0), analytically', () => {
    const keys = ['a', 'b', ...Array.from({ length: 98 }, (_, i) => `z${i}`)];
    const rates = [5, 5, ...new Array(98).fill(0)];
    const r = oracleCeiling(keys, rates, mulberry32(7), 20_000);
    let equal = 0;
    for (let i = 0; i < 60; i++) equal += pmf(5, i) ** 2;
    const both0 = pmf(5, 0) ** 2;
    const expected = ((1 + equal) / 2 - both0) / (1 - both0);
    expect(Math.abs(r.ceiling - expected)).toBeLessThan(0.012);
    // strict ">" for hot (ties missed) would give (1 − equal) / 2 ≈ 0.44
    expect(r.ceiling).toBeGreaterThan(0.53);
  });

  it('keyTotals sums zones per key in first-seen order', () => {
    const t = keyTotals(['b', 'b', 'a', 'c'], [1, 2, 3, 0]);
    expect(t.keys).toEqual(['b', 'a', 'c']);
    expect(t.totals).toEqual([3, 3, 0]);
  });
});
