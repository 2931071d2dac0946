import { KEYSPACE } from '../store/index.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Store key of a user record: the record keyspace byte, then the key's UTF-8 bytes. */
export function recordStoreKey(key: string): Uint8Array {
  // Buffer.write encodes straight into the key buffer: no intermediate array (this runs per request).
  const out = Buffer.allocUnsafe(1 + Buffer.byteLength(key, 'utf8'));
  out[0] = KEYSPACE.record;
  out.write(key, 1, 'utf8');
  return out;
}

/** The user key of a record store key. */
export function recordKeyOf(storeKey: Uint8Array): string {
  return decoder.decode(storeKey.subarray(1));
}

/** The scan prefix of all records whose key starts with `prefix`. */
export function recordScanPrefix(prefix = ''): Uint8Array {
  return recordStoreKey(prefix);
}
