import { KEYSPACE, prefixKey } from '../store/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Store key of a user record: the record keyspace byte, then the key's UTF-8 bytes. */
export function recordStoreKey(key: string): Uint8Array {
  return prefixKey(KEYSPACE.record, encoder.encode(key));
}

/** The user key of a record store key. */
export function recordKeyOf(storeKey: Uint8Array): string {
  return decoder.decode(storeKey.subarray(1));
}

/** The scan prefix of all records whose key starts with `prefix`. */
export function recordScanPrefix(prefix = ''): Uint8Array {
  return recordStoreKey(prefix);
}
