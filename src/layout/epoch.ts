import { createHash } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { LRUCache } from 'lru-cache';
import { canonicalBytes, canonicalJson } from './canonical.ts';
import type { Epoch, EpochChange, Scope, UnsignedEpoch } from './index.ts';
import { signEd25519, signerOf, verifyEd25519 } from './signature.ts';

/** Domain separation: an epoch signature can never be replayed as a signature over anything else. */
const SIGNING_PREFIX = 'shoal/layout-epoch/v1\n';
const HEX_HASH = /^[0-9a-f]{64}$/;
const SCOPE = /^(cluster|partition:(0|[1-9][0-9]{0,6}))$/;

export const GENESIS = 'genesis';

/** Partition number of a `partition:<n>` scope, or undefined for `cluster`. */
export function partitionOfScope(scope: Scope): number | undefined {
  return scope === 'cluster' ? undefined : Number(scope.slice('partition:'.length));
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && SCOPE.test(value);
}

function unsignedOf(epoch: UnsignedEpoch): UnsignedEpoch {
  const { number, parent, scope, change, signer, ts, basis } = epoch;
  return { number, parent, scope, change, signer, ts, basis };
}

/** The bytes an epoch's signature covers: a fixed prefix plus the canonical JSON of every field but `sig`. */
export function signingBytes(epoch: UnsignedEpoch): Uint8Array {
  return new TextEncoder().encode(SIGNING_PREFIX + canonicalJson(unsignedOf(epoch)));
}

/** SHA-256 (hex) of the canonical JSON of the whole signed epoch: its identity and the next epoch's `parent`. */
export function hashEpoch(epoch: Epoch): string {
  return createHash('sha256')
    .update(canonicalBytes({ ...unsignedOf(epoch), sig: epoch.sig }))
    .digest('hex');
}

/**
 * Hashes of epochs whose signature verified in this process or that it signed itself. The hash covers
 * every field and the signature, so an epoch with a known hash is byte for byte one already checked: a
 * coordinator does not verify the epoch it just signed, and an epoch pushed twice is verified once.
 */
const verifiedHashes = new LRUCache<string, true>({ max: 16_384 });

/** Signs `fields` with an Ed25519 private key; `signer` is the key's peer id. */
export async function signEpoch(fields: Omit<UnsignedEpoch, 'signer'>, privateKey: PrivateKey): Promise<Epoch> {
  if (privateKey.type !== 'Ed25519') throw new TypeError('layout epochs are signed with Ed25519 keys only');
  const unsigned: UnsignedEpoch = { ...fields, signer: signerOf(privateKey) };
  const problem = malformed({ ...unsigned, sig: '0'.repeat(128) });
  if (problem !== undefined) throw new TypeError(`cannot sign a malformed epoch: ${problem}`);
  const epoch = { ...unsignedOf(unsigned), sig: signEd25519(privateKey, signingBytes(unsigned)) };
  verifiedHashes.set(hashEpoch(epoch), true);
  return epoch;
}

/** Whether `epoch.sig` is a valid Ed25519 signature by the key of `epoch.signer` (an Ed25519 peer id). */
export async function verifyEpochSignature(epoch: Epoch): Promise<boolean> {
  return verifyEd25519(epoch.signer, signingBytes(epoch), epoch.sig);
}

/** {@link verifyEpochSignature} for an epoch of hash `hash` (its {@link hashEpoch}), remembering a success. */
export function epochSignatureValid(epoch: Epoch, hash: string): boolean {
  if (verifiedHashes.has(hash)) return true;
  if (!verifyEd25519(epoch.signer, signingBytes(epoch), epoch.sig)) return false;
  verifiedHashes.set(hash, true);
  return true;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrArray = (v: unknown): boolean => Array.isArray(v) && v.every((s) => isStr(s) && s.length > 0);
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function malformedChange(c: EpochChange): string | undefined {
  if (c === null || typeof c !== 'object') return 'change must be an object';
  if (!isStr(c.reason)) return 'change.reason must be a string';
  if (c.membersRemoved !== undefined && !isStrArray(c.membersRemoved)) return 'membersRemoved must be ids';
  if (c.membersDown !== undefined && !isStrArray(c.membersDown)) return 'membersDown must be ids';
  if (c.membersUp !== undefined && !isStrArray(c.membersUp)) return 'membersUp must be ids';
  if (
    c.revoked !== undefined &&
    !(Array.isArray(c.revoked) && c.revoked.every((o) => o !== null && typeof o === 'object'))
  ) {
    return 'revoked must be revocation orders';
  }
  if (c.overridesRemoved !== undefined && !isStrArray(c.overridesRemoved)) return 'overridesRemoved must be keys';
  if (c.restoreOf !== undefined && !isNat(c.restoreOf)) return 'restoreOf must be an epoch number';
  if (c.wave !== undefined && !(isStr(c.wave) && c.wave.length > 0 && c.wave.length <= 64)) return 'bad wave id';
  if (c.checksums !== undefined) {
    if (c.checksums === null || typeof c.checksums !== 'object' || Array.isArray(c.checksums))
      return 'checksums must be an object';
    if (!Object.values(c.checksums).every((v) => isStr(v) && v.length <= 128))
      return 'checksums must map keys to checksums';
  }
  if (c.membersAdded !== undefined) {
    if (!Array.isArray(c.membersAdded)) return 'membersAdded must be an array';
    for (const m of c.membersAdded) {
      if (m === null || typeof m !== 'object' || !isStr(m.id) || !m.id || !isStr(m.zone) || !m.zone) {
        return 'membersAdded entries need an id and a zone';
      }
      if (m.capacity !== undefined && !(Number.isFinite(m.capacity) && m.capacity > 0)) return 'bad member capacity';
      if (m.state !== undefined && m.state !== 'up' && m.state !== 'leaving') return 'bad member state';
    }
  }
  if (c.overridesSet !== undefined) {
    if (!Array.isArray(c.overridesSet)) return 'overridesSet must be an array';
    for (const o of c.overridesSet) {
      if (o === null || typeof o !== 'object' || !isStr(o.key) || !isStrArray(o.replicas) || !o.replicas.length) {
        return 'overridesSet entries need a key and at least one replica';
      }
      if (new Set(o.replicas).size !== o.replicas.length) return `override ${o.key} lists a replica twice`;
    }
  }
  if (c.checkpoint !== undefined) {
    if (!Array.isArray(c.checkpoint)) return 'checkpoint must be an array';
    for (const h of c.checkpoint) {
      if (h === null || typeof h !== 'object' || !isScope(h.scope) || !isNat(h.number) || !isStr(h.hash)) {
        return 'checkpoint entries need scope, number and hash';
      }
    }
  }
  return undefined;
}

/** A description of what is wrong with the shape of `epoch`, or undefined when it is well-formed. */
export function malformed(epoch: Epoch): string | undefined {
  if (epoch === null || typeof epoch !== 'object') return 'epoch must be an object';
  if (!Number.isSafeInteger(epoch.number) || epoch.number < 1) return 'number must be an integer >= 1';
  if (!isScope(epoch.scope)) return `bad scope ${String(epoch.scope)}`;
  if (epoch.number === 1 ? epoch.parent !== GENESIS : !HEX_HASH.test(epoch.parent)) {
    return 'parent must be "genesis" for epoch 1, else a SHA-256 hex hash';
  }
  if (!isStr(epoch.signer) || epoch.signer.length === 0) return 'signer must be a peer id';
  if (!isNat(epoch.ts)) return 'ts must be a non-negative integer (ms)';
  if (epoch.basis !== undefined && !isNat(epoch.basis)) return 'basis must be a cluster epoch number';
  if (!isStr(epoch.sig)) return 'sig must be a hex string';
  const problem = malformedChange(epoch.change);
  if (problem !== undefined) return problem;
  try {
    canonicalJson(unsignedOf(epoch));
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
