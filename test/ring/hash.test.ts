import { describe, expect, it } from 'vitest';
import { createRing, hashKey, murmur3 } from '../../src/ring/index.ts';

describe('murmur3 (x86_32)', () => {
  it('matches the published test vectors', () => {
    const utf8 = (s: string) => new TextEncoder().encode(s);
    expect(murmur3(utf8(''), 0)).toBe(0);
    expect(murmur3(utf8(''), 1)).toBe(0x514e28b7);
    expect(murmur3(utf8(''), 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3(new Uint8Array([0, 0, 0, 0]), 0)).toBe(0x2362f9de);
    expect(murmur3(utf8('hello'), 0)).toBe(0x248bfa47);
    expect(murmur3(utf8('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
    expect(murmur3(new Uint8Array([0x21, 0x43, 0x65]), 0)).toBe(0x7e4a8634);
    expect(murmur3(new Uint8Array([0x21, 0x43]), 0)).toBe(0xa0f7b07a);
    expect(murmur3(new Uint8Array([0x21]), 0)).toBe(0x72661cf4);
  });

  it('hashes a string as its UTF-8 bytes, whatever its length', () => {
    for (const s of ['', 'a', 'ключ', '日本語のキー', '🐟'.repeat(10), 'x'.repeat(5000), 'é'.repeat(2000)]) {
      expect(hashKey(s)).toBe(murmur3(new TextEncoder().encode(s)));
    }
  });
});

describe('partitionOf', () => {
  const ring = createRing({ members: [{ id: 'a', zone: 'z' }] });

  it('is pinned: the same key maps to the same partition in every release and on every platform', () => {
    // Changing these values changes where every record of an existing cluster lives.
    expect(['a', 'b', 'user:1', '日本'].map((k) => ring.partitionOf(k))).toEqual([962, 2397, 3258, 3149]);
  });

  it('is the same for a string and its UTF-8 bytes, and stays in range for any Q', () => {
    for (const q of [1, 7, 1000, 4096, 65536]) {
      const r = createRing({ partitions: q });
      for (const k of ['', 'k', 'some/longer/key', '日本']) {
        const p = r.partitionOf(k);
        expect(p).toBe(r.partitionOf(new TextEncoder().encode(k)));
        expect(Number.isInteger(p) && p >= 0 && p < q).toBe(true);
      }
    }
  });

  it('spreads keys evenly over partitions', () => {
    const q = 64;
    const r = createRing({ partitions: q });
    const counts = new Array(q).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i++) counts[r.partitionOf(`user:${i}`)]++;
    // Expected 1000 per partition, binomial sd ≈ 31: ±20% is more than 6 sd.
    for (const c of counts) expect(c).toBeGreaterThan(800);
    for (const c of counts) expect(c).toBeLessThan(1200);
  });
});
