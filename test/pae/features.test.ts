import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ewmaForecast, seasonalNaiveForecast } from '../../src/pae/baselines.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/pae/contract.ts';
import { allocFeatures, buildFeatures, seasonPeriod } from '../../src/pae/features.ts';
import { seasonalBatch } from './helpers.ts';

const F = FEATURE_COUNT;
const f = (name: (typeof FEATURE_NAMES)[number]): number => FEATURE_NAMES.indexOf(name);

describe('features', () => {
  const batch = seasonalBatch(6, 3, 5);
  const n = batch.buckets;
  const total = (r: number, b: number): number => batch.reads[r * n + b] + batch.writes[r * n + b];

  it('never read buckets at or after the window end (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: n - 1 }), fc.integer({ min: 1, max: 30 }), (end, lookback) => {
        const a = allocFeatures(batch.rows, lookback);
        buildFeatures(batch, lookback, 4, a, end);
        const changed = { ...batch, reads: batch.reads.slice(), writes: batch.writes.slice() };
        for (let r = 0; r < batch.rows; r++) for (let b = end; b < n; b++) changed.reads[r * n + b] += 7;
        const c = allocFeatures(batch.rows, lookback);
        buildFeatures(changed, lookback, 4, c, end);
        expect(c.x).toEqual(a.x);
        expect(c.scale).toEqual(a.scale);
      }),
      { numRuns: 40 },
    );
  });

  it('scales counts by 1 + window mean and leads the seasonal twin by the horizon', () => {
    const L = 8;
    const end = 60;
    const out = allocFeatures(batch.rows, L);
    buildFeatures(batch, L, 4, out, end);
    expect(seasonPeriod(batch.bucketMs, 4)).toBe(24);
    for (let r = 0; r < batch.rows; r++) {
      let win = 0;
      for (let b = end - L; b < end; b++) win += total(r, b);
      const s = 1 + win / L;
      expect(out.scale[r]).toBeCloseTo(s, 4);
      for (let j = 0; j < L; j++) {
        const o = (r * L + j) * F;
        const b = end - L + j;
        expect(out.x[o + f('reads')]).toBeCloseTo(batch.reads[r * n + b] / s, 5);
        expect(out.x[o + f('seasonal')]).toBeCloseTo(total(r, b + 4 - 24) / s, 5);
        expect(out.x[o + f('has_season')]).toBe(1);
      }
    }
  });

  it('pads a window reaching before the first bucket with zeros and no season', () => {
    const out = allocFeatures(batch.rows, 10);
    buildFeatures(batch, 10, 4, out, 3);
    for (let j = 0; j < 7; j++) {
      expect(out.x[j * F + f('reads')]).toBe(0);
      expect(out.x[j * F + f('has_season')]).toBe(0);
    }
  });
});

describe('baselines', () => {
  const batch = seasonalBatch(4, 3, 8);
  it('seasonal naive returns the same window one day earlier', () => {
    const n = batch.buckets;
    const p = seasonalNaiveForecast(batch, 4);
    for (let r = 0; r < batch.rows; r++) {
      let t = 0;
      for (let b = n - 24; b < n - 20; b++) t += batch.reads[r * n + b] + batch.writes[r * n + b];
      expect(p[r]).toBe(t);
    }
  });

  it('ewma of a constant series is the constant times the horizon', () => {
    const flat = {
      ...batch,
      reads: new Float32Array(batch.reads.length).fill(3),
      writes: new Float32Array(batch.writes.length),
    };
    for (const v of ewmaForecast(flat, 4)) expect(v).toBeCloseTo(12, 4);
  });
});
