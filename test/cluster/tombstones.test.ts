import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, put } from './helpers.ts';

const ARGS = [...FAST_REPAIR, '--tombstone-grace-ms', '1500'];
let c: Cluster;

beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [ARGS, ARGS, ARGS] });
});
afterAll(stopAllClusters);

type Copies = { replicas: Array<{ version?: string; tombstone?: boolean }> };
const copies = async (key: string) =>
  (await (await fetch(`${c.daemons[0].url}/admin/records/${encodeURIComponent(key)}`)).json()) as Copies;
const del = async (i: number, key: string, consistency = 'quorum') =>
  (await fetch(recordUrl(c.daemons[i], key, consistency), { method: 'DELETE' })).status;

describe('tombstones', () => {
  it('are collected from every replica once all hold them and the grace period passed', {
    timeout: 60_000,
  }, async () => {
    expect(await put(c.daemons[0], 'gone', 'v')).toBe(201);
    // At `all`, every replica holds the tombstone when the delete returns.
    expect(await del(1, 'gone', 'all')).toBe(204);
    const tomb = await copies('gone');
    expect(tomb.replicas.every((r) => r.tombstone === true)).toBe(true);
    const collected = await eventually(
      async () => (await copies('gone')).replicas.every((r) => r.version === undefined),
      30_000,
      300,
    );
    expect(collected).toBe(true);
    for (const d of c.daemons) expect((await get(d, 'gone', 'one')).status).toBe(404);
  });

  it('are kept while a replica is down, so the deleted value cannot come back when it returns', {
    timeout: 60_000,
  }, async () => {
    expect(await put(c.daemons[0], 'zombie', 'brains', 'all')).toBe(201);
    await c.kill9(2);
    expect(await del(0, 'zombie')).toBe(204);
    await new Promise((r) => setTimeout(r, 3000)); // past the grace period: still kept (replica 2 is down)
    expect((await copies('zombie')).replicas.filter((r) => r.tombstone).length).toBe(2);
    const back = await c.restart(2);
    const gone = await eventually(
      async () => (await copies('zombie')).replicas.every((r) => r.version === undefined),
      30_000,
      300,
    );
    expect(gone).toBe(true);
    for (const d of [c.daemons[0], c.daemons[1], back]) expect((await get(d, 'zombie', 'all')).status).toBe(404);
  });
});
