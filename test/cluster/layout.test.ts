import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually } from './helpers.ts';

type LayoutView = {
  head: { number: number; hash: string };
  epochs: Array<{ number: number; signer: string; members: string[] }>;
};
const layoutOf = async (d: { url: string }) => (await (await fetch(`${d.url}/admin/layout`)).json()) as LayoutView;

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ n: 3 });
});
afterAll(stopAllClusters);

describe('signed cluster epochs', () => {
  it('every daemon holds the same hash-chained epochs, the last listing all members', async () => {
    const ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
    const agreed = await eventually(
      async () => {
        const views = await Promise.all(c.daemons.map(layoutOf));
        const last = views[0].epochs.at(-1);
        return (
          views.every((v) => v.head.hash === views[0].head.hash && v.head.number > 0) &&
          ids.every((id) => last?.members.includes(id))
        );
      },
      15_000,
      300,
    );
    expect(agreed).toBe(true);
    const view = await layoutOf(c.daemons[1]);
    expect((await statusOf(c.daemons[2])).epoch).toBe(view.head.number);
    // Every epoch was signed by a cluster member.
    for (const e of view.epochs) expect(ids).toContain(e.signer);
  });

  it('shows refused epochs and quarantined signers in /metrics and /admin/layout; lifting an absent quarantine is a 404', async () => {
    const [d] = c.daemons;
    const other = (await statusOf(c.daemons[1])).peerId;
    const view = (await (await fetch(`${d.url}/admin/layout`)).json()) as { quarantined: unknown[]; forks: unknown[] };
    expect(view.quarantined).toEqual([]);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    for (const sample of [
      'shoal_epochs_rejected_total{chain="partition",reason="bad-signature"} 0',
      'shoal_epochs_rejected_total{chain="cluster",reason="fork"} 0',
      'shoal_layout_forks_total{kind="equivocation"} 0',
      'shoal_move_intents_refused_total{reason="not-coordinator"} 0',
      'shoal_quarantined_signers 0',
    ])
      expect(metrics).toContain(sample);
    const res = await fetch(`${d.url}/admin/layout/quarantine/${other}`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_QUARANTINED');
  });

  it('keeps its chain across a restart and records a leave as a new epoch', async () => {
    const before = await layoutOf(c.daemons[0]);
    await c.kill9(1);
    const back = await c.restart(1);
    const kept = await layoutOf(back);
    expect(kept.head.number).toBeGreaterThanOrEqual(before.head.number);
    expect(kept.epochs.find((e) => e.number === before.head.number)).toBeDefined();
    await c.waitConverged(15_000);
    const leaver = c.daemons[2];
    expect((await fetch(`${leaver.url}/admin/leave`, { method: 'POST' })).status).toBe(202);
    const recorded = await eventually(
      async () => (await layoutOf(c.daemons[0])).head.number > kept.head.number,
      20_000,
      300,
    );
    expect(recorded).toBe(true);
    const [a, b] = await Promise.all([layoutOf(c.daemons[0]), layoutOf(c.daemons[1])]);
    expect(
      await eventually(
        async () => (await layoutOf(c.daemons[1])).head.hash === (await layoutOf(c.daemons[0])).head.hash,
        10_000,
      ),
    ).toBe(true);
    expect(a.head.number).toBeGreaterThan(0);
    expect(b.head.number).toBeGreaterThan(0);
  });
});
