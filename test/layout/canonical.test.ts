import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/layout/index.ts';

/** Rebuilds every object of `value` with its keys inserted in a shuffled order. */
function reorder(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, rand));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(() => rand() - 0.5);
    return Object.fromEntries(entries.map(([k, v]) => [k, reorder(v, rand)]));
  }
  return value;
}

const jsonValue = fc.jsonValue({ maxDepth: 4 });

describe('canonicalJson', () => {
  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(jsonValue, fc.integer(), (value, seed) => {
        let s = seed;
        const rand = () => {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          return (s >>> 0) / 4294967296;
        };
        expect(canonicalJson(reorder(value, rand))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it('parses back to the same value as JSON.stringify (-0 becomes 0 in both)', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('sorts keys, omits undefined properties and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, A: { z: 1, y: 2 } })).toBe(
      '{"A":{"y":2,"z":1},"a":[true,null,"x"],"b":1}',
    );
    expect(canonicalJson({ n: -0, f: 1.5, e: 1e21, s: 'é"\n' })).toBe('{"e":1e+21,"f":1.5,"n":0,"s":"é\\"\\n"}');
  });

  it.each([
    [Number.NaN],
    [{ x: Number.POSITIVE_INFINITY }],
    [[undefined]],
    [new Map()],
    [new Uint8Array(2)],
    [{ x: 1n }],
    [() => 1],
  ])('rejects %s', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});
