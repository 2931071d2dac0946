import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKey } from '@libp2p/pnet';
import { HELP_OPTION } from '../usage.ts';

const USAGE = `usage: shoal init-cluster --out <file> [--force]
  writes a new cluster secret (a libp2p pnet pre-shared key, mode 0600); start every daemon with --cluster-secret <file>
  --force overwrites an existing file
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
  if (existsSync(values.out) && !values.force) {
    process.stderr.write(`shoal: ${values.out} exists; refusing to overwrite a cluster secret (use --force)\n`);
    return 1;
  }
  // A pnet key file is 95 bytes: the swarm.key header and 64 hex digits.
  const key = new Uint8Array(95);
  generateKey(key);
  writeFileSync(values.out, key, { mode: 0o600 });
  process.stdout.write(
    `wrote cluster secret to ${values.out}; start every daemon with --cluster-secret ${values.out}\n`,
  );
  return 0;
}
