/**
 * A join on the majority side of a partition must not let that side serve keys whose acknowledged
 * linearizable writes sit on the minority side (#18, found by `npm run soak -- --seed 7`, round 2).
 *
 * {0,1} | {2,3,4}: keys with two of their three replicas on {0,1} keep taking linearizable writes on the
 * minority side (2 of 3 answer), while the majority side refuses them (1 of 3). Daemon 5 joins the majority
 * side. The join's cluster epoch needs a majority of the members, which {2,3,4} has, so the majority side
 * moves to the new ring at once: a key whose new replica set has two members on the majority side is served
 * there from copies that never saw the minority's writes, while the minority keeps serving the old ring.
 * Ring changes use no joint quorum of the old and the new replicas (a placement override's move does).
 *
 * OPEN BUG: this test pins it: it asserts that some keys read stale (17 of 60 read the pre-partition value on
 * the first run), so it fails once the bug is fixed; then assert `stale` is empty instead. Any other failure
 * (a precondition: the minority's writes, the joiner in the ring) fails it as usual.
 */
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreatePeerKey } from '../../src/net/index.ts';
import { blockLinks, eventually } from '../cluster/helpers.ts';
import { type Cluster, launchTracked, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { type DaemonProcess, freePort } from '../support/daemon-process.ts';

const ARGS = ['--fault-injection', 'on', '--anti-entropy-interval-ms', '1000'];
let c: Cluster;
let ids: string[];
beforeAll(async () => {
  c = await startCluster({ n: 5, extra: Array(5).fill(ARGS) });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
});
afterAll(stopAllClusters);

const send = async (d: { url: string }, key: string, value?: string) => {
  const r = await fetch(recordUrl(d, key, 'linearizable'), {
    method: value === undefined ? 'GET' : 'PUT',
    body: value,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: await r.text() };
};
const replicasOf = async (d: { url: string }, key: string) =>
  (
    (await (await fetch(`${d.url}/admin/records/${encodeURIComponent(key)}`)).json()) as {
      placement: { replicas: string[] };
    }
  ).placement.replicas;

describe('a join during a partition', () => {
  it('KNOWN BUG: serves, on the majority side, stale linearizable reads of keys written on the minority side', {
    timeout: 120_000,
  }, async () => {
    // Keys with two replicas on {0,1}: the minority side can serve them.
    const keys: string[] = [];
    for (let i = 0; keys.length < 60 && i < 600; i++) {
      const reps = await replicasOf(c.daemons[0], `jp/${i}`);
      if (reps.includes(ids[0]) && reps.includes(ids[1])) keys.push(`jp/${i}`);
    }
    for (const k of keys) expect((await send(c.daemons[2], k, 'before')).status).toBeLessThan(300);
    const minority = [0, 1];
    const majority = [2, 3, 4];
    const cut = (action: 'block' | 'unblock', extra: Array<[DaemonProcess, string[]]> = []) =>
      Promise.all([
        ...minority.map((i) =>
          blockLinks(
            c.daemons[i],
            action,
            majority.map((j) => ids[j]),
          ),
        ),
        ...majority.map((j) =>
          blockLinks(
            c.daemons[j],
            action,
            minority.map((i) => ids[i]),
          ),
        ),
        ...extra.map(([d, peers]) => blockLinks(d, action, peers)),
      ]);
    await cut('block');
    const acked = new Set<string>();
    for (const k of keys) if ((await send(c.daemons[0], k, 'minority')).status < 300) acked.add(k);
    expect(acked.size).toBe(keys.length);

    const port = await freePort();
    const dataDir = join(c.root, 'joiner');
    // The joiner's peer key first, so the minority refuses it from its first packet on.
    const joinerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(dataDir)).toString();
    await Promise.all(minority.map((i) => blockLinks(c.daemons[i], 'block', [joinerId])));
    const [via] = (await statusOf(c.daemons[2])).multiaddrs;
    const joiner = await launchTracked({
      url: `http://127.0.0.1:${port}`,
      dataDir,
      args: [
        ...['start', '--data-dir', dataDir, '--http-port', String(port), '--zone', 'z5', '--log-level', 'warn'],
        ...['--cluster-secret', c.secretFile!, '--join', via, ...ARGS],
      ],
    });
    c.daemons.push(joiner);
    expect((await statusOf(joiner)).peerId).toBe(joinerId);
    await blockLinks(
      joiner,
      'block',
      minority.map((i) => ids[i]),
    );
    // The majority side takes the joiner into its ring.
    const inRing = await eventually(
      async () => {
        const ring = (await (await fetch(`${c.daemons[2].url}/admin/ring`)).json()) as {
          members: Array<{ id: string }>;
        };
        return ring.members.some((m) => m.id === joinerId);
      },
      30_000,
      300,
    );
    expect(inRing).toBe(true);

    // Every linearizable read on the majority side must return the minority's acknowledged write, or be refused.
    const stale: string[] = [];
    for (const k of acked) {
      const r = await send(c.daemons[2], k);
      if (r.status === 200 && r.body !== 'minority') stale.push(`${k}=${r.body}`);
    }
    await cut('unblock', [[joiner, minority.map((i) => ids[i])]]);
    await Promise.all(minority.map((i) => blockLinks(c.daemons[i], 'unblock', [joinerId])));
    console.log(`stale linearizable reads after the join (${stale.length} of ${acked.size}): ${stale.join(', ')}`);
    // The fix makes this empty (each read then returns 'minority' or is refused): see the header.
    expect(stale.length).toBeGreaterThan(0);
  });
});
