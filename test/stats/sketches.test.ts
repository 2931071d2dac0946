import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountMinSketch } from '../../src/stats/count-min.ts';
import { SpaceSaving } from '../../src/stats/space-saving.ts';

/** A skewed random stream: keys drawn from a Zipf-like mix of a few hot keys and a long tail. */
const streamArb = fc
  .record({
    hot: fc.integer({ min: 1, max: 8 }),
    tail: fc.integer({ min: 10, max: 2000 }),
    length: fc.integer({ min: 1, max: 4000 }),
    hotShare: fc.double({ min: 0, max: 0.9, noNaN: true }),
    seed: fc.integer(),
  })
  .map(({ hot, tail, length, hotShare, seed }) => {
    let x = seed >>> 0 || 1;
    const rnd = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const out: string[] = [];
    for (let i = 0; i < length; i++) {
      out.push(rnd() < hotShare ? `hot-${Math.floor(rnd() * hot)}` : `tail-${Math.floor(rnd() * tail)}`);
    }
    return out;
  });

function bruteForce(stream: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of stream) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

describe('Space-Saving', () => {
  it('tracks every key above N/C, brackets true counts, and is exact for keys tracked since their first access', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 16, max: 200 }), (stream, capacity) => {
        const ss = new SpaceSaving(capacity);
        for (const k of stream) ss.offer(k);
        const truth = bruteForce(stream);
        const n = stream.length;
        let sum = 0;
        for (const [key, c] of truth) {
          const slot = ss.slotOf(key);
          if (c > n / capacity) expect(slot, `${key} (${c} of ${n}) must be tracked`).not.toBe(-1);
          if (slot === -1) continue;
          const count = ss.countOf(slot);
          const error = ss.errorOf(slot);
          expect(count - error).toBeLessThanOrEqual(c);
          expect(count).toBeGreaterThanOrEqual(c);
          expect(error).toBeLessThanOrEqual(n / capacity);
          if (error === 0) expect(count).toBe(c);
        }
        for (let s = 0; s < ss.size; s++) sum += ss.countOf(s);
        // Space-Saving invariant: the counts add up to the stream length.
        expect(sum).toBe(n);
        expect(ss.size).toBe(Math.min(capacity, truth.size));
      }),
      { numRuns: 150 },
    );
  });

  it('never evicts a key that holds more than the minimum (the hot keys stay exact)', () => {
    const ss = new SpaceSaving(16);
    for (let i = 0; i < 20_000; i++) {
      ss.offer(`hot-${i % 4}`);
      ss.offer(`cold-${i}`);
    }
    for (let h = 0; h < 4; h++) {
      const slot = ss.slotOf(`hot-${h}`);
      expect(ss.errorOf(slot)).toBe(0);
      expect(ss.countOf(slot)).toBe(5000);
    }
  });
  it('finds exactly the tracked keys after many evictions (index stays consistent)', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 16, max: 64 }), (stream, capacity) => {
        const ss = new SpaceSaving(capacity);
        for (const k of stream) ss.offer(k);
        const tracked = new Set<string>();
        for (let s = 0; s < ss.size; s++) {
          expect(ss.slotOf(ss.keys[s])).toBe(s);
          tracked.add(ss.keys[s]);
        }
        expect(tracked.size).toBe(ss.size);
        for (const k of new Set(stream)) if (!tracked.has(k)) expect(ss.slotOf(k)).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps exact counts when there are more distinct counts than initially allocated groups', () => {
    const ss = new SpaceSaving(5000);
    // Key i is offered i times, interleaved: 3000 distinct counts at the end.
    for (let round = 1; round <= 3000; round++) for (let i = round; i <= 3000; i++) ss.offer(`k${i}`);
    for (const i of [1, 2, 1023, 1024, 1025, 2048, 2999, 3000]) {
      const slot = ss.slotOf(`k${i}`);
      expect({ count: ss.countOf(slot), error: ss.errorOf(slot) }).toEqual({ count: i, error: 0 });
    }
    expect(ss.minCount()).toBe(0);
  });
});

describe('count-min sketch (conservative update)', () => {
  it('never underestimates and stays within epsilon * N except with probability delta', () => {
    const epsilon = 0.01;
    const delta = 0.001;
    let violations = 0;
    let keys = 0;
    fc.assert(
      fc.property(streamArb, (stream) => {
        const cms = new CountMinSketch(epsilon, delta);
        for (const k of stream) cms.add(k);
        const truth = bruteForce(stream);
        for (const [key, c] of truth) {
          const est = cms.estimate(key);
          expect(est).toBeGreaterThanOrEqual(c);
          if (est > c + epsilon * stream.length) violations++;
        }
        keys += truth.size;
        expect(cms.total).toBe(stream.length);
      }),
      { numRuns: 150 },
    );
    // Each key exceeds the bound with probability <= delta. Counted over every key of every run, not per
    // run: one stream of a few keys holding two unlucky ones is expected now and then (the hashes are fixed).
    expect(violations).toBeLessThanOrEqual(2 + 10 * delta * keys);
  });

  it('derives width and depth from epsilon and delta', () => {
    const cms = new CountMinSketch(1e-4, 1e-3);
    expect(cms.width).toBe(32768);
    expect(cms.depth).toBe(7);
    expect(cms.bytes).toBe(32768 * 7 * 4);
    expect(cms.estimate('never-seen')).toBe(0);
  });
});
