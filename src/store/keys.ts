/** Bytewise comparison (memcmp order), the order every backend scans in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** `prefix` byte followed by `key`. */
export function prefixKey(prefix: number, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = prefix;
  out.set(key, 1);
  return out;
}

/** The key without its one-byte keyspace prefix (a view, no copy). */
export function stripPrefix(key: Uint8Array): Uint8Array {
  return key.subarray(1);
}

/**
 * Smallest key greater than every key starting with `prefix`, or undefined when there is none
 * (prefix of only 0xff bytes). Used to turn a prefix into a range.
 */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}
