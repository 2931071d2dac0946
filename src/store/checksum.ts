import { hash } from 'node:crypto';

/**
 * Hex SHA-256 of a value: the checksum kept in {@link RecordMeta} and verified on transfer. The one-shot
 * `crypto.hash` skips the Hash object `createHash` builds, several µs of every small write.
 */
export function checksumOf(value: Uint8Array): string {
  return hash('sha256', value, 'hex');
}
