import { createHash } from 'node:crypto';

/** Hex SHA-256 of a value: the checksum kept in {@link RecordMeta} and verified on transfer. */
export function checksumOf(value: Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}
