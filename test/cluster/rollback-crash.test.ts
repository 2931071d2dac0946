/**
 * A rollback survives a SIGKILL of its coordinator (#16): the coordinator dies right before the rollback's copy
 * step; after its restart the rollback completes (its uncommitted moves run again), every record is back on its
 * earlier holders with its value, and the DSM stays paused, as the rollback left it, across the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRing } from '../../src/ring/index.ts';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, layoutAgreed, put } from './helpers.ts';

const R = 2;
const ARGS = [...FAST_REPAIR, '--replicas', String(R), '--fault-injection', 'on', '--dsm-policy', 'hybrid'];
type Placement = { source: 'ring' | 'override'; replicas: string[] };
type M = { key: string; wave: string; state: string; origin: string };
const enc = encodeURIComponent;
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const post = (url: string, body: unknown, method = 'POST') =>
  fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });

let c: Cluster;
let ids: string[];
beforeAll(async () => {
  c = await startCluster({ n: 4, extra: [ARGS, ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
  expect(await layoutAgreed(c.daemons)).toBe(true);
  // Demand-driven moves would blur what the rollback must restore: the DSM is paused on every daemon.
  for (const d of c.daemons) expect((await post(`${d.url}/admin/dsm/pause`, {})).status).toBe(200);
}, 60_000);
afterAll(stopAllClusters);

describe('a rollback whose coordinator is SIGKILLed', () => {
  it('completes after the restart: every record back where it was, intact; the DSM still paused', {
    timeout: 120_000,
  }, async () => {
    const ring = createRing({ replicas: R, members: ids.map((id, i) => ({ id, zone: `z${i}` })) });
    const [c0, s0] = ring.replicasFor(0);
    const C = ids.indexOf(c0);
    const others = ids.filter((id) => id !== c0 && id !== s0);
    const want = [c0, s0].join();
    const keys: string[] = [];
    for (let i = 0; keys.length < 12; i++) {
      const key = `rb/${i}`;
      if (ring.replicasFor(ring.partitionOf(key)).join() === want) keys.push(key);
    }
    const writeVia = c.daemons[ids.indexOf(others[0])];
    for (const k of keys) expect(await put(writeVia, k, `v-${k}`)).toBe(201);

    // One manual wave moves them off [C, S]; its rollback is what C will be killed in.
    const placed = await json<{ results: Array<{ wave?: string; changed: boolean }> }>(
      await post(`${writeVia.url}/admin/placements`, {
        placements: keys.map((key) => ({ key, replicas: others })),
        reason: 'before the rollback',
      }),
    );
    const wave = placed.results.find((r) => r.changed)?.wave;
    expect(wave).toBeDefined();
    const placementOf = async (d: { url: string }, k: string) =>
      (await json<{ placement: Placement }>(await fetch(`${d.url}/admin/records/${enc(k)}`))).placement;
    for (const k of keys) expect((await placementOf(writeVia, k)).replicas.sort()).toEqual([...others].sort());

    expect((await post(`${c.daemons[C].url}/admin/faults/wave`, { crashBefore: 'copy' }, 'PUT')).status).toBe(200);
    const rb = await post(`${writeVia.url}/admin/layout/rollback`, { wave });
    expect(rb.status, await rb.clone().text()).toBe(202);
    expect(await eventually(async () => !c.alive().includes(C), 30_000, 50)).toBe(true);
    await c.restart(C);

    const back = await eventually(
      async () => {
        for (const d of c.daemons) for (const k of keys) if ((await placementOf(d, k)).source !== 'ring') return false;
        return true;
      },
      60_000,
      500,
    );
    const story = (await json<{ history: M[] }>(await fetch(`${c.daemons[C].url}/admin/migrations?limit=1000`))).history
      .filter((m) => keys.includes(m.key))
      .map((m) => `${m.key} ${m.wave} ${m.origin} ${m.state}`);
    expect(back, story.join('\n')).toBe(true);
    for (const k of keys) {
      expect((await placementOf(c.daemons[C], k)).replicas).toEqual([c0, s0]);
      expect(await get(c.daemons[C], k, 'quorum')).toEqual({ status: 200, body: `v-${k}` });
    }
    // The rollback's moves that had not committed ran again, as a wave of their own, and ended done.
    expect(story.some((line) => / rollback done$/.test(line) && line.includes('.2 '))).toBe(true);
    const dsm = await json<{ paused: boolean }>(await fetch(`${c.daemons[C].url}/admin/dsm`));
    expect(dsm.paused).toBe(true);
  });
});
