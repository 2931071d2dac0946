import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAdmin } from '../../node/cluster-admin.ts';
import { clusterRoutes } from '../../src/api/cluster-routes.ts';
import { installErrorHandling } from '../../src/api/errors.ts';
import type { Member, Net } from '../../src/net/index.ts';
import { runShoal } from '../support/daemon-process.ts';

const ID = { self: '12D3KooWSelf0000000000', live: '12D3KooWLive1111111111', dead: '12D3KooWDead2222222222' };
const member = (peerId: string, status: Member['status'], self = false) =>
  ({ peerId, zone: 'z', capacity: 1, status, lastSeen: 1, self, multiaddrs: [] }) as unknown as Member;

let app: FastifyInstance;
let url: string;
const removed: string[] = [];
let left = false;

beforeAll(async () => {
  const members = [member(ID.self, 'up', true), member(ID.live, 'up'), member(ID.dead, 'down')];
  const net = {
    members: () => members.filter((m) => !removed.includes(m.peerId)),
    remove: async (id: string) => {
      removed.push(id);
      return members.find((m) => m.peerId === id);
    },
  } as unknown as Net;
  app = Fastify();
  installErrorHandling(app);
  await app.register(
    clusterRoutes(
      clusterAdmin(
        () => net,
        () => undefined,
        () => undefined,
        () => {
          left = true;
        },
      ),
    ),
  );
  // As a daemon that left: gone (the connection drops) once it has handed its data off.
  app.get('/healthz', async (_req, reply) => (left ? reply.raw.destroy() : { status: 'ok' }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => app?.close());

const remove = (...args: string[]) => runShoal(['remove', ...args, '--url', url]);

describe('shoal remove, leave and placement (refusals as shoal: <CODE>: <message>)', () => {
  it('refuses a live member with MEMBER_UP and what to do instead; removes nothing', async () => {
    const r = await remove(ID.live);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^shoal: MEMBER_UP: member ${ID.live} is up: a running daemon should shoal leave`),
    );
    expect(r.stderr).toContain(
      'shoal: stop it with shoal leave --url <its URL>, or remove a daemon you know is gone with --force',
    );
    expect(r.stdout).toBe('');
    expect(removed).toEqual([]);
  });

  it('refuses this daemon itself with REMOVE_SELF', async () => {
    const r = await remove(ID.self.slice(-8));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shoal: REMOVE_SELF: /);
  });

  it('removes a dead member, and a live one with --force', async () => {
    const dead = await remove(ID.dead.slice(0, 14));
    expect(dead.code, dead.stderr).toBe(0);
    expect(JSON.parse(dead.stdout)).toMatchObject({ removed: ID.dead, state: 'down', status: 'down' });
    expect(dead.stderr).toContain(`removed ${ID.dead} (zone z, was down)`);
    const live = await remove(ID.live, '--force');
    expect(live.code, live.stderr).toBe(0);
    expect(removed).toEqual([ID.dead, ID.live]);
  });

  it('is a usage error (exit 2) without exactly one peer id or with an unknown flag', async () => {
    for (const args of [[], ['a', 'b'], ['a', '--bogus']]) {
      const r = await remove(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: shoal remove <peerId> [--force]');
    }
  });

  it('placement refusals and leave speak as every admin client does', async () => {
    // This server's replication is not up: the daemon's refusal, as it came.
    const p = await runShoal(['placement', 'show', 'k', '--url', url]);
    expect(p.code).toBe(1);
    expect(p.stderr).toBe('shoal: NOT_READY: the daemon is starting or stopping\n');
    expect((await runShoal(['placement', 'set', 'k', '--url', url])).code).toBe(2);
    expect((await runShoal(['leave', 'extra', '--url', url])).code).toBe(2);
    const l = await runShoal(['leave', '--url', url, '--timeout', '10']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toContain('left the cluster');
    expect(left).toBe(true);
  });
});
