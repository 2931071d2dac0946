// The murmur3 finaliser is shared with the ring's hash.
import { fmix32 } from '../ring/hash.ts';

/**
 * Two 32-bit hashes of a string from one pass over its UTF-16 code units: two independent multiplicative
 * lanes (even and odd code units, so the CPU runs both multiply chains in parallel) give 64 bits of state,
 * each output mixes both lanes and is finished with the murmur3 avalanche. `h1` indexes the Space-Saving
 * table; the count-min rows use double hashing (Kirsch and Mitzenmacher: row i uses h1 + i * h2), so one
 * pass serves every row. The pair is written into `out` (h1, h2) and h1 returned, so the hot path
 * allocates nothing.
 */
export function hashPair(s: string, out: Uint32Array): number {
  const n = s.length;
  let a = 0x811c9dc5 ^ n;
  let b = 0x9747b28c;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(i + 1), 0x5bd1e995);
  }
  if (i < n) a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
  const h1 = fmix32(a ^ Math.imul(b, 0x27d4eb2d));
  out[0] = h1;
  // Odd, so that successive rows visit distinct columns of a power-of-two width.
  out[1] = fmix32(b ^ Math.imul(a ^ 0x165667b1, 0x85ebca6b)) | 1;
  return h1;
}
