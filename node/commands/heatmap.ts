/**
 * `shoal heatmap [--top n] [--zone z]`: a running daemon's forecast heatmap (`GET /admin/heatmap`): the
 * hottest records (expected accesses over the forecast horizon) × origin zones, each cell the forecast
 * probability that an access comes from that zone. A table by default, `--json` for the API's answer.
 */
import { adminRequest, adminTarget } from '../admin-client.ts';
import { EXIT_CODES, fmtTime, parseCommand, print, runAdmin, table, UsageError } from './dsm.ts';

const USAGE = `usage:
  shoal heatmap [--top 20] [--zone <zone>]   hottest records × zones: expected accesses, probability per zone
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
${EXIT_CODES}
`;

export interface Heatmap {
  records: Array<{ key: string; expected: number; zones: Array<{ zone: string; probability: number }> }>;
  lastRunAt?: number;
  nextRunAt?: number;
  /** Why the heatmap is empty, and when to look again (set only then). */
  note?: string;
}

/** Expected accesses: whole numbers from 100, one decimal from 1, two significant digits below (0.042). */
export function fmtExpected(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 1) return x.toFixed(1);
  return x > 0 ? String(Number(x.toPrecision(2))) : '0';
}

/** A probability as a whole percentage; a small one that is not zero is "<1 %", not "0 %". */
export function fmtShare(p: number): string {
  return p > 0 && p < 0.005 ? '<1 %' : `${(100 * p).toFixed(0)} %`;
}

export function render(h: Heatmap): string {
  const when = `forecast made ${fmtTime(h.lastRunAt)}, next ${fmtTime(h.nextRunAt)}`;
  if (h.records.length === 0) return `(${h.note ?? `no forecast rows yet; ${when}`})\n`;
  const zones = [...new Set(h.records.flatMap((r) => r.zones.map((z) => z.zone)))].sort();
  const t = table(['key', 'expected', ...zones], ['left', 'right', ...zones.map(() => 'right' as const)]);
  for (const r of h.records) {
    const p = new Map(r.zones.map((z) => [z.zone, z.probability]));
    t.push([r.key, fmtExpected(r.expected), ...zones.map((z) => (p.has(z) ? fmtShare(p.get(z)!) : '—'))]);
  }
  return `${h.records.length} hottest record(s) × ${zones.length} zone(s); ${when}\n${t.toString()}\n`;
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { top: { type: 'string' }, zone: { type: 'string' } });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const top = values.top ?? '20';
  if (!/^[1-9]\d*$/.test(top)) throw new UsageError(`--top must be a positive integer, got ${JSON.stringify(top)}`);
  const q = new URLSearchParams({ limit: top, ...(values.zone === undefined ? {} : { zone: values.zone }) });
  return print(values.json, await adminRequest<Heatmap>(adminTarget(values), 'GET', `/admin/heatmap?${q}`), render);
}

/** `shoal heatmap`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('heatmap', USAGE, () => dispatch(argv));
}
