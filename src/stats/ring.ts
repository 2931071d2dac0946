/**
 * A ring of `len` (reads, writes) counter pairs indexed by absolute bucket number: bucket `i` lives at
 * `(i mod len) * 2`. `last` is the newest bucket written; buckets after it read as 0 and buckets at or
 * before `last - len` are gone. Advancing zeroes the skipped cells, at most `len` of them.
 */
export interface Ring {
  data: Uint32Array;
  len: number;
  last: number;
}

export function newRing(len: number): Ring {
  return { data: new Uint32Array(len * 2), len, last: -1 };
}

/** Adds counts to absolute bucket `idx`; returns false when `idx` is older than the ring keeps. */
export function ringAdd(ring: Ring, idx: number, reads: number, writes: number): boolean {
  if (ring.last === -1) {
    ring.last = idx;
  } else if (idx > ring.last) {
    const steps = Math.min(idx - ring.last, ring.len);
    for (let k = 1; k <= steps; k++) {
      const at = ((ring.last + k) % ring.len) * 2;
      ring.data[at] = 0;
      ring.data[at + 1] = 0;
    }
    ring.last = idx;
  } else if (idx <= ring.last - ring.len) {
    return false;
  }
  const at = (idx % ring.len) * 2;
  ring.data[at] = Math.min(ring.data[at] + reads, 0xffffffff);
  ring.data[at + 1] = Math.min(ring.data[at + 1] + writes, 0xffffffff);
  return true;
}

/** Reads of absolute bucket `idx` (0 when outside the ring's window). */
export function ringReads(ring: Ring, idx: number): number {
  return inRing(ring, idx) ? ring.data[(idx % ring.len) * 2] : 0;
}

/** Writes of absolute bucket `idx` (0 when outside the ring's window). */
export function ringWrites(ring: Ring, idx: number): number {
  return inRing(ring, idx) ? ring.data[(idx % ring.len) * 2 + 1] : 0;
}

function inRing(ring: Ring, idx: number): boolean {
  return ring.last !== -1 && idx >= 0 && idx <= ring.last && idx > ring.last - ring.len;
}

/** Sum of reads and of writes over absolute buckets [from, to]. */
export function ringSum(ring: Ring, from: number, to: number, out: { reads: number; writes: number }): void {
  const lo = Math.max(from, ring.last - ring.len + 1, 0);
  const hi = Math.min(to, ring.last);
  for (let i = lo; i <= hi; i++) {
    const at = (i % ring.len) * 2;
    out.reads += ring.data[at];
    out.writes += ring.data[at + 1];
  }
}
