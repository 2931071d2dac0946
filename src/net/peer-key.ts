import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { generateKey } from '@libp2p/pnet';
import { ShoalError } from '../errors/index.ts';

/** File name of the peer key inside the data directory. */
export const PEER_KEY_FILE = 'peer.key';

/** The peer key file exists but does not hold a protobuf-marshalled libp2p private key. */
export class PeerKeyInvalidError extends ShoalError {
  constructor(path: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', `${path} is not a valid libp2p private key`, options);
    this.name = 'PeerKeyInvalidError';
  }
}

/**
 * Loads the daemon's Ed25519 peer key from `<dataDir>/peer.key`, creating it (mode 0600) on first
 * start. The key is stored protobuf-marshalled (`privateKeyToProtobuf`), so the peer id is stable
 * across restarts.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ShoalError('STORE_UNWRITABLE', `cannot read ${path}`, { cause: err });
    }
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new PeerKeyInvalidError(path, { cause: err });
    }
  }
  const key = await generateKeyPair('Ed25519');
  try {
    await mkdir(dataDir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    throw new ShoalError('STORE_UNWRITABLE', `cannot write ${path}`, { cause: err });
  }
  return key;
}

/**
 * A new cluster secret in the `swarm.key` format that @libp2p/pnet accepts
 * (`/key/swarm/psk/1.0.0/\n/base16/\n<64 hex chars>`). Write it to a file for `shoal init-cluster`.
 */
export function generateClusterSecret(): Uint8Array {
  const out = new Uint8Array(95);
  generateKey(out);
  return out;
}

const SWARM_KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n([0-9a-fA-F]{64})\s*$/;

/** Validates a cluster secret's format (a swarm.key file); returns it in canonical form (LF, lowercase hex). */
export function parseClusterSecret(bytes: Uint8Array): Uint8Array {
  const match = SWARM_KEY_RE.exec(new TextDecoder().decode(bytes));
  if (match === null) {
    throw new ShoalError(
      'CONFIG_INVALID',
      'cluster secret is not a swarm.key (/key/swarm/psk/1.0.0/, /base16/, 64 hex)',
    );
  }
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${match[1].toLowerCase()}`);
}

/** The 32 key bytes of a cluster secret (any form {@link parseClusterSecret} accepts). */
export function clusterKeyOf(secret: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(parseClusterSecret(secret));
  return Buffer.from(text.slice(text.lastIndexOf('\n') + 1), 'hex');
}
