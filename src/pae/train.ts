/**
 * Trains the learned recurrent model with @tensorflow/tfjs (pure JS CPU backend): a GRU (tanh, sigmoid gates,
 * reset before the recurrent product) over the `[L, F]` window, then Dense(1) with softplus. Loss: weighted L1 on
 * scaled targets with weight = the row's scale (= L1 on raw counts, the WAPE numerator). Adam, seeded
 * initialisers and shuffling (same seed, same data → same model), early stopping on a held-out validation split.
 * The trained weights are copied into an ONNX GRU graph (`onnx-build.ts`).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted } from '../errors/index.ts';
import { FEATURE_COUNT } from './contract.ts';
import type { GruWeights } from './onnx-build.ts';
import { mulberry32, shuffle } from './rng.ts';
import type { SampleSet } from './samples.ts';

/** Options of {@link trainGru}. */
export interface TrainOptions {
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Epochs without validation improvement before stopping (default 4). */
  patience?: number;
  seed?: number;
  /** Fraction of samples held out at random for validation when no `validation` set is given (default 0.2). */
  valFraction?: number;
  /** Validation samples (e.g. temporally later ones); default: a random split of `samples`. */
  validation?: SampleSet;
  /**
   * `l1` (default): weighted L1 with weight = the row's scale (= L1 on raw counts, the WAPE numerator).
   * `hot-l1`: that weight times ln(1 + s), so busy rows (the hot set) count more.
   */
  loss?: 'l1' | 'hot-l1';
  onEpoch?: (log: EpochLog) => void;
  onBatch?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** One epoch's losses (weighted mean absolute error, in accesses per scale unit). */
export interface EpochLog {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  best: boolean;
}

/** Result of {@link trainGru}: the best-validation weights. */
export interface TrainResult {
  weights: GruWeights;
  history: EpochLog[];
  bestValLoss: number;
  trainSamples: number;
  valSamples: number;
}

function subset(s: SampleSet, idx: number[]): { x: tf.Tensor3D; y: tf.Tensor2D; w: tf.Tensor2D } {
  const stride = s.lookback * FEATURE_COUNT;
  const x = new Float32Array(idx.length * stride);
  const y = new Float32Array(idx.length);
  const w = new Float32Array(idx.length);
  idx.forEach((i, k) => {
    x.set(s.x.subarray(i * stride, (i + 1) * stride), k * stride);
    y[k] = s.y[i];
    w[k] = s.w[i];
  });
  return {
    x: tf.tensor3d(x, [idx.length, s.lookback, FEATURE_COUNT]),
    y: tf.tensor2d(y, [idx.length, 1]),
    w: tf.tensor2d(w, [idx.length, 1]),
  };
}

/** Copy of `s` with weights multiplied by ln(1 + scale) (scale read back from the `log_scale` feature). */
export function hotWeighted(s: SampleSet): SampleSet {
  const stride = s.lookback * FEATURE_COUNT;
  const w = Float32Array.from(s.w);
  for (let i = 0; i < s.count; i++) {
    const scale = Math.exp(10 * s.x[i * stride + stride - 1]); // log_scale of the last step = ln(s) / 10
    w[i] *= Math.log1p(scale);
  }
  return { ...s, w };
}

function weightedL1(pred: tf.Tensor, y: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(tf.abs(tf.sub(pred, y)), w)), tf.sum(w)) as tf.Scalar;
}

/** Builds the tfjs model (exported for the ONNX round-trip test). */
export function buildGruModel(lookback: number, hidden: number, seed: number): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.gru({
      units: hidden,
      inputShape: [lookback, FEATURE_COUNT],
      recurrentActivation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }),
    }),
  );
  model.add(
    tf.layers.dense({
      units: 1,
      activation: 'softplus',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
    }),
  );
  return model;
}

/** Copies a tfjs model's weights into {@link GruWeights}. */
export function extractGruWeights(model: tf.Sequential, lookback: number): GruWeights {
  const [kernel, recurrent, bias, dense, denseBias] = model.getWeights().map((t) => t.dataSync() as Float32Array);
  return {
    lookback,
    hidden: Math.round(Math.sqrt(recurrent.length / 3)), // recurrent kernel is [H, 3H]
    kernel: Float32Array.from(kernel),
    recurrent: Float32Array.from(recurrent),
    bias: Float32Array.from(bias),
    dense: Float32Array.from(dense),
    denseBias: denseBias[0],
  };
}

/** Trains on `samples`; returns the weights with the best validation loss. */
export async function trainGru(input: SampleSet, o: TrainOptions = {}): Promise<TrainResult> {
  await tf.setBackend('cpu');
  const hot = o.loss === 'hot-l1';
  const samples = hot ? hotWeighted(input) : input;
  const seed = o.seed ?? 1;
  const rand = mulberry32(seed);
  const L = samples.lookback;
  const order = shuffle(
    Array.from({ length: samples.count }, (_, i) => i),
    rand,
  );
  const vs0 = o.validation && o.validation.count > 0 ? o.validation : undefined;
  const vs = vs0 && hot ? hotWeighted(vs0) : vs0;
  const nVal = vs ? 0 : Math.max(1, Math.floor(order.length * (o.valFraction ?? 0.2)));
  const trainIdx = order.slice(nVal);
  const val = vs
    ? subset(
        vs,
        Array.from({ length: vs.count }, (_, i) => i),
      )
    : subset(samples, order.slice(0, nVal));
  const valCount = vs ? vs.count : nVal;
  const model = buildGruModel(L, o.hidden ?? 24, seed);
  const optimizer = tf.train.adam(o.learningRate ?? 3e-3);
  const batchSize = o.batchSize ?? 64;
  const epochs = o.epochs ?? 30;
  const patience = o.patience ?? 4;
  const history: EpochLog[] = [];
  let best = Number.POSITIVE_INFINITY;
  let bestWeights: tf.Tensor[] = model.getWeights().map((t) => t.clone());
  let stale = 0;
  const batches = Math.ceil(trainIdx.length / batchSize);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffle(trainIdx, rand);
      let lossSum = 0;
      let wSum = 0;
      for (let b = 0; b < batches; b++) {
        throwIfAborted(o.signal);
        const part = subset(samples, trainIdx.slice(b * batchSize, (b + 1) * batchSize));
        const loss = optimizer.minimize(() => weightedL1(model.apply(part.x) as tf.Tensor, part.y, part.w), true);
        const bw = part.w.sum().dataSync()[0];
        lossSum += (loss?.dataSync()[0] ?? 0) * bw;
        wSum += bw;
        loss?.dispose();
        tf.dispose([part.x, part.y, part.w]);
        o.onBatch?.((epoch - 1) * batches + b + 1, epochs * batches);
        if ((b & 15) === 15) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const valLoss = tf.tidy(() => weightedL1(model.predict(val.x) as tf.Tensor, val.y, val.w).dataSync()[0]);
      const improved = valLoss < best - 1e-6;
      if (improved) {
        best = valLoss;
        tf.dispose(bestWeights);
        bestWeights = model.getWeights().map((t) => t.clone());
        stale = 0;
      } else stale++;
      const log = { epoch, trainLoss: lossSum / (wSum || 1), valLoss, best: improved };
      history.push(log);
      o.onEpoch?.(log);
      if (stale >= patience) break;
    }
    model.setWeights(bestWeights);
    return {
      weights: extractGruWeights(model, L),
      history,
      bestValLoss: best,
      trainSamples: trainIdx.length,
      valSamples: valCount,
    };
  } finally {
    tf.dispose(bestWeights);
    tf.dispose([val.x, val.y, val.w]);
    optimizer.dispose();
    model.dispose();
  }
}
