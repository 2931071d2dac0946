/**
 * Predictive Access Engine (PAE): forecasts, per (record, zone), the accesses of the next horizon, and turns
 * them into a heatmap and migration scores for the dsm planner.
 *
 * Pipeline: {@link SeriesBatch} (per (key, zone) bucket counts from `src/stats`, or from a trace for the CLI) →
 * features (`features.ts`) → a {@link Forecaster} (baselines in TypeScript; learned models, GRU and the
 * SPAR-style linear model, through one onnxruntime-node path, see `contract.ts`) → heatmap and scores
 * (`scores.ts`). {@link createPae} runs that periodically, off the request path, under a CPU budget.
 *
 * Units: counts are accesses; `expected` is accesses over the horizon `[t, t + bucketMs * horizonBuckets)`;
 * migration scores are milliseconds of client latency saved over the horizon, net of costs (see `scores.ts`).
 * @module
 */
import type { Logger } from 'pino';
import type { SeriesBatch } from '../stats/index.ts';
import type { AccuracyOptions } from './accuracy.ts';
import type { LatencyMatrix, MigrationCandidate, MigrationScore, ScoreOptions, ZoneForecast } from './scores.ts';

export { type AccuracyOptions, DEFAULT_ACCURACY, ForecastAccuracy } from './accuracy.ts';
export { BASELINES, createBaseline } from './baselines.ts';
export type { ModelContract } from './contract.ts';
export {
  DEFAULT_HORIZON,
  DEFAULT_LOOKBACK,
  FEATURE_NAMES,
  ModelContractError,
  validateContract,
} from './contract.ts';
export { createEnsemble, type EnsembleOptions } from './ensemble.ts';
export {
  createZoneRtt,
  LatencyMatrixError,
  loadLatencyMatrix,
  parseLatencyMatrix,
  type RttMember,
  type ZoneRtt,
  type ZoneRttComponents,
} from './latency.ts';
export { loadOnnxForecaster, type OnnxForecaster, type OnnxForecasterOptions } from './onnx-forecaster.ts';
export type { LatencyMatrix, MigrationCandidate, MigrationScore, ScoreOptions, ZoneForecast } from './scores.ts';
export { DEFAULT_SCORE_OPTIONS, heatmapEntry, latencyResolver, migrationScores } from './scores.ts';

/** The PAE input is the statistics module's series batch (see its TSDoc): the PAE imports it, never the reverse. */
export type { SeriesBatch };

/** Forecasts expected accesses per row over the next `horizonBuckets` buckets. */
export interface Forecaster {
  /** Stable name, e.g. `ewma`, `seasonal-naive`, `spar`, or the ONNX model's name. */
  readonly name: string;
  readonly kind: 'baseline' | 'onnx';
  readonly horizonBuckets: number;
  /** Batch in, batch out: `result[r]` = expected accesses (reads + writes) of row r over the horizon, >= 0. */
  forecast(batch: SeriesBatch, options?: { signal?: AbortSignal }): Promise<Float32Array>;
  /** Releases native resources (ONNX sessions). */
  close?(): Promise<void>;
}

/** Where the PAE reads series from on each cycle (implemented by `src/stats`). */
export interface PaeSource {
  /** All tracked (key, zone) series, in batches (rows of one key in one batch), one time grid per cycle. */
  series(options: { signal?: AbortSignal; batchRows: number }): AsyncIterable<SeriesBatch>;
}

/** Narrow dependencies of the PAE. */
export interface PaeComponents {
  logger: Logger;
  /** Milliseconds clock; default Date.now. */
  clock?: () => number;
  /** Series provider; without one, cycles are empty. */
  source?: PaeSource;
  /** Measured zone→zone RTT in ms (e.g. from libp2p ping); used when `options.latencyMs` lacks a pair. */
  rttMs?: (from: string, to: string) => number | undefined;
  /** Zones `rttMs` has a measurement for, shown by modelInfo() (see `latency.ts` `createZoneRtt`). */
  rttZones?: () => string[];
  /** A forecaster to use instead of the configured model or fallback (the simulator's, a test's). */
  forecaster?: Forecaster;
}

/** Options of {@link createPae}. Every field has a default. */
export interface PaeOptions {
  /** ONNX model honouring the contract; unset or failing to load → the best baseline (logged). */
  modelPath?: string;
  /**
   * Eval metrics of the configured model, reported by modelInfo(); default: the JSON file beside the model
   * (`<name>.eval.json`) when present.
   */
  modelMetrics?: Record<string, unknown>;
  /** Baseline used when no model loads: default `seasonal-naive`, the best baseline on the shared traces. */
  fallback?: 'ewma' | 'seasonal-naive';
  /** Horizon in buckets (default 4). */
  horizonBuckets?: number;
  /** Pause from the end of one cycle to the start of the next, ms (default 60 000). */
  intervalMs?: number;
  /** Rows per batch (default 4096). */
  batchRows?: number;
  /** Max fraction of wall time a cycle may keep the event loop busy, 0 < b <= 1 (default 0.25). */
  cpuBudget?: number;
  /** Configured zone→zone latency, ms: `latencyMs[from][to]`. */
  latencyMs?: LatencyMatrix;
  /** Score costs (price per MB moved, redundancy penalty); see `scores.ts`. */
  score?: Partial<ScoreOptions>;
  /** How forecast accuracy is measured and how many keys keep a history; see `accuracy.ts`. */
  accuracy?: AccuracyOptions;
}

/** One heatmap row: where the next access of `key` comes from, and how many are expected. */
export interface HeatmapEntry {
  key: string;
  /** Expected accesses over the horizon, all zones. */
  expected: number;
  /** Per zone: probability that the next access comes from the zone, and expected accesses from it. */
  zones: Array<{ zone: string; probability: number; expected: number }>;
}

/** What `GET /admin/pae/model` shows. */
export interface ModelInfo {
  name: string;
  kind: 'baseline' | 'onnx';
  path?: string;
  /** Why the configured model is not used (load or contract failure). */
  fallbackReason?: string;
  metrics?: Record<string, unknown>;
  /** How long loading the configured model took (ms), failed loads too; absent without a model file. */
  loadMs?: number;
  horizonBuckets: number;
  bucketMs?: number;
  lastRunAt?: number;
  /** When the next cycle starts (ms since the epoch); undefined while one runs or the engine is stopped. */
  nextRunAt?: number;
  lastRunMs?: number;
  /** Cycles completed since the engine started. */
  runs: number;
  rowsScored: number;
  /** Latency sources of migration scores: a configured matrix, zones with a measured RTT, the fallback. */
  latency: { configured: boolean; measuredZones: string[]; defaultMs: number };
  /** Measured forecast accuracy: per origin zone (see {@link Pae.zoneAccuracy}), windows scored, keys with a history. */
  accuracy: { zones: Record<string, number>; windows: number; keys: number };
}

/** The running engine. */
export interface Pae {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs one full cycle now (also what the timer calls). */
  runCycle(options?: { signal?: AbortSignal }): Promise<void>;
  /** Hottest records first; `zone` keeps only records with accesses expected from it. */
  heatmap(query?: { limit?: number; zone?: string }): HeatmapEntry[];
  /** Migration scores of candidates from the last cycle's forecast; best first. */
  scores(candidates: MigrationCandidate[]): MigrationScore[];
  modelInfo(): ModelInfo;
  /**
   * The last cycle's forecast of `key`: expected accesses per origin zone over the horizon (the window of
   * {@link horizonMs} that starts where the cycle's series ended), or undefined when it was not forecast. O(1).
   */
  forecastOf(key: string): ZoneForecast | undefined;
  /** Length of the forecast window: bucketMs × horizonBuckets of the last cycle (undefined before one ran). */
  horizonMs(): number | undefined;
  /**
   * Measured accuracy of `key`'s recent forecasts in [0, 1]: 1 − WAPE of its per-zone forecasts against what
   * was then observed, over its last 8 scored windows (the denominator floored at 10 accesses), clamped;
   * undefined with fewer than 3 scored windows or under 10 accesses forecast and observed (see
   * `accuracy.ts` for the rule and its options). The dsm's hybrid policy weighs the forecast by it and the
   * observation by its complement. At most `accuracy.maxKeys` keys (default 20 000) keep a history.
   */
  accuracy(key: string): number | undefined;
  /** The same rule per origin zone over every key's forecasts; zones without enough evidence are absent. */
  zoneAccuracy(): Record<string, number>;
}

export { createPae } from './engine.ts';

/** Path of the shipped default model (`models/default.onnx`); the daemon passes it as `modelPath`. */
export const DEFAULT_MODEL_PATH: string = new URL('../../models/default.onnx', import.meta.url).pathname;
