import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  added,
  createRing,
  diffRings,
  effectiveReplicas,
  type Member,
  type ReplicaChange,
  removed,
  resolvePlacement,
  union,
  unionOf,
} from '../../src/ring/index.ts';

const members = (n: number, zones: number): Member[] =>
  Array.from({ length: n }, (_, i) => ({ id: `n${i}`, zone: `z${i % zones}` }));

const ring = createRing({ partitions: 64, replicas: 3, members: members(6, 3) });
const key = 'user:42';
const p = ring.partitionOf(key);
const home = ring.replicasFor(p);
const away = ring.members.map((m) => m.id).filter((id) => !home.includes(id));

describe('resolvePlacement', () => {
  it('ring only: the partition, its ring replicas, source ring, no groups', () => {
    const got = resolvePlacement(ring, key);
    expect(got).toEqual({ partition: p, source: 'ring', replicas: home, holders: home, ringReplicas: home });
    expect(got.replicas).toBe(home);
    expect(got.holders).toBe(home);
    expect(got.groups).toBeUndefined();
  });

  it('takes the partition instead of the key', () => {
    expect(resolvePlacement(ring, p)).toEqual(resolvePlacement(ring, key));
  });

  it('override: its holders, in order, source override; the ring replicas are still reported', () => {
    const override = [away[1], away[0], home[0]];
    const got = resolvePlacement(ring, key, override);
    expect(got).toEqual({
      partition: p,
      source: 'override',
      replicas: override,
      holders: override,
      ringReplicas: home,
    });
    expect(got.holders).toBe(override);
  });

  it('override with a departed or leaving holder: topped up from the ring, keeping the copy count', () => {
    const leaving = createRing({
      partitions: 64,
      replicas: 3,
      members: [...members(6, 3).filter((m) => m.id !== away[0]), { id: away[0], zone: 'z0', state: 'leaving' }],
    });
    for (const gone of ['departed', away[0]]) {
      const got = resolvePlacement(leaving, key, [away[1], gone]);
      expect(got.source).toBe('override');
      expect(got.holders).toHaveLength(2);
      expect(got.holders[0]).toBe(away[1]);
      expect(leaving.replicasFor(p)).toContain(got.holders[1]);
      expect(got.holders).toEqual(effectiveReplicas([away[1], gone], leaving, p));
    }
    // No holder left: the ring replicas.
    expect(resolvePlacement(leaving, key, ['departed']).holders).toBe(leaving.replicasFor(p));
  });

  it('move in flight: old ∪ new, old first, with both groups; the settled placement is unchanged', () => {
    const move = { from: home, to: [away[0], home[1], away[1]] };
    const got = resolvePlacement(ring, key, undefined, move);
    expect(got.holders).toEqual([...home, away[0], away[1]]);
    expect(got.groups).toEqual([move.from, move.to]);
    expect(got.source).toBe('ring');
    expect(got.replicas).toBe(home);
    const back = resolvePlacement(ring, key, move.to, { from: move.to, to: home });
    expect(back.source).toBe('override');
    expect(back.holders).toEqual([...move.to, home[0], home[2]]);
    expect(back.groups).toEqual([move.to, home]);
  });
});

describe('ReplicaChange helpers', () => {
  const change: ReplicaChange = { from: ['a', 'b', 'c'], to: ['c', 'd', 'a'] };
  it('added, removed, union', () => {
    expect(added(change)).toEqual(['d']);
    expect(removed(change)).toEqual(['b']);
    expect(union(change)).toEqual(['a', 'b', 'c', 'd']);
    expect(unionOf(['a'], ['a'])).toEqual(['a']);
  });
  it('union returns `from` itself when `to` adds nothing', () => {
    expect(union({ from: change.from, to: ['a'] })).toBe(change.from);
  });
  it("diffRings reports each partition's change with the same helpers", () => {
    const bigger = createRing({ partitions: 64, replicas: 3, members: members(7, 3) });
    const changes = diffRings(ring, bigger);
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c.from).toBe(ring.replicasFor(c.partition));
      expect(c.to).toBe(bigger.replicasFor(c.partition));
      expect(c.added).toEqual(added(c));
      expect(c.removed).toEqual(removed(c));
    }
  });
});

const ids = fc.uniqueArray(fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'x'), { minLength: 1, maxLength: 6 });

describe('resolvePlacement: properties', () => {
  it('with no override and no move, the holders are the ring replicas of the partition (the hot path)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (k) => {
        const got = resolvePlacement(ring, k);
        expect(got.holders).toBe(ring.replicasFor(ring.partitionOf(k)));
        expect(got.partition).toBe(ring.partitionOf(k));
      }),
    );
  });

  it('during a move the holders contain both groups, from first, with no duplicates', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), ids, ids, fc.option(ids, { nil: undefined }), (k, from, to, o) => {
        const got = resolvePlacement(ring, k, o, { from, to });
        expect(new Set(got.holders).size).toBe(got.holders.length);
        expect(got.holders.slice(0, from.length)).toEqual(from);
        for (const id of to) expect(got.holders).toContain(id);
        expect(got.holders).toHaveLength(new Set([...from, ...to]).size);
        expect(got.groups).toEqual([from, to]);
      }),
    );
  });

  it('an override keeps its copy count (up to the members up) and holds only up members', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), ids, (k, o) => {
        const got = resolvePlacement(ring, k, o);
        const up = new Set(ring.members.map((m) => m.id));
        for (const id of got.holders) expect(up.has(id)).toBe(true);
        expect(new Set(got.holders).size).toBe(got.holders.length);
        const kept = o.filter((id) => up.has(id));
        const reachable = new Set([...kept, ...got.ringReplicas]).size;
        if (kept.length > 0) expect(got.holders).toHaveLength(Math.min(o.length, reachable));
        else expect(got.holders).toBe(got.ringReplicas);
      }),
    );
  });
});
