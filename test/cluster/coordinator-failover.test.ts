/**
 * Coordinator failover (#16): when the coordinator of a key's partition dies, the next cluster epoch marks it
 * down (co-signed by a majority), its next replica coordinates, and the key can be placed again: here its dead
 * holder is replaced by the fourth daemon. When the dead daemon is back, a later epoch marks it up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, put } from './helpers.ts';

type LayoutView = { epochs: Array<{ number: number; down: string[] }> };
type Placed = { coordinator: string; replicas: string[]; previous: string[]; changed: boolean };
const layoutOf = async (d: { url: string }) => (await (await fetch(`${d.url}/admin/layout`)).json()) as LayoutView;
const enc = encodeURIComponent;
const ARGS = [...FAST_REPAIR, '--replicas', '3'];

let c: Cluster;
let ids: string[];
beforeAll(async () => {
  c = await startCluster({ n: 4, extra: [ARGS, ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
});
afterAll(stopAllClusters);

const place = async (d: { url: string }, key: string, replicas: string[]) => {
  const r = await fetch(`${d.url}/admin/records/${enc(key)}/placement`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ replicas, reason: 'failover test' }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: r.status, body: (await r.json()) as Placed & { code?: string; message?: string } };
};

describe('a partition whose coordinator is down', () => {
  it('gets a new coordinator through the next cluster epoch, so its placements can change again', {
    timeout: 120_000,
  }, async () => {
    const key = 'failover/k';
    expect(await put(c.daemons[0], key, 'v1', 'all')).toBe(201);
    // A no-op placement names the key's holders and coordinator.
    const r0 = (await (await fetch(`${c.daemons[0].url}/admin/records/${enc(key)}`)).json()) as {
      placement: { replicas: string[] };
    };
    const holders = r0.placement.replicas;
    const spare = ids.find((id) => !holders.includes(id))!;
    const first = await place(c.daemons[0], key, [...holders].reverse());
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const dead = first.body.coordinator;
    expect(holders).toContain(dead);
    const deadIndex = ids.indexOf(dead);
    await c.kill9(deadIndex);
    const survivor = c.daemons[ids.findIndex((id, i) => i !== deadIndex && holders.includes(id))];

    // The survivors agree that it is down: a cluster epoch lists it, co-signed by a majority of the four.
    const marked = await eventually(
      async () => (await layoutOf(survivor)).epochs.at(-1)?.down.includes(dead) === true,
      40_000,
      500,
    );
    expect(marked).toBe(true);
    // Its key moves off it: the dead holder is replaced by the spare daemon, coordinated by the next replica.
    const target = [...holders.filter((h) => h !== dead), spare];
    const moved = await place(survivor, key, target);
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.coordinator).not.toBe(dead);
    expect(holders).toContain(moved.body.coordinator);
    expect([...moved.body.replicas].sort()).toEqual([...target].sort());
    expect(await get(c.daemons[ids.indexOf(spare)], key, 'one')).toEqual({ status: 200, body: 'v1' });
    expect(await get(survivor, key, 'quorum')).toEqual({ status: 200, body: 'v1' });

    // Back up: a later epoch marks it up again.
    await c.restart(deadIndex);
    const back = await eventually(async () => (await layoutOf(survivor)).epochs.at(-1)?.down.length === 0, 40_000, 500);
    expect(back).toBe(true);
  });
});
