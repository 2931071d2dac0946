import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** `shoal status [--url URL] [--admin-token-file F]`: prints a running daemon's `/admin/status`. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'admin-token-file': { type: 'string' } },
    strict: true,
  });
  const port = process.env.SHOAL_HTTP_PORT ?? '7070';
  const url = values.url ?? `http://${process.env.SHOAL_HTTP_HOST ?? '127.0.0.1'}:${port}`;
  const tokenFile = values['admin-token-file'] ?? process.env.SHOAL_ADMIN_TOKEN_FILE;
  const headers: Record<string, string> = {};
  if (tokenFile) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
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
