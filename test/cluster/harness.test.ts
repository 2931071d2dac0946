import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';

afterAll(stopAllClusters);

const put = async (d: { url: string }, key: string, value: string, consistency: string) => {
  const r = await fetch(recordUrl(d, key, consistency), {
    method: 'PUT',
    body: value,
    headers: { 'content-type': 'application/octet-stream' },
    signal: AbortSignal.timeout(10_000),
  });
  return r.status;
};

const get = async (d: { url: string }, key: string, consistency: string) => {
  const r = await fetch(recordUrl(d, key, consistency), { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text() };
};

/** Polls `fn` until it returns true, at most `ms`; returns the last result. */
async function eventually(fn: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('harness lifecycle (one daemon)', () => {
  it('restart(i) brings a SIGKILLed daemon back on its port and data dir; stopAll ends it', async () => {
    const c = await startCluster({ n: 1 });
    const [d] = c.daemons;
    expect(c.secretFile && existsSync(c.secretFile)).toBe(true);
    expect(d.args).toContain('--cluster-secret');
    expect(await put(d, 'k/1', 'v1', 'one')).toBe(201);
    await c.kill9(0);
    expect(c.alive()).toEqual([]);
    const again = await c.restart(0);
    expect(again.url).toBe(d.url);
    expect(await get(again, 'k/1', 'one')).toEqual({ status: 200, body: 'v1' });
    await c.stopAll();
    expect(again.proc.exitCode !== null || again.proc.signalCode !== null).toBe(true);
    expect(existsSync(c.root)).toBe(false);
  });
});

describe('three-daemon cluster', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ n: 3 });
  });

  it('every daemon lists the two others as peers', async () => {
    const ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
    for (const [i, d] of c.daemons.entries()) {
      const peers = (await statusOf(d)).peers;
      expect(peers).toEqual(expect.arrayContaining(ids.filter((_, j) => j !== i)));
    }
  });

  it('a quorum write on daemon 0 is readable on daemon 2 at every consistency level', async () => {
    const [a, , b] = c.daemons;
    expect(await put(a, 'user:1', 'hello', 'quorum')).toBeLessThan(300);
    for (const level of ['quorum', 'all', 'linearizable']) {
      expect(await get(b, 'user:1', level), level).toEqual({ status: 200, body: 'hello' });
    }
    // `one` promises only eventual visibility: the third replica may lag the quorum's acknowledgement.
    expect(await eventually(async () => (await get(b, 'user:1', 'one')).body === 'hello')).toBe(true);
  });

  it('with one daemon SIGKILLed, quorum writes and reads still succeed', async () => {
    const [a, , b] = c.daemons;
    await c.kill9(1);
    const keys = Array.from({ length: 20 }, (_, i) => `after-kill:${i}`);
    for (const k of keys) expect(await put(a, k, `v-${k}`, 'quorum'), k).toBeLessThan(300);
    for (const k of keys) expect(await get(b, k, 'quorum'), k).toEqual({ status: 200, body: `v-${k}` });
    expect(await get(b, 'user:1', 'quorum')).toEqual({ status: 200, body: 'hello' });
  });
});
