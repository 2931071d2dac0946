import { describe, expect, it } from 'vitest';
import type { Net } from '../../src/net/index.ts';
import {
  checkPlacement,
  compareWithChain,
  decodeHolderEntry,
  effectiveReplicas,
  encodeHolderEntry,
  groupChange,
  type HolderEntry,
  planMove,
  planWave,
  resolveHolders,
  unionOf,
} from '../../src/overrides/plan.ts';
import { ClusterRing } from '../../src/replication/cluster-ring.ts';
import { groupsNeed, quorumCall } from '../../src/replication/quorum.ts';
import { createRing, type RingMember } from '../../src/ring/index.ts';

const member = (id: string, state: 'up' | 'leaving' = 'up'): RingMember => ({
  id,
  zone: `z-${id}`,
  capacity: 1,
  state,
});
const members = [member('a'), member('b'), member('c'), member('d', 'leaving')];
const check = (replicas: unknown[], force = false, R = 2) =>
  checkPlacement({ replicas, members, replicationFactor: R, force });

describe('checkPlacement', () => {
  it('accepts known, up, distinct members between R and the cluster size', () => {
    expect(check(['a', 'b'])).toBeUndefined();
    expect(check(['c', 'a', 'b'])).toBeUndefined();
  });

  it('refuses empty lists, duplicates, unknown and leaving members, and more holders than members', () => {
    expect(check([])?.code).toBe('INVALID_PLACEMENT');
    expect(check(['a', 'a'])).toMatchObject({ code: 'INVALID_PLACEMENT', message: expect.stringContaining('twice') });
    expect(check(['a', 'zz'])).toMatchObject({ code: 'INVALID_PLACEMENT', message: expect.stringContaining('zz') });
    expect(check(['a', 'd'])).toMatchObject({ code: 'INVALID_PLACEMENT', message: expect.stringContaining('leaving') });
    expect(check(['a', ''])?.code).toBe('INVALID_PLACEMENT');
    expect(check(['a', 7])?.code).toBe('INVALID_PLACEMENT');
  });

  it('refuses fewer than R holders unless forced; R larger than the cluster asks for every member', () => {
    expect(check(['a'])?.code).toBe('PLACEMENT_UNDER_REPLICATED');
    expect(check(['a'], true)).toBeUndefined();
    expect(check(['a', 'b', 'c'], false, 5)).toBeUndefined();
    expect(check(['a', 'b'], false, 5)?.code).toBe('PLACEMENT_UNDER_REPLICATED');
  });
});

describe('effectiveReplicas', () => {
  const ring = createRing({ partitions: 16, replicas: 2, members: [...members, member('e')] });
  it('keeps an override whose holders are all up members', () => {
    const o = ['c', 'a'];
    expect(effectiveReplicas(o, ring, 3)).toBe(o);
  });
  it('replaces a leaving or departed holder with ring replicas, keeping the count', () => {
    const got = effectiveReplicas(['d', 'gone', 'a'], ring, 5);
    expect(got).toHaveLength(3);
    expect(got[0]).toBe('a');
    expect(new Set(got).size).toBe(3);
    for (const id of got.slice(1)) expect(ring.replicasFor(5)).toContain(id);
  });
  it('falls back to the ring when no holder is left', () => {
    expect(effectiveReplicas(['d', 'gone'], ring, 7)).toBe(ring.replicasFor(7));
  });
});

describe('planMove', () => {
  const base = { key: 'k', partition: 9, ringReplicas: ['a', 'b'], reason: 'test' };

  it('does nothing when the placement would not change', () => {
    expect(planMove({ ...base, current: { replicas: ['a', 'b'], overridden: false }, target: null })).toBeUndefined();
    expect(
      planMove({ ...base, current: { replicas: ['c', 'a'], overridden: true }, target: ['c', 'a'] }),
    ).toBeUndefined();
  });

  it('places a key: copy to the new holders, release the old ones', () => {
    const plan = planMove({ ...base, current: { replicas: ['a', 'b'], overridden: false }, target: ['c', 'a'] })!;
    expect(plan).toMatchObject({ scope: 'partition:9', from: ['a', 'b'], to: ['c', 'a'], overridden: true });
    expect(plan.copyTo).toEqual(['c']);
    expect(plan.release).toEqual(['b']);
  });

  it('returns a key to the ring', () => {
    const plan = planMove({ ...base, current: { replicas: ['c', 'd'], overridden: true }, target: null })!;
    expect(plan.to).toEqual(['a', 'b']);
    expect(plan.copyTo).toEqual(['a', 'b']);
    expect(plan.overridden).toBe(false);
  });

  it('a move that only drops holders copies nothing', () => {
    const plan = planMove({ ...base, current: { replicas: ['a', 'b', 'c'], overridden: true }, target: ['a'] })!;
    expect(plan.copyTo).toEqual([]);
    expect(plan.release).toEqual(['b', 'c']);
  });

  it('pins a key where the ring has it (an override equal to the ring placement)', () => {
    const plan = planMove({ ...base, current: { replicas: ['a', 'b'], overridden: false }, target: ['a', 'b'] })!;
    expect(plan.copyTo).toEqual([]);
    expect(plan.overridden).toBe(true);
  });
});

describe('planWave', () => {
  const move = (key: string, partition: number, target: string[] | null, current = ['a', 'b']) =>
    planMove({
      key,
      partition,
      ringReplicas: ['a', 'b'],
      reason: `r-${key}`,
      current: { replicas: current, overridden: target === null },
      target,
      sizeBytes: 1024 * 1024,
    })!;

  it('groups moves per partition (one epoch each), in partition order, one move per key', () => {
    const w = planWave('w1', [move('x', 7, ['c', 'a']), move('y', 2, ['c', 'b']), move('z', 7, null, ['c', 'd'])]);
    expect(w.groups.map((g) => [g.partition, g.moves.map((m) => m.key)])).toEqual([
      [2, ['y']],
      [7, ['x', 'z']],
    ]);
    const dup = planWave('w2', [move('x', 7, ['c', 'a']), move('x', 7, ['d', 'a'])]);
    expect(dup.moves.map((m) => m.to)).toEqual([['c', 'a']]);
  });

  it('gives the copy step more time for more bytes, and intents outlive every step', () => {
    const small = planWave('s', [move('x', 1, ['c', 'a'])]);
    const big = planWave(
      'b',
      Array.from({ length: 200 }, (_, i) => move(`k${i}`, i, ['c', 'a'])),
    );
    expect(big.timeouts.copy).toBeGreaterThan(small.timeouts.copy + 40_000);
    const t = big.timeouts;
    expect(big.intentTtlMs).toBeGreaterThan(t.announce + 2 * t.copy + t.commit + t.distribute + t.publish);
  });

  it('commits overrides set and removed in one change, carrying the reason', () => {
    const w = planWave('w', [move('x', 7, ['c', 'a']), move('z', 7, null, ['c', 'd'])]);
    expect(groupChange(w.groups[0].moves, 'why')).toEqual({
      overridesSet: [{ key: 'x', replicas: ['c', 'a'] }],
      overridesRemoved: ['z'],
      reason: 'why',
    });
  });
});

describe('holder directory entries', () => {
  const entry: HolderEntry = { scope: 'partition:42', number: 3, hash: 'ab'.repeat(32), publisher: 'p1' };

  it('round-trip, and refuse another chain, or a malformed value', () => {
    const bytes = encodeHolderEntry(entry);
    const decode = (b: Uint8Array) => decodeHolderEntry(b, 'partition:42');
    expect(decode(bytes)).toEqual(entry);
    expect(decodeHolderEntry(bytes, 'partition:7')).toBeUndefined();
    expect(decode(Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(decode(encodeHolderEntry({ ...entry, hash: 'nope' }))).toBeUndefined();
    expect(decode(encodeHolderEntry({ ...entry, publisher: '' }))).toBeUndefined();
    expect(decode(encodeHolderEntry({ ...entry, scope: 'cluster' as never }))).toBeUndefined();
  });

  it('compare with the local chain: current, behind or conflict', () => {
    const chain = (number: number, hash: string) => ({ number, hashAt: (n: number) => (n === 3 ? hash : undefined) });
    expect(compareWithChain(entry, chain(3, entry.hash))).toBe('current');
    expect(compareWithChain(entry, chain(5, entry.hash))).toBe('current');
    expect(compareWithChain(entry, chain(2, entry.hash))).toBe('behind');
    expect(compareWithChain(entry, chain(3, 'cd'.repeat(32)))).toBe('conflict');
  });
});

describe('joint quorum during a move', () => {
  const delayed = (ms: Record<string, number | 'fail'>) => (peer: string) =>
    new Promise<string>((res, rej) => {
      const d = ms[peer];
      if (d === 'fail') setTimeout(() => rej(new Error(peer)), 1);
      else setTimeout(() => res(peer), d);
    });

  it('needs a majority of the old holders and of the new ones', async () => {
    const need = groupsNeed([
      { members: ['a', 'b'], need: 2 },
      { members: ['c', 'd'], need: 2 },
    ]);
    const union = unionOf(['a', 'b'], ['c', 'd']);
    const { reached } = quorumCall(union, need, delayed({ a: 1, b: 1, c: 1, d: 30 }));
    const o = await reached;
    expect(o.ok.map((x) => x.target).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fails as soon as one group cannot reach its quorum', async () => {
    const need = groupsNeed([
      { members: ['a', 'b', 'c'], need: 2 },
      { members: ['c', 'd'], need: 2 },
    ]);
    const { reached } = quorumCall(['a', 'b', 'c', 'd'], need, delayed({ a: 1, b: 1, c: 5, d: 'fail' }));
    await expect(reached).rejects.toMatchObject({ failed: [{ target: 'd' }] });
  });
});

describe('ClusterRing placement', () => {
  const ids = ['p1', 'p2', 'p3', 'p4'];
  const net = {
    peerId: 'p1',
    members: () =>
      ids.map((id) => ({ peerId: id, zone: `z${id}`, capacity: 1, leaving: false, self: id === 'p1', status: 'up' })),
    member: (id: string) => ({ peerId: id, status: 'up' }),
  } as unknown as Net;

  it('answers ring, then override, then the union while a move is announced; an expired move is ignored', () => {
    const ring = new ClusterRing(net, { partitions: 64, replicas: 2 });
    ring.refresh();
    const key = 'k';
    const home = ring.replicasOf(key);
    expect(ring.placementOf(key).source).toBe('ring');
    const other = ids.filter((id) => !home.includes(id));
    ring.overrides.setPartition(ring.ring.partitionOf(key), [
      { key, replicas: other, scope: `partition:${ring.ring.partitionOf(key)}`, number: 1, hash: 'h' },
    ]);
    expect(ring.replicasOf(key)).toEqual(other);
    expect(ring.isOverridden(key)).toBe(true);
    expect(ring.replicasOf('another')).toEqual(ring.ring.replicasFor(ring.ring.partitionOf('another')));
    ring.overrides.announce({ key, from: other, to: home, expiresAt: Date.now() + 60_000 });
    expect(ring.replicasOf(key)).toEqual([...other, ...home]);
    expect(ring.quorumGroupsOf(key)).toEqual([other, home]);
    ring.overrides.announce({ key, from: other, to: home, expiresAt: Date.now() - 1 });
    expect(ring.replicasOf(key)).toEqual(other);
    expect(ring.quorumGroupsOf(key)).toBeUndefined();
    ring.overrides.setPartition(ring.ring.partitionOf(key), []);
    expect(ring.replicasOf(key)).toEqual(home);
  });

  it('drops intents that expired without a cancel when the next move is announced', () => {
    const ring = new ClusterRing(net, { partitions: 64, replicas: 2 });
    ring.refresh();
    const table = ring.overrides;
    table.announce({ key: 'a', from: [ids[0]], to: [ids[1]], expiresAt: 1_000 }, 0);
    table.announce({ key: 'b', from: [ids[0]], to: [ids[1]], expiresAt: 5_000 }, 2_000);
    expect(table.movingKeys()).toEqual(['b']);
    table.settle('b');
    expect(table.active).toBe(false);
  });

  it('an epoch settles only the move it completes, not a later move of the same key', () => {
    const ring = new ClusterRing(net, { partitions: 64, replicas: 2 });
    ring.refresh();
    const table = ring.overrides;
    table.announce({ key: 'k', from: [ids[0], ids[1]], to: [ids[2], ids[3]], expiresAt: Date.now() + 60_000 });
    table.settleIfMovingTo('k', [ids[1], ids[2]]); // an earlier move's epoch, arriving late
    expect(table.movingKeys()).toEqual(['k']);
    table.settleIfMovingTo('k', [ids[3], ids[2]]);
    expect(table.movingKeys()).toEqual([]);
  });
});

describe('resolveHolders', () => {
  const ms = [
    { id: '12D3KooWAaaa1111', zone: 'a', capacity: 1, state: 'up' as const },
    { id: '12D3KooWBbbb2222', zone: 'b', capacity: 1, state: 'up' as const },
  ];
  it('makes unique prefixes and suffixes whole, and names the candidates of the others', () => {
    expect(resolveHolders(['1111', '12D3KooWB'], ms)).toEqual({ replicas: [ms[0].id, ms[1].id] });
    expect(resolveHolders(['12D3KooW'], ms)).toMatchObject({
      code: 'MEMBER_AMBIGUOUS',
      message: expect.stringContaining(ms[1].id),
    });
    expect(resolveHolders(['nope'], ms)).toMatchObject({
      code: 'INVALID_PLACEMENT',
      message: expect.stringContaining(ms[0].id),
    });
  });
});
