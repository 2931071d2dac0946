/**
 * Two independent 32-bit hashes of a string in one pass over its UTF-16 code units (FNV-1a and a
 * multiply-rotate hash, each finished with the murmur3 avalanche). Used for count-min rows by double
 * hashing (Kirsch and Mitzenmacher: row i uses h1 + i * h2). The pair is written into `out` so the hot
 * path allocates nothing.
 */
export function hashPair(s: string, out: Uint32Array): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 = (h2 << 13) | (h2 >>> 19);
  }
  out[0] = fmix32(h1 ^ s.length);
  // Odd, so that successive rows visit distinct columns of a power-of-two width.
  out[1] = fmix32(h2 ^ Math.imul(s.length, 0x27d4eb2d)) | 1;
}

/** murmur3 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
