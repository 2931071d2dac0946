/**
 * `shoal peers`: the cluster's members as a running daemon sees them (`GET /admin/peers`), with the cluster
 * epoch it holds (`GET /admin/status`). A table by default, `--json` for `{ epoch, members }`.
 */
import type { AdminStatus } from '../../src/api/index.ts';
import type { Member } from '../../src/net/membership.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import { EXIT_CODES, fmtBytes, fmtMs, parseCommand, print, runAdmin, table, UsageError } from './dsm.ts';

const USAGE = `usage:
  shoal peers                          cluster members: peer id, zone, state, address, store, used / limit, RTT
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
${EXIT_CODES}
`;

interface Peers {
  /** The cluster layout epoch the daemon holds (members are not versioned one by one). */
  epoch: number;
  members: PeerRow[];
}

/** A member as `/admin/peers` names it: `state` is its health (`status`, the older name, holds the same). */
type PeerRow = Member & { state: Member['status'] };

const usage = (m: Member) =>
  m.usedBytes === undefined && m.limitBytes === undefined
    ? '—'
    : `${m.usedBytes === undefined ? '?' : fmtBytes(m.usedBytes)} / ${m.limitBytes === undefined ? 'no limit' : fmtBytes(m.limitBytes)}`;

/** Its API URL, and its admin listener when it has one of its own (`--admin-port`). */
const address = (m: PeerRow) =>
  m.adminUrl === undefined || m.adminUrl === m.apiUrl ? m.apiUrl : `${m.apiUrl} (admin ${m.adminUrl})`;

const state = (m: PeerRow) => `${m.state}${m.leaving ? ', leaving' : ''}${m.self ? ' (this daemon)' : ''}`;

function render(p: Peers): string {
  const up = p.members.filter((m) => m.state === 'up').length;
  const t = table(['peer id', 'zone', 'state', 'address', 'store', 'used / limit', 'rtt']);
  const sorted = [...p.members].sort((a, b) => a.zone.localeCompare(b.zone) || a.peerId.localeCompare(b.peerId));
  for (const m of sorted)
    t.push([
      m.peerId,
      m.zone,
      state(m),
      address(m),
      m.storeKind,
      usage(m),
      m.rttMs === undefined ? '—' : fmtMs(m.rttMs),
    ]);
  return `${p.members.length} member(s), ${up} up; cluster epoch #${p.epoch}\n${t.toString()}\n`;
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const target = adminTarget(values);
  const [status, peers] = await Promise.all([
    adminRequest<AdminStatus>(target, 'GET', '/admin/status'),
    adminRequest<{ members: PeerRow[] }>(target, 'GET', '/admin/peers'),
  ]);
  return print(values.json, { epoch: status.epoch, members: peers.members }, render);
}

/** `shoal peers`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('peers', USAGE, () => dispatch(argv));
}
