import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `shoal leave [--url URL] [--admin-token-file F] [--timeout S]`: decommissions a running daemon. It
 * hands every record to the remaining members (all replicas acknowledge) and exits; this command
 * waits until it no longer answers.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'admin-token-file': { type: 'string' }, timeout: { type: 'string' } },
    strict: true,
  });
  const url =
    values.url ?? `http://${process.env.SHOAL_HTTP_HOST ?? '127.0.0.1'}:${process.env.SHOAL_HTTP_PORT ?? '7070'}`;
  const tokenFile = values['admin-token-file'] ?? process.env.SHOAL_ADMIN_TOKEN_FILE;
  const headers: Record<string, string> = {};
  if (tokenFile) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
  const res = await fetch(`${url}/admin/leave`, { method: 'POST', headers, signal: AbortSignal.timeout(10_000) }).catch(
    (err: Error) => err,
  );
  if (res instanceof Error || res.status !== 202) {
    process.stderr.write(
      `shoal: leave refused by ${url}: ${res instanceof Error ? res.message : `${res.status} ${await res.text()}`}\n`,
    );
    return 1;
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
