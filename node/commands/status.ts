/**
 * `shoal status`: a running daemon's `GET /admin/status` (who it is, where it listens, its epoch and the
 * peers it sees up). A table by default, `--json` for the API's answer as it came.
 */
import type { AdminStatus } from '../../src/api/index.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import { EXIT_CODES, fmtMs, parseCommand, print, runAdmin, shortId, table, UsageError } from './dsm.ts';

const USAGE = `usage:
  shoal status                         this daemon: peer id, zone, store, version, uptime, epoch, peers up, addresses
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
${EXIT_CODES}
`;

function render(s: AdminStatus): string {
  const t = table();
  t.push(
    { 'peer id': s.peerId },
    { zone: s.zone },
    { store: s.store },
    { version: s.version },
    { ready: s.ready ? 'yes' : 'no (starting)' },
    { uptime: fmtMs(s.uptimeMs) },
    { 'cluster epoch': `#${s.epoch}` },
    { 'peers up': s.peers.length === 0 ? '0' : `${s.peers.length}: ${s.peers.map(shortId).join(', ')}` },
    { 'data API': s.httpUrl },
    { 'admin API': s.adminUrl ?? s.httpUrl },
    // One address a line: `--join` takes any one of them.
    { multiaddrs: s.multiaddrs.length === 0 ? '— (net not started yet)' : s.multiaddrs.join('\n') },
  );
  return `${t.toString()}\n`;
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const status = await adminRequest<AdminStatus>(adminTarget(values), 'GET', '/admin/status', { timeoutMs: 5000 });
  return print(values.json, status, render);
}

/** `shoal status [--json] [--url URL] [--admin-token-file F]`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('status', USAGE, () => dispatch(argv));
}
