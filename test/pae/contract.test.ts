import onnxPkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_NAMES, META, ModelContractError } from '../../src/pae/contract.ts';
import { buildLinearOnnx } from '../../src/pae/onnx-build.ts';
import { loadOnnxForecaster } from '../../src/pae/onnx-forecaster.ts';

const { onnx } = onnxPkg;
const L = 6;
const linear = (meta: Record<string, string> = {}, horizon = 4): Uint8Array =>
  buildLinearOnnx({ lookback: L, w: new Float32Array(L * FEATURE_COUNT).fill(0.01), b: 0.5 }, horizon, 'lin', meta);

/** Re-encodes a valid model after `edit` mutates its decoded proto. */
function mutate(edit: (m: onnxPkg.onnx.ModelProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(linear());
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

describe('model contract', () => {
  it('accepts a model that honours it', async () => {
    const f = await loadOnnxForecaster(linear(), { horizonBuckets: 4 });
    expect(f.contract.lookback).toBe(L);
    expect(f.name).toBe('lin');
    await f.close?.();
  });

  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['garbage bytes', () => new Uint8Array([1, 2, 3, 4, 5]), /not a loadable ONNX model/],
    ['another horizon', () => linear({}, 6), /horizon_buckets is 6, the PAE horizon is 4/],
    [
      'another feature order',
      () => linear({ [META.features]: [...FEATURE_NAMES].reverse().join(',') }),
      /shoal.pae.features must be/,
    ],
    ['no contract version', () => linear({ [META.contract]: '0' }), /shoal.pae.contract must be "1"/],
    [
      'lookback metadata that disagrees with the input',
      () => linear({ [META.lookback]: '7' }),
      /axis 1 is 6 but metadata/,
    ],
    [
      'a renamed input',
      () =>
        mutate((m) => {
          m.graph!.input![0].name = 'features';
          m.graph!.node![0].input![0] = 'features';
        }),
      /exactly one input named "x"/,
    ],
    [
      'a wrong feature count',
      () =>
        mutate((m) => {
          m.graph!.input![0].type!.tensorType!.shape!.dim![2].dimValue = FEATURE_COUNT + 1;
          m.graph!.initializer![0].dims = [L * (FEATURE_COUNT + 1), 1];
          m.graph!.initializer![0].rawData = new Uint8Array(L * (FEATURE_COUNT + 1) * 4);
        }),
      /last axis must be 15 features/,
    ],
    [
      'a fixed batch size',
      () =>
        mutate((m) => {
          m.graph!.input![0].type!.tensorType!.shape!.dim![0] = onnx.TensorShapeProto.Dimension.create({ dimValue: 8 });
          m.graph!.output![0].type!.tensorType!.shape!.dim![0] = onnx.TensorShapeProto.Dimension.create({
            dimValue: 8,
          });
        }),
      /batch axis must be dynamic/,
    ],
    [
      'a renamed output',
      () =>
        mutate((m) => {
          m.graph!.output![0].name = 'out';
          m.graph!.node![3].output![0] = 'out';
        }),
      /output named "y"/,
    ],
  ];

  it.each(cases)('refuses %s with a clear error', async (_, make, message) => {
    const err = await loadOnnxForecaster(make(), { horizonBuckets: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelContractError);
    expect((err as ModelContractError).code).toBe('MODEL_INVALID');
    expect((err as Error).message).toMatch(message);
  });

  it('names the file of a model it refuses', async () => {
    await expect(loadOnnxForecaster('/nonexistent/model.onnx', { horizonBuckets: 4 })).rejects.toThrow(
      /model.onnx|ENOENT/,
    );
  });
});
