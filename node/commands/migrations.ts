/**
 * `shoal migrations [--limit <n>]`: the moves of a running daemon's mover (`GET /admin/migrations`): those in
 * flight, then the most recent that ended. Tables by default, `--json` for the API's JSON.
 */
import type { Migration } from '../../src/dsm/index.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import {
  fmtBytes,
  fmtMs,
  fmtTime,
  holders,
  limitQuery,
  parseCommand,
  print,
  runAdmin,
  table,
  UsageError,
} from './dsm.ts';

const USAGE = `usage:
  shoal migrations [--limit <n>]       moves in flight, then the most recent that ended (DSM, manual, rollback)
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
`;

const epochOf = (m: Migration) => (m.epoch ? `${m.epoch.scope} #${m.epoch.number}` : '—');

/** The columns both tables start with. */
const moveCells = (m: Migration) => [m.key, m.kind, m.state, holders(m.from, m.to), fmtBytes(m.bytes)];

function inFlightTable(ms: Migration[]): string {
  if (ms.length === 0) return '(none)\n';
  const t = table(['key', 'kind', 'state', 'from → to', 'bytes', 'started', 'wave', 'origin', 'reason']);
  for (const m of ms) t.push([...moveCells(m), fmtTime(m.startedAt), m.wave, m.origin, m.reason]);
  return `${t.toString()}\n`;
}

function historyTable(ms: Migration[]): string {
  if (ms.length === 0) return '(none)\n';
  const t = table(['key', 'kind', 'state', 'from → to', 'bytes', 'ended', 'took', 'wave', 'origin', 'epoch', 'reason']);
  for (const m of ms)
    t.push([
      ...moveCells(m),
      fmtTime(m.endedAt),
      m.endedAt === undefined ? '—' : fmtMs(m.endedAt - m.startedAt),
      m.wave,
      m.origin,
      epochOf(m),
      m.error === undefined ? m.reason : `${m.reason}; error: ${m.error}`,
    ]);
  return `${t.toString()}\n`;
}

const render = (a: { inFlight: Migration[]; history: Migration[] }) =>
  `in flight (${a.inFlight.length}):\n${inFlightTable(a.inFlight)}\nhistory (${a.history.length}, most recent first):\n${historyTable(a.history)}`;

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { limit: { type: 'string' } });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const answer = await adminRequest<{ inFlight: Migration[]; history: Migration[] }>(
    adminTarget(values),
    'GET',
    `/admin/migrations${limitQuery(values.limit)}`,
  );
  return print(values.json, answer, render);
}

/** `shoal migrations`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('migrations', USAGE, () => dispatch(argv));
}
