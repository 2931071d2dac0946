/** Markdown table and SVG charts (vega-lite compiled to vega, rendered headlessly to SVG) of `bench:locality`. */
import { writeFile } from 'node:fs/promises';

/** The few vega / vega-lite calls used here (imported at run time, so a missing package only skips the charts). */
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface Vega {
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
  parse(spec: unknown): unknown;
}
interface VegaLite {
  compile(spec: unknown): { spec: unknown };
}
const VEGA = 'vega';
const VEGA_LITE = 'vega-lite';

import type { SimResult } from '../../src/sim/index.ts';

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);
const num = (x: number, d = 1) => x.toFixed(d);

export function markdown(results: readonly SimResult[], skipped: readonly { trace: string; reason: string }[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(
      `### ${r.trace}, scenario ${r.scenario} (${r.scenarioLabel})`,
      '',
      `${r.rows} requests, ${r.records} records, ${r.daemons} daemons, bucket ${r.bucketMs / 1000} s, horizon ${r.horizonMs / 60000} min, forecaster ${r.forecaster}`,
      '',
      '| policy | mean ms | p99 ms | remote | MiB moved | moves | moves/h | good moves | good demand moves | moved back | cost $ |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const p of r.policies) {
      lines.push(
        `| ${p.policy} | ${num(p.meanLatencyMs)} | ${num(p.p99LatencyMs)} | ${pct(p.remoteShare)} | ${num(p.bytesMoved / 2 ** 20, 2)} | ${p.recordsMoved} | ${num(p.movesPerHour)} | ${pct(p.goodMoveRatio)} | ${pct(p.goodDemandMoveRatio)} | ${pct(p.movedBackShare)} | ${p.cost.toExponential(3)} |`,
      );
    }
    lines.push('');
  }
  if (skipped.length > 0) {
    lines.push('Skipped traces:', '');
    for (const s of skipped) lines.push(`- ${s.trace}: ${s.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}

async function chart(
  vega: Vega,
  vl: VegaLite,
  results: readonly SimResult[],
  field: 'remoteShare' | 'meanLatencyMs',
  title: string,
  path: string,
): Promise<void> {
  const values = results.flatMap((r) =>
    r.policies.map((p) => ({
      run: `${r.trace.replace(/\.csv(\.gz)?$/, '')} ${r.scenario}`,
      policy: p.policy,
      v: p[field],
    })),
  );
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    mark: 'bar',
    width: 140,
    height: 160,
    encoding: {
      column: { field: 'run', type: 'nominal', title: null },
      x: { field: 'policy', type: 'nominal', sort: null, title: null },
      y: { field: 'v', type: 'quantitative', title: field === 'remoteShare' ? 'remote share' : 'mean latency (ms)' },
      color: { field: 'policy', type: 'nominal', sort: null, legend: null },
    },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  await writeFile(path, await view.toSVG());
  await view.finalize();
}

/** Writes the two SVG charts; returns their paths, or [] (with a note on stderr) when vega is not installed. */
export async function charts(results: readonly SimResult[], dir: string): Promise<string[]> {
  let vega: Vega;
  let vl: VegaLite;
  try {
    vega = (await import(VEGA)) as Vega;
    vl = (await import(VEGA_LITE)) as VegaLite;
  } catch (err) {
    console.error(`charts skipped: vega / vega-lite not installed (${(err as Error).message})`);
    return [];
  }
  const a = `${dir}/locality-remote.svg`;
  const b = `${dir}/locality-latency.svg`;
  await chart(vega, vl, results, 'remoteShare', 'Share of requests served remotely, per policy', a);
  await chart(vega, vl, results, 'meanLatencyMs', 'Mean request latency (ms), per policy', b);
  return [a, b];
}
