/**
 * `shoal pae <predict|train|eval> ...`: the PAE's command line. See docs/pae.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBaseline } from '../../src/pae/baselines.ts';
import { DEFAULT_HORIZON, DEFAULT_LOOKBACK } from '../../src/pae/contract.ts';
import { backtest } from '../../src/pae/eval.ts';
import { DEFAULT_MODEL_PATH, type Forecaster } from '../../src/pae/index.ts';
import { buildGruOnnx } from '../../src/pae/onnx-build.ts';
import { loadOnnxForecaster } from '../../src/pae/onnx-forecaster.ts';
import { evalMarkdown, evalSvg } from '../../src/pae/report.ts';
import { chooseBucketMs, loadTraceTable, seriesAt, type TraceTable } from '../../src/pae/trace-series.ts';
import { trainingSamples } from '../../src/pae/train-data.ts';
import { loadZoneMapping } from '../../src/stats/trace.ts';
import { progressBar } from '../progress.ts';
import { HELP_OPTION, printedHelp, renamedFlag, subUsage } from '../usage.ts';

/** The shipped model (used when --model is not given and the file exists). */
const DEFAULT_MODEL = DEFAULT_MODEL_PATH;

const BUCKET_NOTE = `      --stats-bucket-ms: the series' bucket, as shoal start's (default: chosen from the trace's span;
      --bucket-ms is its older name)
`;

const LINES: Record<string, string> = {
  predict: `  shoal pae predict --trace <csv> --at <ts_ms> [--model <file.onnx>] [--zones <mapping.json>] [--stats-bucket-ms <ms>] [--json]
${BUCKET_NOTE}`,
  train: `  shoal pae train --trace <csv> [--trace <csv> ...] --out <file.onnx> [--seed 1] [--epochs 30] [--hidden 24]
                  [--lookback 24] [--loss l1|hot-l1] [--patience 4] [--holdout 0.25] [--max-samples 20000] [--zones <mapping.json>]
                  [--stats-bucket-ms <ms>]
`,
  eval: `  shoal pae eval --trace <csv> [--model <file.onnx> ...] [--holdout 0.25] [--stats-bucket-ms <ms>] [--out-dir <dir>] [--json]
${BUCKET_NOTE}`,
};
const USAGE = subUsage(LINES);
const helped = (sub: string, values: { help?: boolean }) => printedHelp(LINES, sub, values);

async function loadTable(trace: string, zones: string | undefined): Promise<TraceTable> {
  const zoneMapper = zones ? await loadZoneMapping(zones) : undefined;
  return loadTraceTable(trace, { zoneMapper });
}

function num(v: string | undefined, name: string, dflt?: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw new UsageError(`--${name} is required`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

class UsageError extends Error {}

/** `--stats-bucket-ms`, or its older name `--bucket-ms`, in ms; undefined when neither is given. */
function bucketFlag(values: { 'stats-bucket-ms'?: string; 'bucket-ms'?: string }): number | undefined {
  const v = renamedFlag(values, 'stats-bucket-ms', 'bucket-ms');
  return v === undefined ? undefined : num(v, 'stats-bucket-ms');
}

/** Loads `--model` (or the shipped default when present); falls back to seasonal naive, said on stderr. */
async function pickForecaster(model: string | undefined, horizon: number): Promise<Forecaster> {
  const path = model ?? (existsSync(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined);
  if (path === undefined) return createBaseline('seasonal-naive', horizon);
  try {
    return await loadOnnxForecaster(path, { horizonBuckets: horizon });
  } catch (err) {
    if (model !== undefined) throw err;
    process.stderr.write(`shoal pae: default model unusable (${(err as Error).message}); using seasonal-naive\n`);
    return createBaseline('seasonal-naive', horizon);
  }
}

async function predict(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      trace: { type: 'string' },
      at: { type: 'string' },
      model: { type: 'string' },
      zones: { type: 'string' },
      'stats-bucket-ms': { type: 'string' },
      'bucket-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      ...HELP_OPTION,
    },
  });
  if (helped('predict', values)) return 0;
  if (!values.trace) throw new UsageError('--trace is required');
  const at = num(values.at, 'at');
  const horizon = DEFAULT_HORIZON;
  const table = await loadTable(values.trace, values.zones);
  const forecaster = await pickForecaster(values.model, horizon);
  const history = table.rows > 0 && table.minTs < at ? at - table.minTs : 0;
  const bucketMs = bucketFlag(values) ?? chooseBucketMs(history);
  if (!(bucketMs >= 1)) throw new UsageError('--stats-bucket-ms must be >= 1');
  const batch = seriesAt(table, at, bucketMs);
  const expected = batch.rows > 0 ? await forecaster.forecast(batch) : new Float32Array(0);
  await forecaster.close?.();
  const forecasts = batch.keys.map((key, r) => ({ key, zone: batch.zones[r], expected: expected[r] }));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ bucketMs, horizonBuckets: horizon, model: forecaster.name, forecasts })}\n`,
    );
  } else {
    process.stdout.write(`model ${forecaster.name}, bucket ${bucketMs} ms, horizon ${horizon} buckets\n`);
    const top = [...forecasts].sort((a, b) => b.expected - a.expected).slice(0, 20);
    for (const f of top) process.stdout.write(`${f.expected.toFixed(2).padStart(10)}  ${f.zone}  ${f.key}\n`);
  }
  return 0;
}

async function train(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      trace: { type: 'string', multiple: true },
      out: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      hidden: { type: 'string' },
      lookback: { type: 'string' },
      loss: { type: 'string' },
      patience: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      holdout: { type: 'string' },
      'max-samples': { type: 'string' },
      'stats-bucket-ms': { type: 'string' },
      'bucket-ms': { type: 'string' },
      zones: { type: 'string' },
      ...HELP_OPTION,
    },
  });
  if (helped('train', values)) return 0;
  if (!values.trace?.length) throw new UsageError('--trace is required');
  if (!values.out) throw new UsageError('--out is required');
  const seed = num(values.seed, 'seed', 1);
  const holdout = num(values.holdout, 'holdout', 0.25);
  const lookback = num(values.lookback, 'lookback', DEFAULT_LOOKBACK);
  if (!Number.isInteger(lookback) || lookback < 1 || lookback > 512) throw new UsageError('--lookback must be 1..512');
  const loss = values.loss ?? 'l1';
  if (loss !== 'l1' && loss !== 'hot-l1') throw new UsageError('--loss must be l1 or hot-l1');
  const tables = [];
  for (const t of values.trace) tables.push(await loadTable(t, values.zones));
  const { train: samples, validation } = trainingSamples(tables, {
    lookback,
    horizon: DEFAULT_HORIZON,
    holdout,
    maxSamples: num(values['max-samples'], 'max-samples', 20_000),
    seed,
    bucketMs: bucketFlag(values),
  });
  process.stderr.write(
    `shoal pae train: ${samples.count} training and ${validation.count} later validation samples from ${values.trace.length} trace(s), seed ${seed}\n`,
  );
  const bar = progressBar('train [{bar}] {percentage}% | {value}/{total} batches');
  let started = false;
  const started0 = Date.now();
  const { trainGru } = await import('../../src/pae/train.ts'); // tfjs loads only for training
  const result = await trainGru(samples, {
    validation,
    seed,
    loss,
    batchSize: num(values['batch-size'], 'batch-size', 64),
    learningRate: num(values.lr, 'lr', 3e-3),
    epochs: num(values.epochs, 'epochs', 30),
    hidden: num(values.hidden, 'hidden', 24),
    patience: num(values.patience, 'patience', 4),
    onBatch(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    onEpoch(log) {
      bar.stop();
      started = false;
      process.stderr.write(
        `epoch ${log.epoch}: train loss ${log.trainLoss.toFixed(4)}, validation loss ${log.valLoss.toFixed(4)}${log.best ? ' (best)' : ''}\n`,
      );
    },
  });
  bar.stop();
  const bytes = buildGruOnnx(result.weights, DEFAULT_HORIZON, basename(values.out).replace(/\.onnx$/, ''), {
    'shoal.pae.trained_on': values.trace.map((t) => basename(t)).join(','),
    'shoal.pae.seed': String(seed),
    'shoal.pae.loss': loss,
    'shoal.pae.holdout': String(holdout),
    'shoal.pae.best_val_loss': result.bestValLoss.toFixed(6),
  });
  await writeFile(values.out, bytes);
  process.stderr.write(
    `shoal pae train: best validation loss ${result.bestValLoss.toFixed(4)} after ${result.history.length} epochs, ` +
      `${((Date.now() - started0) / 1000).toFixed(0)} s; wrote ${values.out} (${bytes.length} bytes)\n`,
  );
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      trace: { type: 'string' },
      model: { type: 'string', multiple: true },
      holdout: { type: 'string' },
      'stats-bucket-ms': { type: 'string' },
      'bucket-ms': { type: 'string' },
      'out-dir': { type: 'string' },
      zones: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...HELP_OPTION,
    },
  });
  if (helped('eval', values)) return 0;
  if (!values.trace) throw new UsageError('--trace is required');
  const horizon = DEFAULT_HORIZON;
  const table = await loadTable(values.trace, values.zones);
  const paths = values.model ?? (existsSync(DEFAULT_MODEL) ? [DEFAULT_MODEL] : []);
  const models: Forecaster[] = [];
  for (const p of paths)
    models.push(await loadOnnxForecaster(p, { horizonBuckets: horizon, name: basename(p).replace(/\.onnx$/, '') }));
  const report = await backtest(table, {
    horizonBuckets: horizon,
    holdout: num(values.holdout, 'holdout', 0.25),
    bucketMs: bucketFlag(values),
    models,
    onOrigin: values.json ? undefined : (d, t) => process.stderr.write(`origin ${d}/${t}\r`),
  });
  for (const m of models) await m.close?.();
  const title = `shoal pae eval: ${basename(values.trace)}`;
  const outDir = values['out-dir'] ?? 'pae-eval';
  await mkdir(outDir, { recursive: true });
  const stem = basename(values.trace).replace(/\.csv(\.gz)?$/, '');
  await writeFile(join(outDir, `${stem}.md`), evalMarkdown(report, title));
  await writeFile(join(outDir, `${stem}.svg`), evalSvg(report, title));
  if (values.json) {
    const out = {
      models: report.models.map((m) => ({
        name: m.name,
        wape: m.wape,
        mae: m.mae,
        precisionAtK: m.precisionAtK,
        calibrationError: m.calibrationError,
      })),
      best: report.best,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`${evalMarkdown(report, title)}\nwrote ${join(outDir, `${stem}.md`)} and ${stem}.svg\n`);
  }
  return 0;
}

/** Entry point: argv = the words after `pae`. Returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'predict') return await predict(rest);
    if (sub === 'train') return await train(rest);
    if (sub === 'eval') return await evaluate(rest);
    if (sub === 'help' || sub === '--help' || sub === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(sub === undefined ? USAGE : `shoal pae: unknown command "${sub}"\n${USAGE}`);
    return 2;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (
      err instanceof UsageError ||
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
    ) {
      process.stderr.write(`shoal pae: ${e.message}\n${USAGE}`);
      return 2;
    }
    const prefix = e.code && !e.message.startsWith(e.code) ? `${e.code}: ` : '';
    process.stderr.write(`shoal pae ${sub}: ${prefix}${e.message}\n`);
    return 1;
  }
}
