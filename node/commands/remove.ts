import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminRequest, adminTarget } from '../admin-client.ts';
import { HELP_OPTION } from '../usage.ts';
import { reportAdminError } from './dsm.ts';

const USAGE = `usage: shoal remove <peerId> [--force] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
  removes a dead member from the cluster for good (as nodetool removenode): every daemon drops it and
  re-replicates its share onto the others. <peerId> may be a unique prefix or suffix (as the logs print it).
  Refuses a member that is up or suspect (a live daemon should shoal leave) unless --force, and the daemon
  at --url itself. A removed daemon rejoins only with a fresh data directory.
`;

/** `shoal remove <peerId> [--force]`: `POST /admin/members/<peerId>/remove` on a running daemon. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...ADMIN_OPTIONS, force: { type: 'boolean', default: false }, ...HELP_OPTION },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === '') {
    process.stderr.write(`shoal remove: needs exactly one peer id\n\n${USAGE}`);
    return 2;
  }
  const target = adminTarget(values);
  try {
    const res = await adminRequest<{ removed: string; zone: string; status: string }>(
      target,
      'POST',
      `/admin/members/${encodeURIComponent(positionals[0])}/remove`,
      { body: { force: values.force }, timeoutMs: 15_000 },
    );
    process.stdout.write(`${JSON.stringify(res)}\n`);
    process.stderr.write(
      `removed ${res.removed} (zone ${res.zone}, was ${res.status}); its share is re-replicated in the background (GET /admin/ring)\n`,
    );
    return 0;
  } catch (err) {
    return reportAdminError(err);
  }
}
