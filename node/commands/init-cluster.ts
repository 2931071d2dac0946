import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { generateKey } from '@libp2p/pnet';
import { adminKeyFile, adminPubFile } from '../admin-key.ts';
import { HELP_OPTION } from '../usage.ts';

const USAGE = `usage: shoal init-cluster --out <file> [--force]
  writes a new cluster secret (a libp2p pnet pre-shared key, mode 0600); start every daemon with --cluster-secret <file>
  and the cluster admin key: <file>.admin (private, mode 0600: keep it off the daemons, for shoal revoke) and
  <file>.admin.pub (its id: copy it beside the secret on every host; daemons read it by default)
  --force overwrites existing files
`;

/** `shoal init-cluster --out <file> [--force]`: writes a new cluster secret (libp2p pnet PSK, mode 0600). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, force: { type: 'boolean' }, ...HELP_OPTION },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.out) {
    process.stderr.write(USAGE);
    return 2;
  }
  const files = [values.out, adminKeyFile(values.out), adminPubFile(values.out)];
  const taken = files.find((f) => existsSync(f));
  if (taken !== undefined && !values.force) {
    process.stderr.write(`shoal: ${taken} exists; refusing to overwrite a cluster secret or admin key (use --force)\n`);
    return 1;
  }
  // A pnet key file is 95 bytes: the swarm.key header and 64 hex digits.
  const key = new Uint8Array(95);
  generateKey(key);
  writeFileSync(values.out, key, { mode: 0o600 });
  const admin = await generateKeyPair('Ed25519');
  const adminId = peerIdFromPrivateKey(admin).toString();
  writeFileSync(adminKeyFile(values.out), privateKeyToProtobuf(admin), { mode: 0o600 });
  writeFileSync(adminPubFile(values.out), `${adminId}\n`, { mode: 0o644 });
  process.stdout.write(
    `wrote cluster secret to ${values.out}; start every daemon with --cluster-secret ${values.out}\n` +
      `wrote the cluster admin key to ${adminKeyFile(values.out)} (keep it off the daemons) and its id ${adminId} to ${adminPubFile(values.out)}\n`,
  );
  return 0;
}
