/**
 * The one inference path of learned models: an onnxruntime-node InferenceSession, validated against the
 * contract at load, run in batches of at most `maxBatchRows` rows with feature buffers reused across calls.
 * @module
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { throwIfAborted } from '../errors/index.ts';
import { FEATURE_COUNT, type ModelContract, ModelContractError, OUTPUT_NAME, validateContract } from './contract.ts';
import { allocFeatures, buildFeatures, type FeatureBuffers } from './features.ts';
import type { Forecaster, SeriesBatch } from './index.ts';
import { readOnnxMetadata } from './onnx-build.ts';

/** Options of {@link loadOnnxForecaster}. */
export interface OnnxForecasterOptions {
  /** The PAE horizon; the model's metadata must match it. */
  horizonBuckets: number;
  /** Rows per session.run call (default 4096). */
  maxBatchRows?: number;
  /** Intra-op threads of the session (default 1: the PAE shares the daemon's cores). */
  threads?: number;
  /** Overrides the name the model declares. */
  name?: string;
  signal?: AbortSignal;
}

/** A loaded ONNX forecaster; `session` and `contract` are exposed for benchmarks and diagnostics. */
export interface OnnxForecaster extends Forecaster {
  readonly session: ort.InferenceSession;
  readonly contract: ModelContract;
  /** Runs the model on pre-built features `[rows, L, F]`; returns `y` (scaled forecasts). */
  runFeatures(x: Float32Array, rows: number): Promise<Float32Array>;
}

/**
 * Loads an ONNX model (a path or its bytes), validates the contract and returns a forecaster.
 * Throws {@link ModelContractError} when the file does not parse or does not honour the contract.
 */
export async function loadOnnxForecaster(
  model: string | Uint8Array,
  options: OnnxForecasterOptions,
): Promise<OnnxForecaster> {
  const source = typeof model === 'string' ? model : 'model bytes';
  throwIfAborted(options.signal);
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model, { signal: options.signal })) : model;
  let metadata: Record<string, string>;
  let session: ort.InferenceSession;
  try {
    metadata = readOnnxMetadata(bytes);
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new ModelContractError(`${source}: not a loadable ONNX model (${(err as Error).message})`, { cause: err });
  }
  let contract: ModelContract;
  try {
    contract = validateContract(
      session.inputMetadata,
      session.outputMetadata,
      metadata,
      options.horizonBuckets,
      source,
    );
  } catch (err) {
    await session.release();
    throw err;
  }
  const maxRows = options.maxBatchRows ?? 4096;
  const L = contract.lookback;
  const H = contract.horizonBuckets;
  let buffers: FeatureBuffers = allocFeatures(Math.min(maxRows, 1024), L);

  async function runFeatures(x: Float32Array, rows: number): Promise<Float32Array> {
    const input = new ort.Tensor('float32', x.subarray(0, rows * L * FEATURE_COUNT), [rows, L, FEATURE_COUNT]);
    const out = await session.run({ x: input }, [OUTPUT_NAME]);
    return out[OUTPUT_NAME].data as Float32Array;
  }

  return {
    name: options.name ?? contract.name,
    kind: 'onnx',
    horizonBuckets: H,
    session,
    contract,
    runFeatures,
    async forecast(batch: SeriesBatch, opts?: { signal?: AbortSignal }): Promise<Float32Array> {
      const result = new Float32Array(batch.rows);
      const full = batch.rows > maxRows && !batch.zoneShare ? { ...batch, zoneShare: computeZoneShare(batch) } : batch;
      for (let from = 0; from < batch.rows; from += maxRows) {
        throwIfAborted(opts?.signal);
        const rows = Math.min(maxRows, batch.rows - from);
        const part = from === 0 && rows === batch.rows ? batch : sliceBatch(full, from, from + rows);
        if (buffers.scale.length < rows) buffers = allocFeatures(rows, L);
        buildFeatures(part, L, H, buffers);
        const y = await runFeatures(buffers.x, rows);
        for (let r = 0; r < rows; r++) result[from + r] = Math.max(0, y[r]) * buffers.scale[r];
      }
      return result;
    },
    async close() {
      await session.release();
    },
  };
}

/** Rows [from, to) of a batch as a batch sharing the typed arrays' memory. */
export function sliceBatch(batch: SeriesBatch, from: number, to: number): SeriesBatch {
  const n = batch.buckets;
  return {
    bucketMs: batch.bucketMs,
    startMs: batch.startMs,
    buckets: n,
    rows: to - from,
    keys: batch.keys.slice(from, to),
    zones: batch.zones.slice(from, to),
    reads: batch.reads.subarray(from * n, to * n),
    writes: batch.writes.subarray(from * n, to * n),
    sizeBytes: batch.sizeBytes.subarray(from, to),
    zoneShare: (batch.zoneShare ?? computeZoneShare(batch)).subarray(from, to),
    appShare: batch.appShare?.subarray(from, to),
    ageBuckets: batch.ageBuckets?.subarray(from, to),
  };
}

/** Zone share per row over the whole batch (so slicing does not split a key's zones). */
export function computeZoneShare(batch: SeriesBatch): Float32Array {
  const n = batch.buckets;
  const totals = new Float64Array(batch.rows);
  const byKey = new Map<string, number>();
  for (let r = 0; r < batch.rows; r++) {
    let t = 0;
    for (let b = 0; b < n; b++) t += batch.reads[r * n + b] + batch.writes[r * n + b];
    totals[r] = t;
    byKey.set(batch.keys[r], (byKey.get(batch.keys[r]) ?? 0) + t);
  }
  const out = new Float32Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) {
    const k = byKey.get(batch.keys[r]) ?? 0;
    out[r] = k > 0 ? totals[r] / k : 0;
  }
  return out;
}
