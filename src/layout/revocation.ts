/**
 * Revocation of a member's key by the cluster's admin key (#16). `shoal init-cluster` writes an Ed25519 admin key
 * beside the cluster secret (`<secret>.admin`, kept by the operator) and its public id (`<secret>.admin.pub`, given
 * to every daemon with `--admin-pub`). An operator revokes a peer key with `shoal revoke <peerId>`: the CLI signs
 * a {@link RevocationOrder} with the admin key; the sequencer puts it into the next cluster epoch (co-signed by a
 * majority like every cluster epoch), which removes the member; from then on nothing that key signs is taken
 * (cluster and partition epochs, co-signatures, move announcements) and the net refuses it for good.
 *
 * Only the admin key can revoke, and the order names the key and when it was signed: a member cannot revoke
 * another, and an order cannot be replayed into another cluster's chain without that chain's admin key.
 *
 * @packageDocumentation
 */
import type { PrivateKey } from '@libp2p/interface';
import { signEd25519, signerOf, verifyEd25519 } from './signature.ts';

/** An admin's order to revoke peer key `id`, signed at `at` (ms) by admin key `admin`. */
export interface RevocationOrder {
  readonly id: string;
  readonly at: number;
  readonly admin: string;
  /** Ed25519 signature by `admin`, hex. */
  readonly sig: string;
}

const PREFIX = 'shoal/revoke/v1\n';
// JSON of three fixed fields is canonical: one byte string per order.
const bytes = (id: string, at: number, admin: string) =>
  new TextEncoder().encode(PREFIX + JSON.stringify([id, at, admin]));

/** Signs an order to revoke `id` with the admin key. */
export function signRevocation(id: string, adminKey: PrivateKey, at = Date.now()): RevocationOrder {
  const admin = signerOf(adminKey);
  return { id, at, admin, sig: signEd25519(adminKey, bytes(id, at, admin)) };
}

/** Why `order` is not a valid revocation by one of `admins` (undefined: it is). */
export function revocationProblem(order: unknown, admins: ReadonlySet<string>): string | undefined {
  const o = order as RevocationOrder;
  if (o === null || typeof o !== 'object' || typeof o.id !== 'string' || !o.id) return 'malformed revocation order';
  if (!Number.isSafeInteger(o.at) || typeof o.admin !== 'string' || typeof o.sig !== 'string') {
    return 'malformed revocation order';
  }
  if (admins.size === 0) return 'this daemon knows no admin key (--admin-pub)';
  if (!admins.has(o.admin)) return `revocation signed by ${o.admin}, not an admin key of this cluster`;
  if (!verifyEd25519(o.admin, bytes(o.id, o.at, o.admin), o.sig)) return 'revocation signature does not verify';
  return undefined;
}
