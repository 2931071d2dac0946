/**
 * Renders an {@link EvalReport} as a markdown table and an SVG bar chart (WAPE and precision@k per model).
 * Pure: data in, strings out.
 * @module
 */
import type { EvalReport } from './eval.ts';

const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

/** Markdown table of the report, best model marked. */
export function evalMarkdown(report: EvalReport, title: string): string {
  const ewma = report.models.find((m) => m.name === 'ewma');
  const lines = [
    `### ${title}`,
    '',
    `${report.origins.length} rolling origins, horizon ${report.horizonBuckets} buckets of ` +
      `${[...new Set(report.bucketMs)].map((b) => `${b / 1000} s`).join(' / ')}, ${report.pairsScored} (key, zone) forecasts scored.`,
    '',
    '| model | kind | WAPE | vs EWMA | MAE | precision@1% | calibration error |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const m of report.models) {
    const rel = ewma && ewma.wape > 0 ? `${fmt((m.wape / ewma.wape - 1) * 100, 1)}%` : 'n/a';
    const name = m.name === report.best ? `**${m.name}** (best)` : m.name;
    lines.push(
      `| ${name} | ${m.kind} | ${fmt(m.wape)} | ${rel} | ${fmt(m.mae, 4)} | ${fmt(m.precisionAtK)} | ${fmt(m.calibrationError)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** SVG chart: per model, a WAPE bar and a precision@k bar (both on a 0..max(1, WAPE) scale). */
export function evalSvg(report: EvalReport, title: string): string {
  const models = report.models;
  const w = 160 + models.length * 90;
  const h = 300;
  const top = 40;
  const base = 240;
  const max = Math.max(1, ...models.map((m) => (Number.isFinite(m.wape) ? m.wape : 0)));
  const y = (v: number): number => Math.round((base - ((Number.isFinite(v) ? v : 0) / max) * (base - top)) * 10) / 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="20" font-size="14">${esc(title)}</text>`,
    `<line x1="60" y1="${base}" x2="${w - 10}" y2="${base}" stroke="#333"/>`,
    `<line x1="60" y1="${top}" x2="60" y2="${base}" stroke="#333"/>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(`<text x="55" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  models.forEach((m, i) => {
    const x = 80 + i * 90;
    parts.push(`<rect x="${x}" y="${y(m.wape)}" width="30" height="${(base - y(m.wape)).toFixed(1)}" fill="#d9534f"/>`);
    parts.push(
      `<rect x="${x + 32}" y="${y(m.precisionAtK)}" width="30" height="${(base - y(m.precisionAtK)).toFixed(1)}" fill="#337ab7"/>`,
    );
    parts.push(`<text x="${x + 31}" y="${base + 15}" text-anchor="middle">${esc(m.name)}</text>`);
    parts.push(`<text x="${x + 15}" y="${(y(m.wape) - 3).toFixed(1)}" text-anchor="middle">${fmt(m.wape, 2)}</text>`);
    parts.push(
      `<text x="${x + 47}" y="${(y(m.precisionAtK) - 3).toFixed(1)}" text-anchor="middle">${fmt(m.precisionAtK, 2)}</text>`,
    );
  });
  parts.push(
    `<rect x="70" y="${h - 25}" width="10" height="10" fill="#d9534f"/><text x="85" y="${h - 16}">WAPE (lower is better)</text>`,
  );
  parts.push(
    `<rect x="230" y="${h - 25}" width="10" height="10" fill="#337ab7"/><text x="245" y="${h - 16}">precision@1% (higher is better)</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
