import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../src/pae/contract.ts';
import { createPae, type PaeSource, type SeriesBatch } from '../../src/pae/index.ts';
import { buildLinearOnnx } from '../../src/pae/onnx-build.ts';
import { sliceBatch } from '../../src/pae/onnx-forecaster.ts';
import { migrationScores } from '../../src/pae/scores.ts';
import { seasonalBatch } from './helpers.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Serves a batch in slices of `batchRows` rows (keys of one batch never straddle since rows come in pairs). */
function sourceOf(batch: SeriesBatch): PaeSource & { calls: number } {
  const src = {
    calls: 0,
    async *series({ batchRows }: { batchRows: number }) {
      src.calls++;
      const step = Math.max(2, batchRows - (batchRows % 2));
      for (let from = 0; from < batch.rows; from += step)
        yield sliceBatch(batch, from, Math.min(batch.rows, from + step));
    },
  };
  return src;
}

const batch = seasonalBatch(20, 3, 9);

describe('createPae', () => {
  it('falls back to the best baseline, logged, when no model is configured; heatmap and scores follow the forecast', async () => {
    const { logger, lines } = capture();
    const pae = createPae({ logger, source: sourceOf(batch) }, { batchRows: 6, cpuBudget: 1 });
    await pae.start();
    expect(lines.some((l) => /no model configured/.test(String(l.msg)))).toBe(true);
    await pae.runCycle();
    const info = pae.modelInfo();
    expect(info.kind).toBe('baseline');
    expect(info.rowsScored).toBe(batch.rows);
    expect(info.lastRunAt).toBeTypeOf('number');
    const heat = pae.heatmap({ limit: 5 });
    expect(heat.length).toBe(5);
    for (let i = 1; i < heat.length; i++) expect(heat[i - 1].expected).toBeGreaterThanOrEqual(heat[i].expected);
    for (const e of pae.heatmap({ limit: 100 })) {
      const p = e.zones.reduce((s, z) => s + z.probability, 0);
      expect(p).toBeCloseTo(1, 5);
      expect(e.zones.reduce((s, z) => s + z.expected, 0)).toBeCloseTo(e.expected, 3);
    }
    const eu = pae.heatmap({ zone: 'eu', limit: 100 });
    expect(eu.every((e) => e.zones.some((z) => z.zone === 'eu' && z.expected > 0))).toBe(true);
    const top = heat[0];
    const hot = top.zones[0].zone;
    const other = hot === 'eu' ? 'na' : 'eu';
    const s = pae.scores([{ key: top.key, sizeBytes: 1000, replicaZones: [other], destinations: [hot, other] }]);
    expect(s[0].destination).toBe(hot);
    expect(s[0].latencySavedMs).toBeGreaterThan(0);
    expect(s.find((x) => x.destination === other)!.riskMs).toBeGreaterThan(0);
    await pae.stop();
  });

  it('uses a valid configured model, and refuses a mismatching one with a logged fallback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-pae-'));
    const good = join(dir, 'good.onnx');
    await writeFile(good, buildLinearOnnx({ lookback: 4, w: new Float32Array(4 * FEATURE_COUNT), b: 2 }, 4, 'const2'));
    const bad = join(dir, 'bad.onnx');
    await writeFile(bad, buildLinearOnnx({ lookback: 4, w: new Float32Array(4 * FEATURE_COUNT), b: 2 }, 9, 'h9'));

    await writeFile(join(dir, 'good.eval.json'), JSON.stringify({ trace: { wape: 0.3 } }));
    const ok = createPae({ logger: capture().logger, source: sourceOf(batch) }, { modelPath: good, cpuBudget: 1 });
    await ok.start();
    await ok.runCycle();
    expect(ok.modelInfo()).toMatchObject({
      name: 'const2',
      kind: 'onnx',
      path: good,
      metrics: { trace: { wape: 0.3 } },
    });
    // y = 2 for every row → expected = 2 · scale ≥ 2 per (key, zone)
    for (const e of ok.heatmap({ limit: 1000 })) for (const z of e.zones) expect(z.expected).toBeGreaterThanOrEqual(2);
    await ok.stop();

    const { logger, lines } = capture();
    const fb = createPae({ logger, source: sourceOf(batch) }, { modelPath: bad, cpuBudget: 1 });
    await fb.start();
    expect(fb.modelInfo().kind).toBe('baseline');
    expect(fb.modelInfo().fallbackReason).toMatch(/horizon/);
    expect(lines.some((l) => l.level === 40 && /failed to load/.test(String(l.msg)))).toBe(true);
    await fb.stop();
  });

  it('runs cycles on its timer and stops cleanly', async () => {
    const src = sourceOf(batch);
    const pae = createPae({ logger: capture().logger, source: src }, { intervalMs: 5, cpuBudget: 0.5 });
    await pae.start();
    await new Promise((r) => setTimeout(r, 300));
    await pae.stop();
    const calls = src.calls;
    expect(calls).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(src.calls).toBe(calls);
  });
});

describe('migration scores', () => {
  const lat = (a: string, b: string): number => (a === b ? 0 : 80);
  it('is latency saved minus byte cost minus redundancy risk, in ms', () => {
    const [s] = migrationScores(
      [{ key: 'k', sizeBytes: 2 * 1_048_576, replicaZones: ['na'], destinations: ['eu'] }],
      () => [
        { zone: 'eu', expected: 10 },
        { zone: 'na', expected: 5 },
      ],
      lat,
      { pricePerMbMs: 50, redundancyPenaltyMs: 1000, defaultLatencyMs: 100 },
    );
    expect(s).toMatchObject({ latencySavedMs: 800, moveCostMs: 100, riskMs: 0, score: 700, expected: 15 });
  });
});
