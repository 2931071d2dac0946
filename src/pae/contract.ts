/**
 * The ONNX model contract of the PAE. Any ONNX file that honours it can be dropped in (`--model`,
 * `pae.modelPath`); {@link validateContract} checks it at load time and refuses a mismatching model.
 *
 * - one input named `x`, `float32`, shape `[N, L, F]`: N dynamic (batch), L = lookback buckets (fixed,
 *   the model chooses, 1..512), F = {@link FEATURE_NAMES}.length features in exactly that order (see
 *   `features.ts` for their definitions);
 * - one output named `y`, `float32`, shape `[N, 1]`: the forecast total accesses (reads + writes) of the row over
 *   the next H buckets, divided by the row's scale `s` (so expected = y * s; negative outputs count as 0);
 * - metadata properties: `shoal.pae.contract` = `1`, `shoal.pae.features` = the comma-joined feature names,
 *   `shoal.pae.horizon_buckets` = H (must equal the PAE's horizon), `shoal.pae.lookback` = L.
 *
 * @module
 */
import { ShoalError } from '../errors/index.ts';

/** Feature order of the model input's last axis. Changing it is a contract change (bump the version). */
export const FEATURE_NAMES = [
  'reads',
  'writes',
  'seasonal',
  'has_season',
  'long_mean',
  'tod_sin',
  'tod_cos',
  'dow_sin',
  'dow_cos',
  'write_ratio',
  'zone_share',
  'app_share',
  'log_size',
  'log_age',
  'log_scale',
] as const;

export const FEATURE_COUNT = FEATURE_NAMES.length;
export const CONTRACT_VERSION = '1';
export const INPUT_NAME = 'x';
export const OUTPUT_NAME = 'y';
/** Default lookback (buckets of history the model reads). */
export const DEFAULT_LOOKBACK = 24;
/** Default horizon (buckets forecast). */
export const DEFAULT_HORIZON = 4;

export const META = {
  contract: 'shoal.pae.contract',
  features: 'shoal.pae.features',
  horizon: 'shoal.pae.horizon_buckets',
  lookback: 'shoal.pae.lookback',
  name: 'shoal.pae.name',
  trainedOn: 'shoal.pae.trained_on',
} as const;

/** An ONNX model does not honour the contract (code MODEL_INVALID). */
export class ModelContractError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('MODEL_INVALID', message, options);
    this.name = 'ModelContractError';
  }
}

/** What a validated model declares. */
export interface ModelContract {
  lookback: number;
  horizonBuckets: number;
  name: string;
  metadata: Record<string, string>;
}

/** Shape/type view of one model value, as onnxruntime reports it. */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

/**
 * Checks a model's inputs, outputs and metadata against the contract; returns what it declares or throws
 * {@link ModelContractError} naming the first mismatch. `expectedHorizon` is the PAE's horizon.
 */
export function validateContract(
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  metadata: Record<string, string>,
  expectedHorizon: number,
  source = 'model',
): ModelContract {
  const fail = (msg: string): never => {
    throw new ModelContractError(`${source}: ${msg}`);
  };
  if (inputs.length !== 1 || inputs[0].name !== INPUT_NAME) {
    fail(`expected exactly one input named "${INPUT_NAME}", got [${inputs.map((i) => i.name).join(', ')}]`);
  }
  if (outputs.length < 1 || !outputs.some((o) => o.name === OUTPUT_NAME)) {
    fail(`expected an output named "${OUTPUT_NAME}", got [${outputs.map((o) => o.name).join(', ')}]`);
  }
  const x = inputs[0];
  const y = outputs.find((o) => o.name === OUTPUT_NAME)!;
  if (!x.isTensor || x.type !== 'float32') fail(`input "x" must be a float32 tensor, got ${x.type ?? 'non-tensor'}`);
  if (!y.isTensor || y.type !== 'float32') fail(`output "y" must be a float32 tensor, got ${y.type ?? 'non-tensor'}`);
  const xs = x.shape ?? [];
  if (xs.length !== 3) fail(`input "x" must have rank 3 [N, L, F], got [${xs.join(', ')}]`);
  if (typeof xs[0] === 'number' && xs[0] !== -1) fail(`input "x" batch axis must be dynamic, got ${xs[0]}`);
  if (xs[2] !== FEATURE_COUNT) fail(`input "x" last axis must be ${FEATURE_COUNT} features, got ${xs[2]}`);
  const ys = y.shape ?? [];
  if (ys.length !== 2 || ys[1] !== 1) fail(`output "y" must have shape [N, 1], got [${ys.join(', ')}]`);
  if (metadata[META.contract] !== CONTRACT_VERSION) {
    fail(`metadata ${META.contract} must be "${CONTRACT_VERSION}", got ${JSON.stringify(metadata[META.contract])}`);
  }
  const features = FEATURE_NAMES.join(',');
  if (metadata[META.features] !== features) {
    fail(`metadata ${META.features} must be "${features}", got ${JSON.stringify(metadata[META.features])}`);
  }
  const lookback = Number(metadata[META.lookback]);
  if (!Number.isInteger(lookback) || lookback < 1 || lookback > 512) fail(`metadata ${META.lookback} must be 1..512`);
  if (typeof xs[1] === 'number' && xs[1] !== lookback) {
    fail(`input "x" axis 1 is ${xs[1]} but metadata ${META.lookback} says ${lookback}`);
  }
  const horizonBuckets = Number(metadata[META.horizon]);
  if (horizonBuckets !== expectedHorizon) {
    fail(`metadata ${META.horizon} is ${metadata[META.horizon]}, the PAE horizon is ${expectedHorizon} buckets`);
  }
  return { lookback, horizonBuckets, name: metadata[META.name] ?? source, metadata };
}
