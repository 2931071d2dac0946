import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../src/pae/contract.ts';
import { windowTotals } from '../../src/pae/features.ts';
import { fitLinear } from '../../src/pae/linear.ts';
import { buildGruOnnx, buildLinearOnnx } from '../../src/pae/onnx-build.ts';
import { loadOnnxForecaster } from '../../src/pae/onnx-forecaster.ts';
import { mulberry32 } from '../../src/pae/rng.ts';
import { addSamples, emptySamples } from '../../src/pae/samples.ts';
import { hotWeighted, trainGru } from '../../src/pae/train.ts';
import { prefix, seasonalBatch } from './helpers.ts';

const H = 4;
const L = 12;
const batch = seasonalBatch(40, 6, 42);
const trainEnd = 5 * 24;
const origins = Array.from({ length: 6 }, (_, i) => trainEnd + i * H);

/** WAPE of `forecast(o)` over the test origins of day 6. */
async function wape(forecast: (o: number) => Promise<ArrayLike<number>>): Promise<number> {
  let abs = 0;
  let act = 0;
  for (const o of origins) {
    const pred = await forecast(o);
    const actual = windowTotals(batch, o, o + H);
    for (let r = 0; r < batch.rows; r++) {
      abs += Math.abs(pred[r] - actual[r]);
      act += actual[r];
    }
  }
  return abs / act;
}

/** The best constant per row (its training mean rate) cannot follow the daily peak. */
const constantWape = await wape(async () => windowTotals(batch, 0, trainEnd).map((t) => (t / trainEnd) * H));

function samples() {
  const set = emptySamples(L, 1500);
  addSamples(set, batch, { lookback: L, horizon: H, maxSamples: 1500, rand: mulberry32(1), lastOrigin: trainEnd - H });
  return set;
}

describe('training on a synthetic daily season', () => {
  it('constant forecasts are poor here (sanity of the bound)', () => {
    expect(constantWape).toBeGreaterThan(0.8);
  });

  it('the GRU learns the season (fixed seed), far below the constant predictor', { timeout: 240_000 }, async () => {
    const set = samples();
    const result = await trainGru(set, {
      seed: 3,
      hidden: 12,
      epochs: 8,
      patience: 3,
      batchSize: 32,
      learningRate: 0.01,
    });
    expect(result.history.length).toBeGreaterThan(0);
    const f = await loadOnnxForecaster(buildGruOnnx(result.weights, H), { horizonBuckets: H });
    const err = await wape((o) => f.forecast(prefix(batch, o)));
    await f.close?.();
    expect(err).toBeLessThan(0.45);
    expect(err).toBeLessThan(constantWape / 2);
  });

  it('SPAR (ridge) learns the season too', async () => {
    const model = fitLinear(samples());
    const f = await loadOnnxForecaster(buildLinearOnnx(model, H), { horizonBuckets: H });
    const err = await wape((o) => f.forecast(prefix(batch, o)));
    await f.close?.();
    expect(err).toBeLessThan(0.45);
  });
});

describe('hot-l1 loss weights', () => {
  it('multiply each sample weight by ln(1 + its scale), leaving the samples untouched', () => {
    const set = samples();
    const hot = hotWeighted(set);
    const stride = L * FEATURE_COUNT;
    expect(hot.x).toBe(set.x);
    for (let i = 0; i < set.count; i += 97) {
      const s = Math.exp(10 * set.x[i * stride + stride - 1]);
      expect(hot.w[i]).toBeCloseTo(set.w[i] * Math.log1p(s), 3);
    }
  });
});
