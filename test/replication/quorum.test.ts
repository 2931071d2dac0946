import { describe, expect, it } from 'vitest';
import { staggeredQuorumCall } from '../../src/replication/quorum.ts';

type Reply = { ms: number; fail?: boolean };

/** Calls that answer (or fail) after a delay per target, recording who was asked and when. */
function replicas(replies: Record<string, Reply>) {
  const asked: Array<{ target: string; at: number }> = [];
  const t0 = performance.now();
  const call = (target: string) => {
    asked.push({ target, at: performance.now() - t0 });
    const r = replies[target];
    return new Promise<string>((resolve, reject) =>
      setTimeout(() => (r.fail ? reject(new Error(`${target} failed`)) : resolve(`v@${target}`)), r.ms),
    );
  };
  return { asked, call };
}

describe('staggeredQuorumCall (reads ask only as many replicas as they need)', () => {
  it('asks only the first `need` targets when they answer in time', async () => {
    const { asked, call } = replicas({ a: { ms: 1 }, b: { ms: 2 }, c: { ms: 1 } });
    let extra = 0;
    const { reached, settled } = staggeredQuorumCall(['a', 'b', 'c'], 2, 50, call, () => extra++);
    const out = await reached;
    expect(out.ok.map((o) => o.target).sort()).toEqual(['a', 'b']);
    await settled;
    expect(asked.map((a) => a.target)).toEqual(['a', 'b']);
    expect(extra).toBe(0);
  });

  it('asks the next target at once when one fails', async () => {
    const { asked, call } = replicas({ a: { ms: 1 }, b: { ms: 1, fail: true }, c: { ms: 1 } });
    let extra = 0;
    const out = await staggeredQuorumCall(['a', 'b', 'c'], 2, 1000, call, () => extra++).reached;
    expect(extra).toBe(1);
    expect(out.ok.map((o) => o.target).sort()).toEqual(['a', 'c']);
    expect(out.failed.map((f) => f.target)).toEqual(['b']);
    expect(asked[2].at).toBeLessThan(500); // not after the hedge delay
  });

  it('asks the next target after the hedge delay when one is slow, and settles once all asked answered', async () => {
    const { asked, call } = replicas({ a: { ms: 1 }, b: { ms: 300 }, c: { ms: 1 } });
    const { reached, settled } = staggeredQuorumCall(['a', 'b', 'c'], 2, 20, call);
    const out = await reached;
    expect(out.ok.map((o) => o.target).sort()).toEqual(['a', 'c']);
    expect(asked.map((a) => a.target)).toEqual(['a', 'b', 'c']);
    expect(asked[2].at).toBeGreaterThanOrEqual(15);
    const all = await settled;
    expect(all.ok.map((o) => o.target).sort()).toEqual(['a', 'b', 'c']);
  });

  it('rejects as soon as the quorum cannot be reached any more', async () => {
    const { call } = replicas({ a: { ms: 1, fail: true }, b: { ms: 1, fail: true }, c: { ms: 1000 } });
    const t0 = performance.now();
    await expect(staggeredQuorumCall(['a', 'b', 'c'], 2, 1000, call).reached).rejects.toMatchObject({
      ok: [],
      failed: [{ target: expect.any(String) }, { target: expect.any(String) }],
    });
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
