import { checksumOf } from './checksum.ts';
import type { StoredRecord } from './index.ts';

/** An internal (non-record) store entry holding `value`: daemon state such as identity, epochs, waves. */
export function internalEntry(value: Uint8Array, contentType: string): StoredRecord {
  const now = Date.now();
  return {
    value,
    meta: {
      version: '',
      type: 'blob',
      contentType,
      size: value.length,
      checksum: checksumOf(value),
      createdAt: now,
      updatedAt: now,
    },
  };
}
