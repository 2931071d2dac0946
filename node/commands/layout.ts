/**
 * `shoal layout [status] | epochs | rollback`: the signed layout of a running daemon through its admin API
 * (`/admin/layout`, `/admin/layout/epochs`, `/admin/layout/rollback`). Tables by default, `--json` as the
 * API answered.
 */
import type { EpochView } from '../../src/api/layout-routes.ts';
import { type AdminTarget, adminRequest, adminTarget } from '../admin-client.ts';
import { fmtTime, parseCommand, print, runAdmin, shortId, table, UsageError } from './dsm.ts';

const COMMON = 'options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]';
const LINES: Record<string, string> = {
  status: 'shoal layout [status]                              the cluster chain head and its newest epochs',
  epochs: 'shoal layout epochs [--scope s] [--from n] [--limit n]  signed epochs (scope cluster|partition:<n>|all)',
  rollback:
    'shoal layout rollback --to-time <ms|ISO time> | --wave <id>  restore placements (pauses the DSM; moves in `shoal migrations`)',
};
const usage = (action?: string) =>
  `usage:\n${(action && LINES[action] ? [LINES[action]] : Object.values(LINES)).map((l) => `  ${l}\n`).join('')}${COMMON}\n`;

interface LayoutStatus {
  head: { scope: string; number: number; hash: string };
  epochs: Array<{ number: number; hash: string; signer: string; ts: number; reason: string; members: string[] }>;
}

function statusTable(s: LayoutStatus): string {
  const t = table(['#', 'time', 'signer', 'members', 'reason'], ['right']);
  for (const e of s.epochs) t.push([e.number, fmtTime(e.ts), shortId(e.signer), e.members.length, e.reason]);
  return `cluster head #${s.head.number} ${s.head.hash.slice(0, 16)}…\n${t.toString()}\n`;
}

/** What an epoch changed, in one line. */
function diffOf(e: EpochView): string {
  const c = e.change;
  const parts = [
    ...(c.membersAdded ?? []).map((m) => `+member ${shortId(m.id)} (${m.zone})`),
    ...(c.membersRemoved ?? []).map((id) => `-member ${shortId(id)}`),
    ...(c.overridesSet ?? []).map((o) => `${o.key} → ${o.replicas.map(shortId).join(',')}`),
    ...(c.overridesRemoved ?? []).map((k) => `${k} → ring`),
    ...(c.checkpoint?.length ? [`checkpoint of ${c.checkpoint.length} chains`] : []),
  ];
  const shown = parts.slice(0, 3).join('; ');
  return parts.length > 3 ? `${shown}; … ${parts.length - 3} more` : shown || '—';
}

function epochsTable(r: { epochs: EpochView[] }): string {
  if (r.epochs.length === 0) return '(no epochs)\n';
  const t = table(['scope', '#', 'time', 'signer', 'wave', 'change', 'reason'], ['left', 'right']);
  for (const e of r.epochs)
    t.push([e.scope, e.number, fmtTime(e.ts), shortId(e.signer), e.wave ?? '—', diffOf(e), e.reason]);
  return `${t.toString()}\n`;
}

/** `--to-time`: ms since the epoch, or an ISO 8601 time. */
function parseTime(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new UsageError(`--to-time must be ms since the epoch or an ISO time, got ${JSON.stringify(v)}`);
  return t;
}

function query(values: { scope?: string; from?: string; limit?: string }): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (k !== 'scope' && !/^[1-9]\d*$/.test(v))
      throw new UsageError(`--${k} must be a positive integer, got ${JSON.stringify(v)}`);
    q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    scope: { type: 'string' },
    from: { type: 'string' },
    limit: { type: 'string' },
    'to-time': { type: 'string' },
    wave: { type: 'string' },
  });
  const [action = 'status', ...rest] = positionals;
  if (values.help) {
    process.stdout.write(usage(positionals[0]));
    return 0;
  }
  if (!(action in LINES)) throw new UsageError(`unknown subcommand ${JSON.stringify(action)}`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const listing = values.scope !== undefined || values.from !== undefined || values.limit !== undefined;
  if (listing && action !== 'epochs') throw new UsageError('--scope, --from and --limit are for epochs only');
  const rollingBack = values['to-time'] !== undefined || values.wave !== undefined;
  if (rollingBack && action !== 'rollback') throw new UsageError('--to-time and --wave are for rollback only');
  const target: AdminTarget = adminTarget(values);
  switch (action) {
    case 'epochs': {
      const path = `/admin/layout/epochs${query({ scope: values.scope, from: values.from, limit: values.limit })}`;
      return print(values.json, await adminRequest<{ epochs: EpochView[] }>(target, 'GET', path), epochsTable);
    }
    case 'rollback': {
      if ((values['to-time'] === undefined) === (values.wave === undefined))
        throw new UsageError('rollback needs exactly one of --to-time or --wave');
      const body = values.wave !== undefined ? { wave: values.wave } : { toTime: parseTime(values['to-time']!) };
      const r = await adminRequest<{ rollbackId: string; records: number }>(target, 'POST', '/admin/layout/rollback', {
        body,
      });
      return print(
        values.json,
        r,
        (a) =>
          `rollback ${a.rollbackId}: ${a.records} record(s) move back; the DSM is paused (shoal dsm resume)\n` +
          'progress: shoal migrations\n',
      );
    }
    default:
      return print(values.json, await adminRequest<LayoutStatus>(target, 'GET', '/admin/layout'), statusTable);
  }
}

/** `shoal layout [status] | epochs | rollback`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('layout', usage(), () => dispatch(argv));
}
