import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../src/pae/contract.ts';
import { linearPredict } from '../../src/pae/linear.ts';
import { buildGruOnnx, buildLinearOnnx } from '../../src/pae/onnx-build.ts';
import { loadOnnxForecaster } from '../../src/pae/onnx-forecaster.ts';
import { mulberry32 } from '../../src/pae/rng.ts';
import { buildGruModel, extractGruWeights } from '../../src/pae/train.ts';

function randomInputs(rows: number, lookback: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: rows * lookback * FEATURE_COUNT }, () => rand() * 4 - 1);
}

describe('ONNX export round-trip', () => {
  it('the GRU graph outputs what the tfjs model outputs', async () => {
    await tf.setBackend('cpu');
    const L = 10;
    const H = 12;
    const model = buildGruModel(L, H, 7);
    // non-trivial biases so the bias mapping is exercised too
    const rand = mulberry32(3);
    model.setWeights(
      model.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from(w.dataSync(), (v) => v + (rand() - 0.5) * 0.4),
          w.shape,
        ),
      ),
    );
    const rows = 37;
    const x = randomInputs(rows, L, 11);
    const expected = (model.predict(tf.tensor3d(x, [rows, L, FEATURE_COUNT])) as tf.Tensor).dataSync();
    const f = await loadOnnxForecaster(buildGruOnnx(extractGruWeights(model, L), 4), { horizonBuckets: 4 });
    const got = await f.runFeatures(x, rows);
    await f.close?.();
    expect(got.length).toBe(rows);
    let maxErr = 0;
    for (let i = 0; i < rows; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - expected[i]));
    expect(maxErr).toBeLessThan(1e-4);
    // the outputs vary across inputs, so equality is not trivial
    expect(Math.max(...got) - Math.min(...got)).toBeGreaterThan(0.01);
    model.dispose();
  });

  it('the linear graph outputs what linearPredict computes', async () => {
    const L = 8;
    const rand = mulberry32(5);
    const m = { lookback: L, w: Float32Array.from({ length: L * FEATURE_COUNT }, () => rand() - 0.5), b: 0.3 };
    const rows = 50;
    const x = randomInputs(rows, L, 9);
    const f = await loadOnnxForecaster(buildLinearOnnx(m, 4), { horizonBuckets: 4 });
    const got = await f.runFeatures(x, rows);
    await f.close?.();
    const want = linearPredict(m, x, rows);
    for (let i = 0; i < rows; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    expect(want.some((v) => v === 0) && want.some((v) => v > 0)).toBe(true); // relu clamps some, not all
  });
});
