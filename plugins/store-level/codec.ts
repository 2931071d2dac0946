import { decode, encode } from '@msgpack/msgpack';
import type { RecordMeta, StoredRecord } from '../../src/store/index.ts';

/**
 * LevelDB keeps one value per key, so an entry is `[u32 meta length][msgpack meta][value bytes]`.
 * The value is sliced out without a copy on read.
 */
export function encodeEntry(record: StoredRecord): Uint8Array {
  const meta = encode(record.meta);
  const out = new Uint8Array(4 + meta.length + record.value.length);
  new DataView(out.buffer).setUint32(0, meta.length);
  out.set(meta, 4);
  out.set(record.value, 4 + meta.length);
  return out;
}

export function decodeEntry(bytes: Uint8Array, keysOnly = false): StoredRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const metaLen = view.getUint32(0);
  const meta = decode(bytes.subarray(4, 4 + metaLen)) as RecordMeta;
  return { meta, value: keysOnly ? new Uint8Array(0) : bytes.subarray(4 + metaLen) };
}
