/**
 * A write refused up front (503 REPLICAS_UNAVAILABLE: the coordinator's failure detector already saw too few
 * replicas up) is stored nowhere and never takes effect, not even through hints when the replica returns
 * (#18: such a write used to be queued as hints and applied after the restart, on every daemon). A write
 * that was attempted and timed out is reported apart, as QUORUM_NOT_REACHED (indeterminate).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, FAST_REPAIR, get, put } from '../cluster/helpers.ts';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [FAST_REPAIR, FAST_REPAIR, FAST_REPAIR] });
});
afterAll(stopAllClusters);

describe('a write refused for too few replicas up', () => {
  it('answers REPLICAS_UNAVAILABLE, says nothing was stored, and never appears after the replica returns', {
    timeout: 60_000,
  }, async () => {
    const [a] = c.daemons;
    expect(await put(a, 'refused', 'base', 'all')).toBe(201);
    const downId = (await statusOf(c.daemons[2])).peerId;
    await c.kill9(2);
    // Until the failure detector says down (10 s of silence), the write would be attempted and time out.
    const down = await eventually(async () => {
      const { members } = (await (await fetch(`${a.url}/admin/peers`)).json()) as {
        members: Array<{ peerId: string; status: string }>;
      };
      return members.find((m) => m.peerId === downId)?.status === 'down';
    }, 20_000);
    expect(down).toBe(true);
    const r = await fetch(recordUrl(a, 'refused', 'all'), { method: 'PUT', body: 'must-not-appear' });
    const body = (await r.json()) as { code: string; message: string };
    expect(r.status).toBe(503);
    expect(body.code).toBe('REPLICAS_UNAVAILABLE');
    expect(body.message).toMatch(/2 of 3 replicas up, 3 needed; not attempted, nothing stored/);
    // The two live replicas still hold the old value.
    expect(await get(a, 'refused', 'quorum')).toEqual({ status: 200, body: 'base' });

    await c.restart(2);
    await c.waitConverged(20_000);
    // Give hint replay (on the member's return) and anti-entropy (1 s passes) time to act, then look everywhere.
    const replayed = await eventually(async () => (await get(c.daemons[2], 'refused', 'one')).body === 'base', 10_000);
    expect(replayed).toBe(true);
    await new Promise((res) => setTimeout(res, 4_000));
    for (const d of c.daemons) expect(await get(d, 'refused', 'one')).toEqual({ status: 200, body: 'base' });
    expect(await get(a, 'refused', 'all')).toEqual({ status: 200, body: 'base' });
  });
});
