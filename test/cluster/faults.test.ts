import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, meta, put } from './helpers.ts';

afterAll(stopAllClusters);

describe('three daemons under faults', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ n: 3, extra: [FAST_REPAIR, FAST_REPAIR, FAST_REPAIR] });
  });

  it('a write on A is read on C at every consistency level, and ?meta=1 shows every replica agreeing', async () => {
    const [a, , cc] = c.daemons;
    expect(await put(a, 'user:1', 'alice')).toBe(201);
    for (const level of ['one', 'quorum', 'all', 'linearizable']) {
      await expect
        .poll(async () => get(cc, 'user:1', level), { timeout: 3000 })
        .toEqual({ status: 200, body: 'alice' });
    }
    const m = await meta(cc, 'user:1');
    expect(m.replicas).toHaveLength(3);
    await expect
      .poll(async () => (await meta(cc, 'user:1')).replicas.every((r) => r.agrees), { timeout: 3000 })
      .toBe(true);
  });

  it('SIGKILL of one daemon during a write load loses no acknowledged quorum write; on restart it catches up', async () => {
    const [a, , cc] = c.daemons;
    const acked = new Map<string, string>();
    let stop = false;
    const writers = [a, cc].map(async (d, w) => {
      for (let i = 0; i < 300 && !stop; i++) {
        const key = `load/${w}/${i}`;
        const status = await put(d, key, `v${i}`).catch(() => 0);
        if (status === 201 || status === 200) acked.set(key, `v${i}`);
      }
    });
    // Kill mid-load: once 60 writes are acknowledged (bounded wait), while the writers keep going.
    const deadline = Date.now() + 20_000;
    while (acked.size < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await c.kill9(1);
    await Promise.all(writers);
    stop = true;
    expect(acked.size).toBeGreaterThan(100);
    for (const [key, value] of acked) expect(await get(a, key), key).toEqual({ status: 200, body: value });

    const b = await c.restart(1);
    // Hinted handoff and anti-entropy bring B's own store up to date: `one` on B reads only its copy.
    const caughtUp = await eventually(async () => {
      for (const [key, value] of acked) if ((await get(b, key, 'one')).body !== value) return false;
      return true;
    }, 20_000);
    expect(caughtUp).toBe(true);
  });

  it('with two of three daemons down, quorum requests fail fast with 503 and a code, not a hang', async () => {
    const [a] = c.daemons;
    await c.kill9(1);
    await c.kill9(2);
    const t0 = Date.now();
    const w = await fetch(`${a.url}/v1/records/lonely?consistency=quorum`, { method: 'PUT', body: 'x' });
    expect(w.status).toBe(503);
    expect((await w.json()).code).toMatch(/QUORUM_NOT_REACHED|REPLICAS_UNAVAILABLE/);
    const r = await fetch(`${a.url}/v1/records/user%3A1?consistency=all`);
    expect(r.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(15_000);
    // A single survivor still answers at `one`.
    expect((await get(a, 'user:1', 'one')).body).toBe('alice');
  });
});
