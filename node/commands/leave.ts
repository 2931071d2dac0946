import { adminRequest, adminTarget } from '../admin-client.ts';
import { parseCommand, runAdmin, UsageError } from './dsm.ts';

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
  return runAdmin('leave', USAGE, async () => {
    const { values, positionals } = parseCommand(argv, { timeout: { type: 'string' } });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    const timeoutS = Number(values.timeout ?? 300);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${values.timeout}`);
    const target = adminTarget(values);
    await adminRequest(target, 'POST', '/admin/leave', { timeoutMs: 10_000 });
    process.stderr.write(`${target.url} is handing off its data and leaving...\n`);
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      try {
        await fetch(`${target.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      } catch {
        process.stderr.write('left the cluster\n');
        return 0;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    process.stderr.write('shoal: the daemon is still running after the timeout\n');
    return 1;
  });
}
