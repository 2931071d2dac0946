import type { PrivateKey } from '@libp2p/interface';
import { signEd25519, signerOf, verifyEd25519 } from '../layout/signature.ts';

/** One record a receipt vouches for: the key and the version and checksum its signer holds (null: no copy). */
export type ReceiptItem = readonly [key: string, version: string | null, checksum: string | null];

/**
 * What a new holder signs after a wave copied records to it: the versions and checksums it now holds.
 * An old holder drops its copy only against receipts of every new holder (and the committed epoch that
 * names them), so nothing is ever deleted on an unverified claim. One signature covers a whole batch.
 */
export interface Receipt {
  /** Peer id (Ed25519) of the holder that signed. */
  readonly signer: string;
  readonly items: readonly ReceiptItem[];
  /** Ed25519 signature, hex. */
  readonly sig: string;
}

/** Domain separation: a receipt signature can never pass for an epoch's, or the other way round. */
const PREFIX = 'shoal/receipt/v1\n';
const enc = new TextEncoder();

function signingBytes(signer: string, items: readonly ReceiptItem[]): Uint8Array {
  // JSON of strings and nulls in fixed positions is canonical: one byte string per receipt.
  return enc.encode(PREFIX + JSON.stringify([signer, items]));
}

/** Signs `items` with this daemon's peer key. */
export async function signReceipt(items: readonly ReceiptItem[], key: PrivateKey): Promise<Receipt> {
  const signer = signerOf(key);
  return { signer, items, sig: signEd25519(key, signingBytes(signer, items)) };
}

/** True when `r` is well-formed and signed by the Ed25519 key of `r.signer`. */
export async function verifyReceipt(r: Receipt): Promise<boolean> {
  if (typeof r?.signer !== 'string' || !Array.isArray(r.items) || !r.items.every(isItem)) return false;
  return verifyEd25519(r.signer, signingBytes(r.signer, r.items), r.sig);
}

const strOrNull = (x: unknown) => x === null || typeof x === 'string';
function isItem(x: unknown): x is ReceiptItem {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === 'string' && strOrNull(x[1]) && strOrNull(x[2]);
}

/** The items of `r` by key. */
export function receiptIndex(r: Receipt): Map<string, ReceiptItem> {
  return new Map(r.items.map((i) => [i[0], i]));
}
