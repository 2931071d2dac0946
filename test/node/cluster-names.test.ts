import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { clusterAdmin, ringView } from '../../node/cluster-admin.ts';
import { clusterRoutes } from '../../src/api/cluster-routes.ts';
import type { Member, Net } from '../../src/net/index.ts';
import type { Replication } from '../../src/replication/index.ts';
import { createRing } from '../../src/ring/index.ts';

const member = (peerId: string, status: Member['status'], extra: Partial<Member> = {}): Member =>
  ({ peerId, zone: `z-${peerId}`, capacity: 1, status, lastSeen: 1, self: false, multiaddrs: [], ...extra }) as Member;

const members = [member('a', 'up', { self: true }), member('b', 'down'), member('c', 'suspect')];

/** The ring the daemon would build from those members (c is handing its partitions off). */
const ring = createRing({
  partitions: 16,
  replicas: 3,
  members: members.map((m) => ({
    id: m.peerId,
    zone: m.zone,
    capacity: 1,
    state: m.peerId === 'c' ? ('leaving' as const) : ('up' as const),
  })),
});

describe('/admin/peers and /admin/ring name members alike', () => {
  it('ring members carry peerId and their health as state (leaving wins), the old id too', () => {
    const view = ringView(ring.summary(), members);
    expect(view.members.map((m) => [m.peerId, m.id, m.state])).toEqual([
      ['a', 'a', 'up'],
      ['b', 'b', 'down'],
      ['c', 'c', 'leaving'],
    ]);
  });

  it('over HTTP: peers have state (and the old status), ring members peerId and state', async () => {
    const net = { members: () => members } as unknown as Net;
    const replication = { ring: { ring } } as unknown as Replication;
    const admin = clusterAdmin(
      () => net,
      () => replication,
      () => undefined,
      () => {},
    );
    const app = Fastify();
    await app.register(clusterRoutes(admin));
    const peers = (await app.inject({ method: 'GET', url: '/admin/peers' })).json();
    expect(peers.members.map((m: Member & { state: string }) => [m.peerId, m.state, m.status])).toEqual([
      ['a', 'up', 'up'],
      ['b', 'down', 'down'],
      ['c', 'suspect', 'suspect'],
    ]);
    const r = (await app.inject({ method: 'GET', url: '/admin/ring' })).json();
    expect(r.members.map((m: { peerId: string; id: string; state: string }) => [m.peerId, m.id, m.state])).toEqual([
      ['a', 'a', 'up'],
      ['b', 'b', 'down'],
      ['c', 'c', 'leaving'],
    ]);
    expect(r.members[0]).toMatchObject({ zone: 'z-a', capacity: 1 });
    expect(r.members[0].replicas).toBeGreaterThan(0);
    await app.close();
  });
});
