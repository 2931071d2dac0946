/**
 * `shoal stats top` against a running daemon (`GET /admin/stats/top`): its hottest records, cluster-wide
 * (default) or its own accesses only. A table by default, `--json` for the API's answer.
 */
import { parseWindow } from '../../src/api/stats-routes.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import { renamedFlag } from '../usage.ts';
import { EXIT_CODES, parseCommand, print, runAdmin, table, UsageError } from './dsm.ts';

export const TOP_CLIENT_USAGE = `  shoal stats top [--zone <zone>] [--window 1h] [--limit 10] [--scope cluster|local] [--json]
                  [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
      the hottest records of a running daemon (cluster-wide, or --scope local: its own accesses)
  shoal stats top --data-dir <dir> [--zone <zone>] [--window 1h] [--limit 10] [--at <ts_ms>] [--json]
      offline: the hottest records of a stopped daemon's persisted stats (or of \`stats import\`)
      --window: as the API's window= (90s, 15m, 1h, 7d, or milliseconds); --window-ms <ms> is its older name
  ${EXIT_CODES}
`;

interface Top {
  records: Array<{ key: string; reads: number; writes: number; total: number; zone?: string }>;
}

const positive = (v: string | undefined, name: string) => {
  if (v !== undefined && !/^[1-9]\d*$/.test(v))
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
};

/**
 * `--window` (a duration as the API's `window=`: 90s, 15m, 1h, 7d, or plain ms) or its older name `--window-ms`,
 * in ms; undefined when neither is given.
 */
export function windowFlag(values: { window?: string; 'window-ms'?: string }): number | undefined {
  const w = renamedFlag(values, 'window', 'window-ms');
  let ms: number | undefined;
  try {
    ms = parseWindow(w);
  } catch {
    ms = Number.NaN;
  }
  if (ms !== undefined && !(ms >= 1))
    throw new UsageError(
      `--window must be a duration like 90s, 15m, 1h or 7d (or milliseconds), got ${JSON.stringify(w)}`,
    );
  return ms;
}

/** The client mode of `shoal stats top`; `argv` are the words after `top`. */
export async function topFromDaemon(argv: string[]): Promise<number> {
  return runAdmin('stats', `usage:\n${TOP_CLIENT_USAGE}`, async () => {
    const { values, positionals } = parseCommand(argv, {
      zone: { type: 'string' },
      window: { type: 'string' },
      'window-ms': { type: 'string' },
      limit: { type: 'string' },
      scope: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(`usage:\n${TOP_CLIENT_USAGE}`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    if (values.scope !== undefined && values.scope !== 'cluster' && values.scope !== 'local')
      throw new UsageError(`--scope must be cluster or local, got ${JSON.stringify(values.scope)}`);
    const windowMs = windowFlag(values) ?? 3_600_000;
    const q = new URLSearchParams({ window: String(windowMs), limit: positive(values.limit, 'limit') ?? '10' });
    if (values.zone !== undefined) q.set('zone', values.zone);
    if (values.scope !== undefined) q.set('scope', values.scope);
    const answer = await adminRequest<Top>(adminTarget(values), 'GET', `/admin/stats/top?${q}`);
    return print(values.json, answer, (a) => {
      const what = `hottest records${values.zone ? ` from ${values.zone}` : ''} in the last ${fmtWindow(windowMs)} (${values.scope ?? 'cluster'})`;
      if (a.records.length === 0) return `${what}:\n  (no accesses in the window)\n`;
      const t = table(['key', 'total', 'reads', 'writes'], ['left', 'right', 'right', 'right']);
      for (const r of a.records) t.push([r.key, r.total, r.reads, r.writes]);
      return `${what}:\n${t.toString()}\n`;
    });
  });
}

/** 3600000 → "1 h", 900000 → "15 min", 90000 → "90 s", else ms. */
export function fmtWindow(ms: number): string {
  for (const [unit, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= n && ms % n === 0) return `${ms / n} ${unit}`;
  return `${ms} ms`;
}
