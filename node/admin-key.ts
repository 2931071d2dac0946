import { existsSync, readFileSync } from 'node:fs';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { ConfigError } from './config.ts';

/**
 * The cluster admin key (src/layout/revocation.ts): `shoal init-cluster --out <secret>` writes the private key to
 * `<secret>.admin` (for the operator's `shoal revoke`, never given to a daemon) and its id to `<secret>.admin.pub`
 * (for every daemon: `--admin-pub`, by default the file beside `--cluster-secret` when it exists).
 */
export const adminKeyFile = (secret: string) => `${secret}.admin`;
export const adminPubFile = (secret: string) => `${secret}.admin.pub`;

/** The admin key ids a daemon trusts: from `--admin-pub`, else beside the cluster secret, else none. */
export function adminIds(cfg: { adminPub?: string; clusterSecret?: string }): ReadonlySet<string> {
  const path =
    cfg.adminPub ??
    (cfg.clusterSecret !== undefined && existsSync(adminPubFile(cfg.clusterSecret))
      ? adminPubFile(cfg.clusterSecret)
      : undefined);
  if (path === undefined) return new Set();
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read admin key id file ${path}: ${(err as Error).message}`);
  }
  try {
    if (peerIdFromString(text).type !== 'Ed25519') throw new Error('not an Ed25519 key id');
  } catch (err) {
    throw new ConfigError(`${path} does not hold an Ed25519 peer id: ${(err as Error).message}`);
  }
  return new Set([text]);
}

/** The admin private key written by `shoal init-cluster` (for `shoal revoke`). */
export function loadAdminKey(path: string): PrivateKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read admin key ${path}: ${(err as Error).message}`);
  }
  try {
    return privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new ConfigError(`${path} is not an admin key written by shoal init-cluster: ${(err as Error).message}`);
  }
}
