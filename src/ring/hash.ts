/**
 * Stable 32-bit hashing for the ring: MurmurHash3 x86_32 (Austin Appleby, public domain), written with
 * `Math.imul` so it gives the same bits on every JavaScript engine and platform. Keys are hashed over
 * their UTF-8 bytes (WHATWG `TextEncoder`, lone surrogates become U+FFFD), seed 0.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const TWO_POW_32 = 4294967296;

const encoder = new TextEncoder();
/** Reused UTF-8 scratch so that hashing a key of up to 1365 UTF-16 units allocates nothing. */
const scratch = new Uint8Array(4096);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mixK(k: number): number {
  return Math.imul(rotl(Math.imul(k, C1), 15), C2);
}

function mixH(h: number, k: number): number {
  return (Math.imul(rotl(h ^ mixK(k), 13), 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 finaliser: full avalanche of a 32-bit word. */
export function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of `bytes[0, length)` with `seed`; returns an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let h = seed | 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = mixH(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    h ^= mixK(k);
  }
  return fmix32(h ^ length);
}

/** MurmurHash3 x86_32 of the UTF-8 bytes of `key` (or of the bytes themselves), seed `seed`. */
export function hashKey(key: string | Uint8Array, seed = 0): number {
  if (typeof key !== 'string') return murmur3(key, seed);
  if (key.length * 3 <= scratch.length) {
    const { written } = encoder.encodeInto(key, scratch);
    return murmur3(scratch, seed, written);
  }
  return murmur3(encoder.encode(key), seed);
}

/**
 * MurmurHash3 x86_32 of three little-endian 32-bit words (12 bytes), seed 0. Used to draw the
 * rendezvous score of (member, partition): `a`, `b` are the member's two 32-bit id hashes, `c` the partition.
 */
export function hashWords(a: number, b: number, c: number): number {
  let h = 0;
  h = mixH(h, a);
  h = mixH(h, b);
  h = mixH(h, c);
  return fmix32(h ^ 12);
}

/** Maps a 32-bit hash uniformly onto `[0, n)` by multiply-shift (uses the high bits; exact in float64 for n < 2^21). */
export function reduce(hash: number, n: number): number {
  return Math.floor((hash * n) / TWO_POW_32);
}

/** Uniform draw in the open interval (0, 1) from a 32-bit hash. */
export function unitInterval(hash: number): number {
  return (hash + 0.5) / TWO_POW_32;
}
