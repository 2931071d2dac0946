/**
 * `shoal migrations [--limit <n>] [--cluster]`: the moves of a running daemon's mover (`GET /admin/migrations`),
 * or with `--cluster` those of every member (`?scope=cluster`, each with the daemon that coordinated it): those
 * in flight, then the most recent that ended. Tables by default, `--json` for the API's JSON.
 */
import type { MigrationSource } from '../../src/api/migration-routes.ts';
import type { Migration } from '../../src/dsm/index.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import {
  EXIT_CODES,
  fmtBytes,
  fmtMs,
  fmtTime,
  holders,
  limitQuery,
  parseCommand,
  print,
  runAdmin,
  shortId,
  table,
  UsageError,
} from './dsm.ts';

const USAGE = `usage:
  shoal migrations [--limit <n>]       moves in flight, then the most recent that ended (DSM, manual, rollback)
  shoal migrations --cluster [--limit <n>]
                                       the same for every member, each move with the daemon that coordinated it
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
${EXIT_CODES}
`;

/** A move of either answer: the cluster's name their coordinator. */
type Move = Migration & { coordinator?: string };
interface Answer {
  inFlight: Move[];
  history: Move[];
  daemons?: MigrationSource[];
}

const epochOf = (m: Move) => (m.epoch ? `${m.epoch.scope} #${m.epoch.number}` : '—');

/** The columns both tables start with (and the coordinator's, for the cluster's moves). */
const moveCells = (m: Move, cluster: boolean) => [
  m.key,
  m.kind,
  m.state,
  holders(m.from, m.to),
  fmtBytes(m.bytes),
  ...(cluster ? [m.coordinator === undefined ? '?' : shortId(m.coordinator)] : []),
];
const heads = (cluster: boolean) => ['key', 'kind', 'state', 'from → to', 'bytes', ...(cluster ? ['coordinator'] : [])];

function inFlightTable(ms: Move[], cluster: boolean): string {
  if (ms.length === 0) return '(none)\n';
  const t = table([...heads(cluster), 'started', 'wave', 'origin', 'reason']);
  for (const m of ms) t.push([...moveCells(m, cluster), fmtTime(m.startedAt), m.wave, m.origin, m.reason]);
  return `${t.toString()}\n`;
}

function historyTable(ms: Move[], cluster: boolean): string {
  if (ms.length === 0) return '(none)\n';
  const t = table([...heads(cluster), 'ended', 'took', 'wave', 'origin', 'epoch', 'reason']);
  for (const m of ms)
    t.push([
      ...moveCells(m, cluster),
      fmtTime(m.endedAt),
      m.endedAt === undefined ? '—' : fmtMs(m.endedAt - m.startedAt),
      m.wave,
      m.origin,
      epochOf(m),
      m.error === undefined ? m.reason : `${m.reason}; error: ${m.error}`,
    ]);
  return `${t.toString()}\n`;
}

/** `from 3 of 3 daemons`, naming those that did not answer and why. */
function sources(daemons: MigrationSource[]): string {
  const missing = daemons.filter((d) => !d.answered);
  const answered = daemons.length - missing.length;
  const why = missing.map((d) => `${d.zone}:${shortId(d.peerId)} (${d.error ?? 'no answer'})`).join(', ');
  return `cluster: moves of ${answered} of ${daemons.length} daemon(s)${missing.length ? `; missing ${why}` : ''}\n`;
}

function render(a: Answer): string {
  const cluster = a.daemons !== undefined;
  return (
    (a.daemons ? sources(a.daemons) : '') +
    `in flight (${a.inFlight.length}):\n${inFlightTable(a.inFlight, cluster)}\n` +
    `history (${a.history.length}, most recent first):\n${historyTable(a.history, cluster)}`
  );
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { limit: { type: 'string' }, cluster: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const limit = limitQuery(values.limit);
  const scope = values.cluster ? `${limit ? '&' : '?'}scope=cluster` : '';
  const answer = await adminRequest<Answer>(adminTarget(values), 'GET', `/admin/migrations${limit}${scope}`);
  return print(values.json, answer, render);
}

/** `shoal migrations`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('migrations', USAGE, () => dispatch(argv));
}
