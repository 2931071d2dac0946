/**
 * `shoal dsm status|plan|pause|resume|policy <p>`: the Dynamic Sharding Manager of a running daemon, through
 * its admin API (`/admin/dsm*`). Human tables by default (cli-table3), `--json` for the API's JSON as it came.
 * The table helpers here are shared with `shoal migrations`.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import type { CycleReport, DsmStatus, Plan, PlannedMove } from '../../src/dsm/index.ts';
import {
  ADMIN_OPTIONS,
  AdminRefusal,
  type AdminTarget,
  AdminUnreachable,
  adminRequest,
  adminTarget,
} from '../admin-client.ts';

const COMMON = 'options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]';
const LINES: Record<string, string> = {
  status: 'shoal dsm status                     policy, limits, pause state, last cycle',
  plan: 'shoal dsm plan [--limit <n>]         dry run: the moves a cycle would make now (moves nothing)',
  pause: 'shoal dsm pause [--cluster]          no new cycles (moves in flight finish); --cluster: on every daemon',
  resume: 'shoal dsm resume [--cluster]         resume a paused DSM; --cluster: on every daemon',
  policy: 'shoal dsm policy <p> [--cluster]     set the planning policy: off, reactive, proactive or hybrid',
};
const usage = (action?: string) =>
  `usage:\n${(action && LINES[action] ? [LINES[action]] : Object.values(LINES)).map((l) => `  ${l}\n`).join('')}${COMMON}\n`;

/** Bad arguments: the command prints its usage and exits 2. */
export class UsageError extends Error {}

/** A table with no colours (output is read by people and by grep alike). */
export function table(head?: string[], colAligns?: Array<'left' | 'right'>): Table.Table {
  return new Table({
    ...(head ? { head } : {}),
    ...(colAligns ? { colAligns } : {}),
    style: { head: [], border: [], compact: true },
  });
}

/** `12D3KooW…x7Yq9a`: peer ids share their prefix, so the tail tells them apart. */
export const shortId = (id: string) => (id.length > 12 ? `…${id.slice(-6)}` : id);
export const holders = (from: readonly string[], to: readonly string[]) =>
  `${from.map(shortId).join(',')} → ${to.map(shortId).join(',')}`;

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

export const fmtTime = (ts: number | null | undefined) => (ts == null ? '—' : new Date(ts).toISOString());

const fmtSkips = (counts: Readonly<Record<string, number | undefined>>) =>
  Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ') || '—';

function statusTable(s: DsmStatus): string {
  const t = table();
  const c: CycleReport | null = s.lastCycle;
  t.push(
    { policy: s.policy },
    { paused: s.paused ? 'yes' : 'no' },
    { interval: fmtMs(s.intervalMs) },
    { survive: s.survive },
    { threshold: `${s.thresholdMs} ms` },
    { 'max moves': `${s.maxMoves} per cycle` },
    { 'max bandwidth': `${s.maxMbps} MB/s` },
    { cooldown: fmtMs(s.cooldownMs) },
    { 'partitions planned': s.partitionsPlanned },
    { 'overrides held': s.overridesHeld },
    { 'next cycle': fmtTime(s.nextCycleAt) },
  );
  if (c === null) t.push({ 'last cycle': 'none yet' });
  else
    t.push(
      { 'last cycle': `${fmtTime(c.startedAt)} (${c.policy}, ${fmtMs(c.durationMs)})` },
      { considered: c.considered },
      { planned: c.planned },
      { wave: c.wave ?? '—' },
      { 'done / failed': `${c.done} / ${c.failed}` },
      { skipped: fmtSkips(c.skipCounts) },
      ...(c.error === undefined ? [] : [{ error: c.error }]),
    );
  return `${t.toString()}\n`;
}

const moveRow = (m: PlannedMove) => [
  m.key,
  m.kind,
  holders(m.from, m.to),
  Math.round(m.gainMs),
  fmtBytes(m.bytes),
  m.reason,
];

function planTables(p: Plan): string {
  const head = `${p.moves.length} move(s) planned, ${p.considered} record(s) considered; skipped: ${fmtSkips(p.skipCounts)}\n`;
  if (p.moves.length === 0) return `${head}(no moves)\n`;
  const t = table(
    ['key', 'kind', 'from → to', 'gain ms', 'bytes', 'reason'],
    ['left', 'left', 'left', 'right', 'right'],
  );
  for (const m of p.moves) t.push(moveRow(m));
  return `${head}${t.toString()}\n`;
}

/** Parses `argv` with the admin options, `--json`, `--help`/`-h` and `extra`; refusals become UsageError. */
export function parseCommand<E extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], extra: E) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...ADMIN_OPTIONS,
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...extra,
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--limit`: a positive integer (the daemon checks its upper bound). */
export function limitQuery(v: string | undefined): string {
  if (v === undefined) return '';
  if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(v)}`);
  return `?limit=${v}`;
}

/** The exit codes of every admin client command, for its usage text. */
export const EXIT_CODES =
  'exit codes: 0 done; 1 the daemon refused (prints shoal: <CODE>: <message>, e.g. UNAUTHORIZED) or cannot be reached; 2 usage error or unreadable token file';

/** What to do about the refusals a wrong `--url` or token gives. */
const REFUSAL_HINTS: Record<string, string> = {
  UNAUTHORIZED: 'shoal: give the admin token: --admin-token-file <file> or SHOAL_ADMIN_TOKEN_FILE\n',
  FORBIDDEN: 'shoal: this daemon has no admin token and answers its admin API on loopback only\n',
  ROUTE_NOT_FOUND:
    "shoal: is --url the daemon's admin listener? With --admin-port the data listener has no admin API\n",
  MEMBER_UP: 'shoal: stop it with shoal leave --url <its URL>, or remove a daemon you know is gone with --force\n',
};

/**
 * Runs one admin command: usage errors print the usage and give 2; the daemon's refusals print
 * `shoal: <CODE>: <message>` and give 1, as does no answer at all.
 */
export async function runAdmin(name: string, usageText: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`shoal ${name}: ${err.message}\n\n${usageText}`);
      return 2;
    }
    return reportAdminError(err);
  }
}

/**
 * Prints a refusal (`shoal: <CODE>: <message>` and a hint for a wrong `--url` or token) or no answer at all
 * (`shoal: cannot reach the daemon at …`) and returns exit code 1; rethrows anything else.
 */
export function reportAdminError(err: unknown): number {
  if (err instanceof AdminRefusal) {
    process.stderr.write(`shoal: ${err.code}: ${err.message}\n${REFUSAL_HINTS[err.code] ?? ''}`);
    return 1;
  }
  if (err instanceof AdminUnreachable) {
    process.stderr.write(`shoal: ${err.message}\n`);
    return 1;
  }
  throw err;
}

type ControlAnswer = DsmStatus & { cluster?: Array<{ peerId: string; ok: boolean; error?: string }> };

/** With `--cluster`: how many members took the change, and which did not. */
function members(a: ControlAnswer): string {
  if (a.cluster === undefined) return '';
  const failed = a.cluster.filter((m) => !m.ok);
  const took = `here and on ${a.cluster.length - failed.length} of ${a.cluster.length} other daemons`;
  return failed.length === 0
    ? ` ${took}`
    : ` ${took} (not on ${failed.map((m) => `${m.peerId}: ${m.error}`).join('; ')})`;
}

/** Prints the answer: as JSON with `--json`, else as `human` renders it. */
export function print<T>(json: boolean, answer: T, human: (a: T) => string): number {
  process.stdout.write(json ? `${JSON.stringify(answer, null, 2)}\n` : human(answer));
  return 0;
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { limit: { type: 'string' }, cluster: { type: 'boolean' } });
  const [action, ...args] = positionals;
  if (values.help) {
    process.stdout.write(usage(action));
    return 0;
  }
  if (action === undefined) throw new UsageError('missing subcommand');
  if (!(action in LINES)) throw new UsageError(`unknown subcommand ${JSON.stringify(action)}`);
  const wanted = action === 'policy' ? 1 : 0;
  if (action === 'policy' && args.length === 0)
    throw new UsageError('policy needs one of off, reactive, proactive, hybrid');
  if (args.length > wanted) throw new UsageError(`unexpected arguments: ${args.slice(wanted).join(' ')}`);
  if (values.limit !== undefined && action !== 'plan') throw new UsageError('--limit is for plan only');
  if (values.cluster && !['pause', 'resume', 'policy'].includes(action)) {
    throw new UsageError('--cluster is for pause, resume and policy');
  }
  const scope = values.cluster ? '?scope=cluster' : '';
  const target: AdminTarget = adminTarget(values);
  switch (action) {
    case 'plan':
      return print(
        values.json,
        await adminRequest<Plan>(target, 'GET', `/admin/dsm/plan${limitQuery(values.limit)}`),
        planTables,
      );
    case 'pause':
    case 'resume': {
      const s = await adminRequest<ControlAnswer>(target, 'POST', `/admin/dsm/${action}${scope}`);
      return print(
        values.json,
        s,
        (a) => `DSM ${action === 'pause' ? 'paused' : 'resumed'}${members(a)}.\n${statusTable(a)}`,
      );
    }
    case 'policy': {
      const s = await adminRequest<ControlAnswer>(target, 'PUT', `/admin/dsm/policy${scope}`, {
        body: { policy: args[0] },
      });
      return print(values.json, s, (a) => `DSM policy set to ${a.policy}${members(a)}.\n${statusTable(a)}`);
    }
    default:
      return print(values.json, await adminRequest<DsmStatus>(target, 'GET', '/admin/dsm'), statusTable);
  }
}

/** `shoal dsm <status|plan|pause|resume|policy>`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('dsm', usage(), () => dispatch(argv));
}
