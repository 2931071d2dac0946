import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRing, diffRings, InvalidRingError, type Member, type Ring } from '../../src/ring/index.ts';

const members = (n: number, zones: number, prefix = 'node'): Member[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, zone: `z${i % zones}` }));

const table = (r: Ring): string[][] => Array.from({ length: r.partitions }, (_, p) => [...r.replicasFor(p)]);

const zoneOf = (ms: readonly Member[]) => new Map(ms.map((m) => [m.id, m.zone]));

/** Random member lists: unique ids, a few zones, capacities 1..4. */
const memberList = (min: number, max: number) =>
  fc
    .uniqueArray(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 12 }),
        zone: fc.constantFrom('eu', 'us', 'ap', 'sa', 'af'),
        capacity: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: min, maxLength: max, selector: (m) => m.id },
    )
    .map((ms) => ms as Member[]);

describe('createRing: determinism', () => {
  it('gives the same table whatever the member order', () => {
    fc.assert(
      fc.property(memberList(1, 12), fc.integer(), (ms, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(ms, { minLength: ms.length, maxLength: ms.length }), {
          numRuns: 1,
          seed,
        })[0];
        const a = createRing({ partitions: 256, members: ms });
        const b = createRing({ partitions: 256, members: shuffled });
        expect(table(b)).toEqual(table(a));
      }),
      { numRuns: 40 },
    );
  });

  it('is pinned across releases (changing this moves data in existing clusters)', () => {
    const r = createRing({ members: members(5, 3) });
    expect([0, 1, 2, 4095].map((p) => r.replicasFor(p).join(','))).toEqual([
      'node-0,node-4,node-2',
      'node-0,node-1,node-2',
      'node-1,node-3,node-2',
      'node-4,node-2,node-3',
    ]);
  });
});

describe('createRing: replica sets', () => {
  it('never puts two replicas on one member, and has min(R, up members) replicas', () => {
    fc.assert(
      fc.property(memberList(0, 10), fc.integer({ min: 1, max: 5 }), (ms, replicas) => {
        const r = createRing({ partitions: 128, replicas, members: ms });
        for (let p = 0; p < r.partitions; p++) {
          const ids = r.replicasFor(p);
          expect(ids.length).toBe(Math.min(replicas, ms.length));
          expect(new Set(ids).size).toBe(ids.length);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('spreads replicas over distinct zones first: R zones when there are ≥ R, else every zone', () => {
    fc.assert(
      fc.property(memberList(1, 14), fc.integer({ min: 1, max: 4 }), (ms, replicas) => {
        const r = createRing({ partitions: 128, replicas, members: ms });
        const zones = zoneOf(ms);
        const zoneCount = new Set(ms.map((m) => m.zone)).size;
        for (let p = 0; p < r.partitions; p++) {
          const used = new Set(r.replicasFor(p).map((id) => zones.get(id)));
          expect(used.size).toBe(Math.min(replicas, zoneCount));
        }
        expect(r.summary().zoneCollisions).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('with fewer members than R, every partition is on all members', () => {
    const r = createRing({ replicas: 3, members: members(2, 2) });
    for (let p = 0; p < r.partitions; p++) expect([...r.replicasFor(p)].sort()).toEqual(['node-0', 'node-1']);
    expect(r.summary().underReplicated).toBe(r.partitions);
  });

  it('an empty ring has empty replica sets', () => {
    const r = createRing();
    expect(r.replicasFor(0)).toEqual([]);
    expect(r.primaryOf(0)).toBeUndefined();
  });

  it('the preference list starts with the replica set and lists every up member once', () => {
    const ms = [...members(7, 3), { id: 'gone', zone: 'z0', state: 'leaving' as const }];
    const r = createRing({ members: ms });
    for (const p of [0, 17, 4095]) {
      const pref = r.preferenceList(p);
      expect(pref.slice(0, 3)).toEqual([...r.replicasFor(p)]);
      expect([...pref].sort()).toEqual(members(7, 3).map((m) => m.id));
    }
  });

  it('leaving members are listed but hold nothing', () => {
    const ms = [...members(6, 3), { id: 'old', zone: 'z1', state: 'leaving' as const }];
    const r = createRing({ members: ms });
    expect(r.has('old')).toBe(true);
    expect(r.partitionsOf('old')).toEqual([]);
    expect(r.members.map((m) => m.id)).toContain('old');
    expect(table(r)).toEqual(table(createRing({ members: members(6, 3) })));
  });
});

describe('createRing: balance', () => {
  it('gives every equal member about Q/N primaries', () => {
    const s = createRing({ members: members(10, 3) }).summary();
    expect(s.members.reduce((a, m) => a + m.primaries, 0)).toBe(4096);
    expect(s.members.reduce((a, m) => a + m.replicas, 0)).toBe(4096 * 3);
    // Expected 409.6 each, binomial sd ≈ 19: ±25% is more than 5 sd.
    for (const m of s.members) expect(Math.abs(m.primaries - 409.6)).toBeLessThan(0.25 * 409.6);
  });

  it('weights by capacity: capacity 2 gets about twice the primaries and, with R = 3, 1.5-2.3x the replicas', () => {
    for (const seed of ['a', 'b', 'c']) {
      const ms: Member[] = Array.from({ length: 10 }, (_, i) => ({
        id: `${seed}${i}`,
        zone: 'z',
        capacity: i ? 1 : 2,
      }));
      const s = createRing({ members: ms }).summary();
      const big = s.members.find((m) => m.capacity === 2)!;
      const rest = s.members.filter((m) => m.capacity === 1);
      const mean = (f: (m: (typeof rest)[number]) => number) => rest.reduce((a, m) => a + f(m), 0) / rest.length;
      expect(big.primaries / mean((m) => m.primaries)).toBeGreaterThan(1.7);
      expect(big.primaries / mean((m) => m.primaries)).toBeLessThan(2.3);
      // A member holds at most one replica per partition, so its replica share grows sub-linearly with R > 1.
      expect(big.replicas / mean((m) => m.replicas)).toBeGreaterThan(1.5);
      expect(big.replicas / mean((m) => m.replicas)).toBeLessThan(2.3);
    }
  });
});

describe('diffRings: minimal disruption', () => {
  for (const zones of [1, 3]) {
    it(`adding one member to N (3..20, ${zones} zone(s)) moves ~1/N primaries, only to the new member`, () => {
      for (let n = 3; n <= 20; n++) {
        const before = createRing({ members: members(n, zones) });
        const after = createRing({ members: members(n + 1, zones) });
        const added = `node-${n}`;
        const changes = diffRings(before, after);
        const primaryMoves = changes.filter((c) => c.primaryChanged);
        const frac = primaryMoves.length / before.partitions;
        expect(frac).toBeGreaterThanOrEqual(0.5 / (n + 1));
        expect(frac).toBeLessThanOrEqual(2 / (n + 1));
        for (const c of primaryMoves) expect(c.to[0]).toBe(added);
        // Every changed replica set gains exactly the new member and (at N ≥ R) loses exactly one other.
        for (const c of changes.filter((x) => x.added.length + x.removed.length > 0)) {
          expect(c.added).toEqual([added]);
          expect(c.removed.length).toBe(n >= 3 ? 1 : 0);
        }
        // The sets that change are about R/(N+1) of all partitions.
        const setMoves = changes.filter((c) => c.added.length > 0).length / before.partitions;
        expect(setMoves).toBeLessThanOrEqual((2 * 3) / (n + 1));
      }
    });

    it(`removing one member of N (4..20, ${zones} zone(s)) only moves partitions it held`, () => {
      for (let n = 4; n <= 20; n++) {
        const ms = members(n, zones);
        const gone = ms[n >> 1].id;
        const before = createRing({ members: ms });
        const after = createRing({ members: ms.filter((m) => m.id !== gone) });
        const changes = diffRings(before, after);
        const frac = changes.filter((c) => c.primaryChanged).length / before.partitions;
        expect(frac).toBeGreaterThanOrEqual(0.5 / n);
        expect(frac).toBeLessThanOrEqual(2 / n);
        for (const c of changes) {
          expect(c.from).toContain(gone);
          expect(c.removed).toEqual([gone]);
          expect(c.added.length).toBe(1);
          if (c.primaryChanged) expect(c.from[0]).toBe(gone);
        }
        expect(changes.length).toBe(before.partitionsOf(gone).length);
      }
    });
  }

  it('reports nothing between equal rings and rejects different Q', () => {
    expect(diffRings(createRing({ members: members(5, 2) }), createRing({ members: members(5, 2) }))).toEqual([]);
    expect(() => diffRings(createRing({ partitions: 8 }), createRing({ partitions: 16 }))).toThrow(InvalidRingError);
  });
});

describe('partitionsOf', () => {
  const r = createRing({ members: members(6, 3) });

  it('partitionsOf lists exactly the partitions whose replica set holds the member', () => {
    for (const m of r.members) {
      const held = r.partitionsOf(m.id);
      const expected = table(r).flatMap((ids, p) => (ids.includes(m.id) ? [p] : []));
      expect(held).toEqual(expected);
    }
    expect(r.partitionsOf('nobody')).toEqual([]);
  });
});

describe('createRing: validation', () => {
  it.each([
    [{ partitions: 0 }],
    [{ partitions: 1.5 }],
    [{ replicas: 0 }],
    [{ members: [{ id: '', zone: 'z' }] }],
    [{ members: [{ id: 'a', zone: '' }] }],
    [{ members: [{ id: 'a', zone: 'z', capacity: 0 }] }],
    [{ members: [{ id: 'a', zone: 'z', capacity: Number.NaN }] }],
    [
      {
        members: [
          { id: 'a', zone: 'z' },
          { id: 'a', zone: 'y' },
        ],
      },
    ],
  ])('rejects %j with CONFIG_INVALID', (options) => {
    expect(() => createRing(options)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('replicasFor rejects partitions outside [0, Q)', () => {
    const r = createRing({ partitions: 8 });
    expect(() => r.replicasFor(8)).toThrow(RangeError);
    expect(() => r.replicasFor(-1)).toThrow(RangeError);
  });
});
