import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminRequest, adminTarget } from '../admin-client.ts';
import { HELP_OPTION } from '../usage.ts';
import { reportAdminError } from './dsm.ts';

const USAGE = `usage: shoal leave [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>] [--timeout <s>]
  decommissions a running daemon: it hands its data to the other members, leaves and exits;
  waits until it no longer answers (--timeout seconds, default 300)
`;

/**
 * `shoal leave [--url URL] [--admin-token-file F] [--timeout S]`: decommissions a running daemon. It
 * hands every record to the remaining members (all replicas acknowledge) and exits; this command
 * waits until it no longer answers.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...ADMIN_OPTIONS, timeout: { type: 'string' }, ...HELP_OPTION },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const target = adminTarget(values);
  const { url } = target;
  try {
    await adminRequest(target, 'POST', '/admin/leave', { timeoutMs: 10_000 });
  } catch (err) {
    // As every admin client: `shoal: <CODE>: <message>` (with a hint), or `cannot reach the daemon at …`.
    return reportAdminError(err);
  }
  process.stderr.write(`${url} is handing off its data and leaving...\n`);
  const deadline = Date.now() + Number(values.timeout ?? 300) * 1000;
  while (Date.now() < deadline) {
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    } catch {
      process.stderr.write('left the cluster\n');
      return 0;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write('shoal: the daemon is still running after the timeout\n');
  return 1;
}
