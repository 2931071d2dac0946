/**
 * The running PAE: a timer starts a cycle `intervalMs` after the previous one ended; a cycle pulls all tracked
 * series from the source in batches, forecasts each batch, and swaps in the new forecast when complete (readers
 * never see a half cycle). Off the request path: after each batch it yields the event loop through a timer that
 * sleeps long enough to keep busy time under `cpuBudget` of wall time (busy b → sleep b · (1/budget − 1)).
 *
 * Forecaster choice at start(): the configured ONNX model, validated against the contract; if none is configured
 * or it fails to load, the fallback baseline (default `spar`, refitted once per cycle on the cycle's first batch
 * since it was the best baseline in the shared-trace evals; seasonal naive until enough history), logged.
 *
 * Accuracy: each completed cycle's forecast is remembered for its window; later cycles' series, once they
 * cover the closed window, score it against what was observed there (`accuracy.ts`), which gives
 * `accuracy(key)` and `zoneAccuracy()`.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShoalError, throwIfAborted } from '../errors/index.ts';
import { ForecastAccuracy } from './accuracy.ts';
import { createBaseline } from './baselines.ts';
import { DEFAULT_HORIZON, DEFAULT_LOOKBACK } from './contract.ts';
import type { Forecaster, HeatmapEntry, ModelInfo, Pae, PaeComponents, PaeOptions, SeriesBatch } from './index.ts';
import { fitSparForecaster } from './linear.ts';
import { loadOnnxForecaster } from './onnx-forecaster.ts';
import { DEFAULT_SCORE_OPTIONS, heatmapEntry, latencyResolver, migrationScores, type ZoneForecast } from './scores.ts';

/** Reads `<model>.eval.json` beside a model, if any. */
async function readMetrics(modelPath: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(modelPath.replace(/\.onnx$/, '.eval.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

type Forecast = Map<string, Array<{ zone: string; expected: number }>>;

/** Creates the engine; nothing runs until start(). */
export function createPae(components: PaeComponents, options: PaeOptions = {}): Pae {
  const log = components.logger;
  const clock = components.clock ?? Date.now;
  const horizon = options.horizonBuckets ?? DEFAULT_HORIZON;
  const intervalMs = options.intervalMs ?? 60_000;
  const batchRows = options.batchRows ?? 4096;
  const budget = Math.min(1, Math.max(0.01, options.cpuBudget ?? 0.25));
  const fallbackName = options.fallback ?? 'spar';
  const scoreOptions = { ...DEFAULT_SCORE_OPTIONS, ...options.score };
  const latency = latencyResolver(options.latencyMs, components.rttMs, scoreOptions.defaultLatencyMs);
  let model: Forecaster | undefined;
  let runs = 0;
  let info: Omit<ModelInfo, 'latency' | 'accuracy' | 'runs'> = {
    name: fallbackName,
    kind: 'baseline',
    horizonBuckets: horizon,
    rowsScored: 0,
  };
  let forecast: Forecast = new Map();
  let lastHorizonMs: number | undefined;
  const accuracy = new ForecastAccuracy(options.accuracy);
  let timer: NodeJS.Timeout | undefined;
  let nextRunAt: number | undefined;
  let running: Promise<void> | undefined;
  let controller: AbortController | undefined;

  async function resolveModel(): Promise<void> {
    if (!options.modelPath) {
      log.info({ fallback: fallbackName }, 'pae: no model configured, using the best baseline');
      return;
    }
    const t0 = performance.now();
    try {
      model = await loadOnnxForecaster(options.modelPath, { horizonBuckets: horizon });
      const metrics = options.modelMetrics ?? (await readMetrics(options.modelPath));
      info = {
        name: model.name,
        kind: 'onnx',
        path: options.modelPath,
        metrics,
        horizonBuckets: horizon,
        rowsScored: 0,
        loadMs: performance.now() - t0,
      };
      log.info({ model: model.name, path: options.modelPath, ms: Math.round(info.loadMs ?? 0) }, 'pae: model loaded');
    } catch (err) {
      const reason = (err as Error).message;
      info = { ...info, path: options.modelPath, fallbackReason: reason, loadMs: performance.now() - t0 };
      log.warn(
        { err, path: options.modelPath, fallback: fallbackName },
        'pae: model failed to load, using the best baseline',
      );
    }
  }

  /** Per-cycle forecaster: the model, or the fallback (SPAR refitted on the first batch). */
  async function cycleForecaster(first: SeriesBatch): Promise<{ f: Forecaster; owned: boolean }> {
    if (components.forecaster) return { f: components.forecaster, owned: false };
    if (model) return { f: model, owned: false };
    if (fallbackName === 'spar') {
      const spar = await fitSparForecaster(first, {
        lookback: DEFAULT_LOOKBACK,
        horizonBuckets: horizon,
        maxSamples: 5000,
      });
      if (spar) return { f: spar, owned: true };
    }
    return { f: createBaseline(fallbackName === 'ewma' ? 'ewma' : 'seasonal-naive', horizon), owned: false };
  }

  async function runCycle(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const source = components.source;
    if (!source) return;
    const started = clock();
    const t0 = performance.now();
    const next: Forecast = new Map();
    let rows = 0;
    let bucketMs: number | undefined;
    let current: { f: Forecaster; owned: boolean } | undefined;
    /** Where this cycle's series start and its forecast window starts (one grid per cycle). */
    let gridStartMs: number | undefined;
    let windowStartMs: number | undefined;
    let done = false;
    try {
      for await (const batch of source.series({ signal: opts.signal, batchRows })) {
        throwIfAborted(opts.signal);
        const b0 = performance.now();
        gridStartMs ??= batch.startMs;
        windowStartMs ??= batch.startMs + batch.buckets * batch.bucketMs;
        accuracy.observe(batch);
        current ??= await cycleForecaster(batch);
        const expected = await current.f.forecast(batch, { signal: opts.signal });
        for (let r = 0; r < batch.rows; r++) {
          let zones = next.get(batch.keys[r]);
          if (!zones) {
            zones = [];
            next.set(batch.keys[r], zones);
          }
          zones.push({ zone: batch.zones[r], expected: expected[r] });
        }
        rows += batch.rows;
        bucketMs = batch.bucketMs;
        const busy = performance.now() - b0;
        await sleep(Math.max(0, busy * (1 / budget - 1)), undefined, { signal: opts.signal });
      }
      done = true;
    } finally {
      if (!done) accuracy.abortCycle();
      if (current?.owned) await current.f.close?.();
    }
    accuracy.endCycle(gridStartMs);
    const horizonBuckets = current?.f.horizonBuckets ?? horizon;
    if (bucketMs !== undefined && windowStartMs !== undefined) {
      accuracy.remember(windowStartMs, bucketMs, horizonBuckets, next);
    }
    lastHorizonMs = bucketMs === undefined ? undefined : bucketMs * horizonBuckets;
    forecast = next;
    const name = current?.f.name ?? info.name;
    info = {
      ...info,
      name: model ? info.name : name,
      bucketMs,
      lastRunAt: started,
      lastRunMs: performance.now() - t0,
      rowsScored: rows,
    };
    runs++;
    log.debug({ rows, ms: info.lastRunMs, model: name }, 'pae: cycle done');
  }

  function schedule(): void {
    nextRunAt = clock() + intervalMs;
    timer = setTimeout(() => {
      controller = new AbortController();
      running = runCycle({ signal: controller.signal })
        .catch((err: unknown) => {
          if (!(err instanceof ShoalError && err.code === 'ABORTED') && (err as Error).name !== 'AbortError') {
            log.error({ err }, 'pae: cycle failed');
          }
        })
        .finally(() => {
          running = undefined;
          if (timer !== undefined) schedule();
        });
    }, intervalMs);
    timer.unref();
  }

  return {
    async start() {
      if (timer !== undefined) return;
      await resolveModel();
      schedule();
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      controller?.abort();
      await running;
      await model?.close?.();
      model = undefined;
    },
    runCycle,
    heatmap(query = {}) {
      const limit = Math.max(0, Math.min(query.limit ?? 100, 10_000));
      const entries: HeatmapEntry[] = [];
      for (const [key, zones] of forecast) {
        if (query.zone !== undefined && !zones.some((z) => z.zone === query.zone && z.expected > 0)) continue;
        entries.push(heatmapEntry(key, zones));
      }
      if (query.zone !== undefined) {
        const z = query.zone;
        const of = (e: HeatmapEntry): number => e.zones.find((x) => x.zone === z)?.expected ?? 0;
        entries.sort((a, b) => of(b) - of(a));
      } else entries.sort((a, b) => b.expected - a.expected);
      return entries.slice(0, limit);
    },
    scores(candidates) {
      return migrationScores(candidates, (key): ZoneForecast | undefined => forecast.get(key), latency, scoreOptions);
    },
    modelInfo() {
      const latency = {
        configured: Object.keys(options.latencyMs ?? {}).length > 0,
        measuredZones: components.rttZones?.() ?? [],
        defaultMs: scoreOptions.defaultLatencyMs,
      };
      const acc = { zones: accuracy.zoneAccuracy(), windows: accuracy.windows, keys: accuracy.keys };
      // While a cycle runs, the next one is scheduled only once it ends.
      const next = timer !== undefined && running === undefined ? nextRunAt : undefined;
      return { ...info, nextRunAt: next, runs, latency, accuracy: acc };
    },
    forecastOf: (key) => forecast.get(key),
    horizonMs: () => lastHorizonMs,
    accuracy: (key) => accuracy.accuracy(key),
    zoneAccuracy: () => accuracy.zoneAccuracy(),
  };
}
