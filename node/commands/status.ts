import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminTarget } from '../admin-client.ts';
import { HELP_OPTION } from '../usage.ts';

const USAGE = `usage: shoal status [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
  prints a running daemon's GET /admin/status (peer id, multiaddrs, zone, store, epoch, peers, ready)
`;

/** `shoal status [--url URL] [--admin-token-file F]`: prints a running daemon's `/admin/status`. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...ADMIN_OPTIONS, ...HELP_OPTION },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { url, headers } = adminTarget(values);
  let res: Response;
  try {
    res = await fetch(`${url}/admin/status`, { headers, signal: AbortSignal.timeout(5000) });
  } catch (err) {
    process.stderr.write(`shoal: no daemon answers at ${url}: ${(err as Error).message}\n`);
    return 1;
  }
  const body = await res.text();
  process.stdout.write(`${body}\n`);
  return res.ok ? 0 : 1;
}
