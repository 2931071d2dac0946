import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminTarget } from '../admin-client.ts';

/** `shoal status [--url URL] [--admin-token-file F]`: prints a running daemon's `/admin/status`. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: ADMIN_OPTIONS, strict: true });
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
