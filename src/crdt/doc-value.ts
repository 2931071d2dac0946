/**
 * The stored value of a doc record: a small envelope around the Yjs state, because a doc record also
 * needs its delete horizon and `RecordMeta` has no field for it.
 *
 * ```
 * byte 0      0xD5  magic
 * byte 1      0x01  format version
 * bytes 2..3  horizon length n (uint16, big endian)
 * bytes 4..   horizon: n bytes of ASCII, an encoded HLC version or '' (genesis)
 * then        the Yjs full state (`Y.encodeStateAsUpdate`, V1 encoding)
 * ```
 *
 * The horizon is the version of the last reset (delete tombstone or blob write) the document was
 * built on, '' when it was created on an empty key. See `./merge.ts` for how it orders merges.
 */
import { CorruptDocValueError } from './errors.ts';

const MAGIC = 0xd5;
const FORMAT = 0x01;
const HEADER = 4;

export interface DocValue {
  /** Version of the reset this document was born after ('' = created on an empty key). */
  horizon: string;
  /** Yjs full state. */
  state: Uint8Array;
}

export function encodeDocValue(value: DocValue): Uint8Array {
  const horizon = Buffer.from(value.horizon, 'latin1');
  if (horizon.byteLength > 0xffff) throw new RangeError('doc horizon too long');
  const out = new Uint8Array(HEADER + horizon.byteLength + value.state.byteLength);
  out[0] = MAGIC;
  out[1] = FORMAT;
  out[2] = horizon.byteLength >>> 8;
  out[3] = horizon.byteLength & 0xff;
  out.set(horizon, HEADER);
  out.set(value.state, HEADER + horizon.byteLength);
  return out;
}

/** Decodes a doc record value; throws {@link CorruptDocValueError} when it is not an envelope. */
export function decodeDocValue(value: Uint8Array): DocValue {
  if (value.byteLength < HEADER || value[0] !== MAGIC) throw new CorruptDocValueError('missing doc envelope');
  if (value[1] !== FORMAT) throw new CorruptDocValueError(`unknown doc envelope format ${value[1]}`);
  const n = (value[2] << 8) | value[3];
  if (HEADER + n > value.byteLength) throw new CorruptDocValueError('truncated horizon');
  const horizon = Buffer.from(value.buffer, value.byteOffset + HEADER, n).toString('latin1');
  return { horizon, state: value.subarray(HEADER + n) };
}

/** Only the horizon (no copy of the state). */
export function docHorizonOf(value: Uint8Array): string {
  return decodeDocValue(value).horizon;
}
