import { type RecordMeta, type RecordType, type StoredRecord, StoreError } from '../../src/store/index.ts';

/**
 * LevelDB keeps one value per key, so an entry is a fixed binary header, the metadata strings, then
 * the value bytes (sliced out without a copy on read). All integers little-endian:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 1 | flags: bit 0 tombstone, bit 1 checksum stored as 32 raw bytes, bits 2–3 type (0 blob, 1 doc, 2 string) |
 * | 1 | 8 | size (float64) |
 * | 9 | 8 | createdAt (float64) |
 * | 17 | 8 | updatedAt (float64) |
 * | 25 | 4 | byte length of version (UTF-8) |
 * | 29 | 4 | byte length of contentType (UTF-8) |
 * | 33 | 4 | byte length of checksum: 32 when raw, else of its UTF-8 string |
 * | 37 | 4 | byte length of type (UTF-8; 0 unless type code 2) |
 * | 41 | … | version, contentType, checksum, type, then the value |
 *
 * A lowercase 64-digit hex checksum (the SHA-256 every writer stores) takes 32 bytes instead of 64;
 * other checksum strings and types round-trip as strings. float64 keeps every JS number exactly.
 * Compared with a msgpack map: no per-entry encoder allocation, no field names, no map decoding.
 */
const HEADER = 41;
const TOMBSTONE = 1;
const RAW_CHECKSUM = 2;
const TYPE_SHIFT = 2;
// A Map, not an object literal: a type named like an Object.prototype member ('valueOf') is a string type.
const TYPE_CODE = new Map<string, number>([
  ['blob', 0],
  ['doc', 1],
]);
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Bytes of `s` in UTF-8; the common ASCII case without a native call. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function writeString(out: Buffer, s: string, at: number, len: number): void {
  if (len === s.length) for (let i = 0; i < len; i++) out[at + i] = s.charCodeAt(i);
  else out.write(s, at, len, 'utf8');
}

/** The stored bytes of a record: header, metadata strings, value. */
export function encodeEntry(record: StoredRecord): Uint8Array {
  const m = record.meta;
  const value = record.value;
  const typeCode = TYPE_CODE.get(m.type) ?? 2;
  const rawChecksum = HEX_SHA256.test(m.checksum);
  const vLen = utf8Length(m.version);
  const ctLen = utf8Length(m.contentType);
  const csLen = rawChecksum ? 32 : utf8Length(m.checksum);
  const tLen = typeCode === 2 ? utf8Length(m.type) : 0;
  const valueAt = HEADER + vLen + ctLen + csLen + tLen;
  // allocUnsafe: every byte is written below; LevelDB copies the entry into its batch at once.
  const out = Buffer.allocUnsafe(valueAt + value.length);
  out[0] = (m.tombstone ? TOMBSTONE : 0) | (rawChecksum ? RAW_CHECKSUM : 0) | (typeCode << TYPE_SHIFT);
  out.writeDoubleLE(m.size, 1);
  out.writeDoubleLE(m.createdAt, 9);
  out.writeDoubleLE(m.updatedAt, 17);
  out.writeUInt32LE(vLen, 25);
  out.writeUInt32LE(ctLen, 29);
  out.writeUInt32LE(csLen, 33);
  out.writeUInt32LE(tLen, 37);
  let at = HEADER;
  writeString(out, m.version, at, vLen);
  at += vLen;
  writeString(out, m.contentType, at, ctLen);
  at += ctLen;
  if (rawChecksum) out.write(m.checksum, at, 32, 'hex');
  else writeString(out, m.checksum, at, csLen);
  at += csLen;
  if (tLen > 0) writeString(out, m.type, at, tLen);
  out.set(value, valueAt);
  return out;
}

/** Decodes an entry; with `keysOnly` the value is left out (empty). Throws STORE_ERROR on a truncated entry. */
export function decodeEntry(bytes: Uint8Array, keysOnly = false): StoredRecord {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER) throw new StoreError(`level: entry of ${buf.length} bytes is shorter than its header`);
  const flags = buf[0];
  const vLen = buf.readUInt32LE(25);
  const ctLen = buf.readUInt32LE(29);
  const csLen = buf.readUInt32LE(33);
  const tLen = buf.readUInt32LE(37);
  const vAt = HEADER;
  const ctAt = vAt + vLen;
  const csAt = ctAt + ctLen;
  const tAt = csAt + csLen;
  const valueAt = tAt + tLen;
  if (valueAt > buf.length) throw new StoreError(`level: entry of ${buf.length} bytes is truncated`);
  const typeCode = (flags >> TYPE_SHIFT) & 3;
  const meta: RecordMeta = {
    version: buf.toString('utf8', vAt, ctAt),
    type: typeCode === 0 ? 'blob' : typeCode === 1 ? 'doc' : (buf.toString('utf8', tAt, valueAt) as RecordType),
    contentType: buf.toString('utf8', ctAt, csAt),
    size: buf.readDoubleLE(1),
    checksum: flags & RAW_CHECKSUM ? buf.toString('hex', csAt, tAt) : buf.toString('utf8', csAt, tAt),
    createdAt: buf.readDoubleLE(9),
    updatedAt: buf.readDoubleLE(17),
  };
  if (flags & TOMBSTONE) meta.tombstone = true;
  return { meta, value: keysOnly ? new Uint8Array(0) : buf.subarray(valueAt) };
}
