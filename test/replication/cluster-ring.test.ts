import { describe, expect, it } from 'vitest';
import type { Net } from '../../src/net/index.ts';
import { ClusterRing } from '../../src/replication/cluster-ring.ts';
import { resolvePlacement } from '../../src/ring/index.ts';

/** A net whose member list the test edits. */
function fakeNet(ids: string[]) {
  const live = new Set(ids);
  const net = {
    peerId: ids[0],
    members: () =>
      [...live].map((id) => ({
        peerId: id,
        zone: `z${id}`,
        capacity: 1,
        leaving: false,
        self: id === ids[0],
        status: 'up',
      })),
    member: (id: string) => ({ peerId: id, status: 'up' }),
  } as unknown as Net;
  return { net, live };
}

describe('ClusterRing: every answer is resolvePlacement', () => {
  it('replicasOf, quorumGroupsOf and placementOf agree with the resolver for ring, override and move', () => {
    const { net } = fakeNet(['p1', 'p2', 'p3', 'p4', 'p5']);
    const ring = new ClusterRing(net, { partitions: 64, replicas: 2 });
    ring.refresh();
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const agree = () => {
      for (const k of keys) {
        const o = ring.overrides.get(k)?.replicas;
        const m = ring.overrides.intentOf(k);
        const want = resolvePlacement(ring.ring, k, o, m);
        expect(ring.replicasOf(k)).toEqual(want.holders);
        expect(ring.quorumGroupsOf(k)).toEqual(want.groups);
        const got = ring.placementOf(k);
        expect(got).toMatchObject({
          partition: want.partition,
          source: want.source,
          replicas: want.replicas,
          ringReplicas: want.ringReplicas,
        });
      }
    };
    agree();
    for (const k of keys.slice(0, 10)) {
      const p = ring.ring.partitionOf(k);
      ring.overrides.setPartition(p, [
        { key: k, replicas: ['p5', 'p4'], scope: `partition:${p}`, number: 1, hash: 'h' },
      ]);
    }
    for (const k of keys.slice(5, 15)) {
      ring.overrides.announce({ key: k, from: ring.replicasOf(k), to: ['p3', 'p1'], expiresAt: Date.now() + 60_000 });
    }
    agree();
    expect(ring.placementOf(keys[7]).moving?.to).toEqual(['p3', 'p1']);
  });

  it('a departed override holder is replaced once the ring changes (the cache follows the ring)', () => {
    const { net, live } = fakeNet(['p1', 'p2', 'p3', 'p4']);
    const ring = new ClusterRing(net, { partitions: 64, replicas: 2 });
    ring.refresh();
    const key = 'k';
    const p = ring.ring.partitionOf(key);
    ring.overrides.setPartition(p, [{ key, replicas: ['p4', 'p3'], scope: `partition:${p}`, number: 1, hash: 'h' }]);
    expect(ring.replicasOf(key)).toEqual(['p4', 'p3']);
    live.delete('p4');
    expect(ring.refresh()).toBe(true);
    const now = ring.replicasOf(key);
    expect(now).toHaveLength(2);
    expect(now[0]).toBe('p3');
    expect(now).not.toContain('p4');
    expect(ring.placementOf(key).replicas).toEqual(now);
  });
});
