/**
 * The cluster chain across a 2|1 partition during membership changes and a migration wave (#16): a new daemon
 * joins each side while daemon 0 is cut off from 1 and 2, and the majority side moves records. Cluster epochs need a majority of the members before them (src/layout/
 * quorum.ts), so only the majority side records its joiner; the minority side cannot append, hence cannot fork
 * the chain. After the heal, every daemon holds one chain that records both joiners.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, launchTracked, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { type DaemonProcess, freePort } from '../support/daemon-process.ts';
import { blockLinks, eventually, get, put } from './helpers.ts';

type LayoutView = {
  head: { number: number; hash: string };
  epochs: Array<{ number: number; hash: string; members: string[] }>;
  forks: unknown[];
};
const layoutOf = async (d: { url: string }) => (await (await fetch(`${d.url}/admin/layout`)).json()) as LayoutView;
const ARGS = ['--fault-injection', 'on'];

let c: Cluster;
let ids: string[];
beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
});
afterAll(stopAllClusters);

const faults = (d: { url: string }, action: 'block' | 'unblock', peerIds: string[]) =>
  blockLinks(d, action, peerIds).then((r) => r.status);

/** A new daemon joining `via` (with fault injection, so its links can be cut too). */
async function joiner(name: string, via: DaemonProcess): Promise<{ d: DaemonProcess; id: string }> {
  const port = await freePort();
  const dataDir = join(c.root, name);
  const [multiaddr] = (await statusOf(via)).multiaddrs;
  const d = await launchTracked({
    url: `http://127.0.0.1:${port}`,
    dataDir,
    args: [
      ...['start', '--data-dir', dataDir, '--http-port', String(port), '--zone', name],
      ...['--cluster-secret', c.secretFile!, '--join', multiaddr, '--log-level', 'warn', ...ARGS],
    ],
  });
  return { d, id: (await statusOf(d)).peerId };
}

describe('the cluster chain in a 2|1 partition', () => {
  it('grows only on the majority side, and is one chain everywhere after the heal', { timeout: 120_000 }, async () => {
    const members = async (d: { url: string }) => (await layoutOf(d)).epochs.at(-1)?.members ?? [];
    expect(await eventually(async () => (await members(c.daemons[0])).length === 3, 20_000)).toBe(true);
    const before = await layoutOf(c.daemons[0]);
    const keys = Array.from({ length: 12 }, (_, i) => `wave/${i}`);
    for (const k of keys) expect(await put(c.daemons[1], k, `v-${k}`, 'all')).toBe(201);

    // {0} | {1, 2}: every side of each link.
    const cut = async (action: 'block' | 'unblock', extra: Array<[DaemonProcess, string[]]> = []) => {
      const statuses = await Promise.all([
        faults(c.daemons[0], action, [ids[1], ids[2]]),
        faults(c.daemons[1], action, [ids[0]]),
        faults(c.daemons[2], action, [ids[0]]),
        ...extra.map(([d, peers]) => faults(d, action, peers)),
      ]);
      expect(statuses.every((s) => s === 200)).toBe(true);
    };
    await cut('block');

    // The majority side takes a new member d; the minority side, a new member e (kept on its side).
    const d = await joiner('d', c.daemons[1]);
    const e = await joiner('e', c.daemons[0]);
    await cut('block', [
      [e.d, [ids[1], ids[2], d.id]],
      [d.d, [ids[0], e.id]],
      [c.daemons[1], [e.id]],
      [c.daemons[2], [e.id]],
    ]);
    await faults(c.daemons[0], 'block', [d.id]);

    const majority = await eventually(async () => (await members(c.daemons[1])).includes(d.id), 30_000, 300);
    expect(majority, 'the majority side did not record its joiner').toBe(true);
    // A migration wave on the majority side, during the partition: each record goes to {1, 2, d}. A record whose
    // partition daemon 0 coordinates cannot move (its coordinator is unreachable), and says so; the others move.
    const target = [ids[1], ids[2], d.id];
    const placed = (await (
      await fetch(`${c.daemons[1].url}/admin/placements`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          placements: keys.map((key) => ({ key, replicas: target })),
          reason: 'during the partition',
        }),
        signal: AbortSignal.timeout(90_000),
      })
    ).json()) as { results: Array<{ key: string; changed: boolean; error?: unknown }> };
    expect(placed.results.length).toBe(keys.length);
    const moved = placed.results.filter((r) => r.changed).map((r) => r.key);
    expect(moved.length, JSON.stringify(placed.results)).toBeGreaterThan(0);
    for (const r of placed.results) expect(r.changed || r.error !== undefined, r.key).toBe(true);
    // The minority side sees e join, but cannot get one other vote of {0, 1, 2}: it appends nothing of its own
    // (it may still learn the majority's epochs, e.g. through e before e's links were cut).
    await new Promise((r) => setTimeout(r, 6_000));
    const minority = await layoutOf(c.daemons[0]);
    const majorityView = await layoutOf(c.daemons[1]);
    expect(minority.head.number).toBeGreaterThanOrEqual(before.head.number);
    const onMajority = new Map(majorityView.epochs.map((x) => [x.number, x.hash]));
    for (const x of minority.epochs.filter((x) => x.number > before.head.number)) {
      expect(onMajority.get(x.number), `minority epoch ${x.number}`).toBe(x.hash);
    }
    expect(await members(c.daemons[0])).not.toContain(e.id);

    // Heal every link: one chain, with both joiners, the same on all five daemons, and no fork anywhere.
    await cut('unblock', [
      [e.d, [ids[1], ids[2], d.id]],
      [d.d, [ids[0], e.id]],
      [c.daemons[1], [e.id]],
      [c.daemons[2], [e.id]],
    ]);
    await faults(c.daemons[0], 'unblock', [d.id]);
    const all = [...c.daemons, d.d, e.d];
    let last: LayoutView[] = [];
    const agreed = await eventually(
      async () => {
        last = await Promise.all(all.map(layoutOf));
        const head = last[0].head;
        return (
          last.every((v) => v.head.hash === head.hash) &&
          [d.id, e.id, ...ids].every((id) => last[0].epochs.at(-1)?.members.includes(id))
        );
      },
      60_000,
      500,
    );
    expect(agreed, JSON.stringify(last.map((v) => v.head))).toBe(true);
    // Every daemon holds the same epochs under each number: the minority never appended one of its own.
    const byNumber = (v: LayoutView) => new Map(v.epochs.map((x) => [x.number, x.hash]));
    const reference = byNumber(last[1]);
    for (const v of last) for (const [n, h] of byNumber(v)) if (reference.has(n)) expect(h).toBe(reference.get(n));
    for (const v of last) expect(v.forks).toEqual([]);
    // No record lost, and the moved ones are placed on {1, 2, d} by every daemon.
    for (const k of keys) expect(await get(c.daemons[0], k, 'quorum'), k).toEqual({ status: 200, body: `v-${k}` });
    const placedOn = async (x: { url: string }, k: string) =>
      (
        (await (await fetch(`${x.url}/admin/records/${encodeURIComponent(k)}`)).json()) as {
          placement: { replicas: string[] };
        }
      ).placement.replicas;
    const routed = await eventually(async () => {
      for (const x of all)
        for (const k of moved) if ((await placedOn(x, k)).sort().join() !== [...target].sort().join()) return false;
      return true;
    }, 45_000);
    expect(routed, 'not every daemon routes the moved records to their new holders').toBe(true);
  });
});
