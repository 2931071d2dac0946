import { signRevocation } from '../../src/layout/index.ts';
import { adminRequest, adminTarget } from '../admin-client.ts';
import { loadAdminKey } from '../admin-key.ts';
import { parseCommand, runAdmin, UsageError } from './dsm.ts';

const USAGE = `usage: shoal revoke <peerId> --admin-key <file> [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
  revokes a member's peer key with the cluster admin key (the <secret>.admin file shoal init-cluster wrote):
  the next cluster epoch removes the member, and no daemon takes anything that key signs again (epochs,
  votes, move announcements) nor lets it connect. For a stolen key or a daemon that equivocated; a dead
  daemon whose key is safe is shoal remove'd instead. Every daemon needs the admin key's id (--admin-pub).
`;

/** `shoal revoke <peerId> --admin-key <file>`: signs a revocation order, `POST /admin/revocations`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('revoke', USAGE, async () => {
    const { values, positionals } = parseCommand(argv, { 'admin-key': { type: 'string' } });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('needs exactly one peer id');
    if (typeof values['admin-key'] !== 'string') throw new UsageError('needs --admin-key <file> (<secret>.admin)');
    const order = signRevocation(positionals[0], loadAdminKey(values['admin-key']));
    const res = await adminRequest<{ revoking: string }>(adminTarget(values), 'POST', '/admin/revocations', {
      body: order,
      timeoutMs: 15_000,
    });
    process.stdout.write(`${JSON.stringify(res)}\n`);
    process.stderr.write(`revoking ${res.revoking}: the next cluster epoch removes it (shoal layout shows it)\n`);
    return 0;
  });
}
