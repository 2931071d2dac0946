import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, launchTracked, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { freePort } from '../support/daemon-process.ts';
import { eventually, FAST_REPAIR, get, meta, put } from './helpers.ts';

afterAll(stopAllClusters);

const KEYS = Array.from({ length: 150 }, (_, i) => `item/${i}`);

describe('joining and leaving', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ n: 3, extra: [FAST_REPAIR, FAST_REPAIR, FAST_REPAIR] });
    for (const k of KEYS) expect(await put(c.daemons[0], k, `v-${k}`)).toBe(201);
  });

  it('a fourth daemon joins: data rebalances onto it and quorum reads stay correct throughout', async () => {
    const s0 = await statusOf(c.daemons[0]);
    const port = await freePort();
    const dataDir = join(c.root, 'd3');
    const reads = (async () => {
      let wrong = 0;
      for (let round = 0; round < 6; round++) {
        for (const k of KEYS.slice(round * 25, round * 25 + 25))
          if ((await get(c.daemons[1], k)).body !== `v-${k}`) wrong++;
      }
      return wrong;
    })();
    const d3 = await launchTracked({
      url: `http://127.0.0.1:${port}`,
      dataDir,
      args: [
        'start',
        '--data-dir',
        dataDir,
        '--http-port',
        String(port),
        '--zone',
        'z3',
        '--cluster-secret',
        c.secretFile!,
        '--join',
        s0.multiaddrs[0],
        '--log-level',
        'warn',
        ...FAST_REPAIR,
      ],
    });
    c.daemons.push(d3);
    expect(await reads).toBe(0);
    await c.waitConverged(20_000);
    const ring = (await (await fetch(`${d3.url}/admin/ring`)).json()) as {
      members: Array<{ id: string; replicas: number }>;
    };
    const mine = ring.members.find((m) => m.id === s0.peerId);
    expect(ring.members).toHaveLength(4);
    expect(mine?.replicas).toBeLessThan(4096);
    // Every key ends with all three of its (new) replicas agreeing, the new daemon included where it is one.
    const settled = await eventually(
      async () => {
        for (const k of KEYS) if (!(await meta(d3, k)).replicas.every((r) => r.agrees && r.version)) return false;
        return true;
      },
      30_000,
      500,
    );
    expect(settled).toBe(true);
    for (const k of KEYS) expect((await get(d3, k)).body).toBe(`v-${k}`);
  });

  it('a daemon leaves: it hands its data off and exits, and no record drops below three copies', async () => {
    const leaver = c.daemons[2];
    const res = await fetch(`${leaver.url}/admin/leave`, { method: 'POST' });
    expect(res.status).toBe(202);
    const exited = await eventually(async () => leaver.proc.exitCode !== null, 30_000);
    expect(exited).toBe(true);
    expect(leaver.proc.exitCode).toBe(0);
    const survivors = [c.daemons[0], c.daemons[1], c.daemons[3]];
    const ok = await eventually(
      async () => {
        for (const k of KEYS) {
          const m = await meta(survivors[0], k);
          if (m.replicas.length !== 3 || !m.replicas.every((r) => r.agrees && r.version)) return false;
        }
        return true;
      },
      30_000,
      500,
    );
    expect(ok).toBe(true);
    for (const k of KEYS) expect((await get(survivors[2], k, 'all')).body).toBe(`v-${k}`);
  });
});

describe('five daemons', () => {
  it('a write on the first is read on the last at every consistency level', async () => {
    const c5 = await startCluster({ n: 5 });
    const [a, , , , e] = c5.daemons;
    for (let i = 0; i < 30; i++) expect(await put(a, `five/${i}`, `x${i}`)).toBe(201);
    for (const level of ['one', 'quorum', 'all', 'linearizable']) {
      for (let i = 0; i < 30; i++) {
        const r = await get(e, `five/${i}`, level);
        // `one` may land on a replica the write has not reached yet; the others may not be stale.
        if (level === 'one' && r.status === 404) continue;
        expect(r, `${level} five/${i}`).toEqual({ status: 200, body: `x${i}` });
      }
    }
    await c5.stopAll();
  });
});
