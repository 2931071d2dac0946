import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHlc, createHlc, decodeHlc, encodeHlc, HlcDriftError, InvalidHlcError } from '../../src/crdt/index.ts';

describe('HLC encoding', () => {
  it('string order is clock order, ties broken by node id', () => {
    const ts = fc.record({
      wall: fc.integer({ min: 0, max: 2 ** 47 }),
      logical: fc.integer({ min: 0, max: 0xffff }),
      node: fc.constantFrom('a', 'b', 'node-1'),
    });
    fc.assert(
      fc.property(ts, ts, (a, b) => {
        const numeric = a.wall - b.wall || a.logical - b.logical || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
        expect(Math.sign(compareHlc(encodeHlc(a), encodeHlc(b)))).toBe(Math.sign(numeric));
        expect(decodeHlc(encodeHlc(a))).toEqual(a);
      }),
    );
  });

  it('rejects strings that are not versions', () => {
    for (const bad of ['', 'abc', '018bcfe56800.0000.', '018bcfe5680.00000.n', 'ZZ8bcfe56800.0000.n']) {
      expect(() => decodeHlc(bad)).toThrow(InvalidHlcError);
    }
  });
});

describe('createHlc', () => {
  it('is strictly monotonic even when the physical clock goes backwards or stalls', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }), (steps) => {
        let t = 1_000_000;
        const clock = createHlc({ node: 'n', physical: () => t });
        let prev = clock.now();
        for (const s of steps) {
          t += s;
          const next = clock.now();
          expect(compareHlc(next, prev)).toBeGreaterThan(0);
          prev = next;
        }
      }),
    );
  });

  it('issues timestamps greater than every observed one', () => {
    let t = 1_000;
    const a = createHlc({ node: 'a', physical: () => t });
    const b = createHlc({ node: 'b', physical: () => t - 500 });
    const fromA = a.now();
    b.observe(fromA);
    expect(compareHlc(b.now(), fromA)).toBeGreaterThan(0);
    t += 1;
    expect(compareHlc(b.last(), fromA)).toBeGreaterThan(0);
  });

  it('borrows the next millisecond instead of overflowing the logical counter', () => {
    const clock = createHlc({
      node: 'n',
      physical: () => 5,
      start: encodeHlc({ wall: 5, logical: 0xfffe, node: 'n' }),
    });
    const a = clock.now();
    const b = clock.now();
    expect(decodeHlc(a)).toMatchObject({ wall: 5, logical: 0xffff });
    expect(decodeHlc(b)).toMatchObject({ wall: 6, logical: 0 });
  });

  it('refuses a remote timestamp further ahead than maxDriftMs, warns, and does not move', () => {
    const warnings: object[] = [];
    const clock = createHlc({
      node: 'n',
      physical: () => 1_000_000,
      maxDriftMs: 60_000,
      logger: { warn: (obj) => warnings.push(obj) },
    });
    const before = clock.last();
    const future = encodeHlc({ wall: 1_000_000 + 60_001, logical: 0, node: 'bad' });
    expect(() => clock.observe(future)).toThrow(HlcDriftError);
    expect(clock.last()).toBe(before);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ remote: future, driftMs: 60_001 });
    const atLimit = encodeHlc({ wall: 1_000_000 + 60_000, logical: 3, node: 'ok' });
    clock.observe(atLimit);
    expect(compareHlc(clock.now(), atLimit)).toBeGreaterThan(0);
  });
});
