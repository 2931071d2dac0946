import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { runCli } from '../support/daemon-process.ts';
import { eventually, FAST_REPAIR, get, meta, put } from './helpers.ts';

afterAll(stopAllClusters);

// R = 2 on four daemons: after one leaves and one dies, the last two still hold R copies of everything.
const ARGS = [...FAST_REPAIR, '--replicas', '2'];
const KEYS = Array.from({ length: 80 }, (_, i) => `dep/${i}`);

type Peer = { peerId: string; status: string };
const peersOf = async (d: { url: string }) =>
  ((await (await fetch(`${d.url}/admin/peers`)).json()) as { members: Peer[] }).members;
const ringOf = async (d: { url: string }) =>
  (await (await fetch(`${d.url}/admin/ring`)).json()) as { members: Array<{ id: string }>; underReplicated: number };
const removeVia = async (d: { url: string }, peerId: string, body: unknown = {}) => {
  const r = await fetch(`${d.url}/admin/members/${encodeURIComponent(peerId)}/remove`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { code?: string; message?: string; removed?: string } };
};

/** True once every daemon in `on` lists exactly `ids` as members and its ring is fully replicated on them. */
const settledOn = (on: Array<{ url: string }>, ids: string[]) =>
  eventually(
    async () => {
      for (const d of on) {
        const members = (await peersOf(d)).map((m) => m.peerId).sort();
        const ring = await ringOf(d);
        if (members.join() !== [...ids].sort().join() || ring.members.length !== ids.length) return false;
        if (ring.underReplicated !== 0) return false;
      }
      return true;
    },
    30_000,
    300,
  );

describe('departed and dead members', () => {
  let c: Cluster;
  let ids: string[];
  beforeAll(async () => {
    c = await startCluster({ n: 4, extra: [ARGS, ARGS, ARGS, ARGS] });
    ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
    for (const k of KEYS) expect(await put(c.daemons[0], k, `v-${k}`)).toBe(201);
  }, 60_000);

  it('a daemon that left is gone from every membership and ring', async () => {
    expect((await fetch(`${c.daemons[3].url}/admin/leave`, { method: 'POST' })).status).toBe(202);
    expect(await eventually(async () => c.daemons[3].proc.exitCode !== null, 30_000)).toBe(true);
    expect(await settledOn(c.daemons.slice(0, 3), ids.slice(0, 3))).toBe(true);
    for (const k of KEYS) expect((await get(c.daemons[1], k, 'all')).body).toBe(`v-${k}`);
  }, 60_000);

  it('shoal remove drops a dead daemon and re-replicates its data; refusals carry catalogue codes', async () => {
    const [d0, d1] = c.daemons;
    for (const k of KEYS) expect(await put(d1, k, `w-${k}`)).toBe(200);
    await c.kill9(2);
    // Refusals: the daemon itself, an up member without force, an unknown id, an ambiguous prefix.
    expect((await removeVia(d0, ids[0])).body.code).toBe('REMOVE_SELF');
    expect(await removeVia(d0, ids[1])).toMatchObject({ status: 409, body: { code: 'MEMBER_UP' } });
    expect(await removeVia(d0, 'no-such-peer')).toMatchObject({ status: 404, body: { code: 'MEMBER_NOT_FOUND' } });
    const ambiguous = await removeVia(d0, ids[1].slice(0, 8));
    expect(ambiguous).toMatchObject({ status: 400, body: { code: 'MEMBER_AMBIGUOUS' } });
    expect(ambiguous.body.message).toContain(ids[1]);
    // Until the failure detector says down (10 s of silence), a SIGKILLed member is only suspect.
    const down = await eventually(
      // Each daemon's failure detector decides for itself: the remove below goes through d1.
      async () => {
        const views = await Promise.all([d0, d1].map((d) => peersOf(d)));
        return views.every((v) => v.find((m) => m.peerId === ids[2])?.status === 'down');
      },
      20_000,
      500,
    );
    expect(down).toBe(true);
    const r = await runCli(['remove', ids[2].slice(-8), '--url', d1.url], 20_000);
    expect(r.code, r.out).toBe(0);
    expect(await settledOn([d0, d1], ids.slice(0, 2))).toBe(true);
    // Every write acknowledged before the kill is readable at `all`, with R = 2 agreeing copies.
    const copied = await eventually(
      async () => {
        for (const k of KEYS) {
          const m = await meta(d0, k);
          if (m.replicas.length !== 2 || !m.replicas.every((x) => x.agrees && x.version)) return false;
        }
        return true;
      },
      30_000,
      500,
    );
    expect(copied).toBe(true);
    for (const k of KEYS) expect(await get(d1, k, 'all')).toEqual({ status: 200, body: `w-${k}` });
    // Removing it again: it is no member any more.
    expect((await removeVia(d0, ids[2])).body.code).toBe('MEMBER_NOT_FOUND');
  }, 90_000);
});
