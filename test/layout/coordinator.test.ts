/**
 * Coordinator failover through cluster epochs (#16): a cluster epoch that marks a member down hands the
 * coordination of its partitions to their next replica, without moving any data; marking it up hands it back.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLayout, type EpochRejectedError, type Layout, type Scope } from '../../src/layout/index.ts';

type Key = { key: PrivateKey; id: string };
let peers: Key[];
let layout: Layout;
let partition: number;
let scope: Scope;
let replicas: readonly string[];
const keyOf = (id: string) => peers.find((p) => p.id === id)!.key;

beforeEach(async () => {
  peers = await Promise.all(
    [0, 1, 2].map(async () => {
      const key = await generateKeyPair('Ed25519');
      return { key, id: peerIdFromPrivateKey(key).toString() };
    }),
  );
  layout = createLayout({ partitions: 16, replicas: 2 });
  const membersAdded = peers.map((p, i) => ({ id: p.id, zone: `z${i}` }));
  await layout.append(await layout.cluster.propose({ reason: 'found', membersAdded }, peers[0].key));
  partition = 3;
  scope = `partition:${partition}`;
  replicas = layout.ring().replicasFor(partition);
});

const place = (by: string, holders: string[]) =>
  layout.propose(scope, { reason: 'place', overridesSet: [{ key: keyInPartition(), replicas: holders }] }, keyOf(by));
const keyInPartition = () => {
  for (let i = 0; ; i++) if (layout.ring().partitionOf(`k${i}`) === partition) return `k${i}`;
};
const reasonOf = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as EpochRejectedError).reason;

describe('the coordinator of a partition', () => {
  it('is its first replica; a cluster epoch marking it down hands coordination to the next, and back', async () => {
    const [first, second] = replicas;
    expect(layout.coordinatorOf(partition)).toBe(first);
    await layout.append(await place(first, [first, second]));

    await layout.append(await layout.cluster.propose({ reason: 'down', membersDown: [first] }, keyOf(second)));
    expect(layout.cluster.layout().down).toEqual(new Set([first]));
    expect(layout.coordinatorOf(partition)).toBe(second);
    // Placement does not move: the down member keeps its replicas.
    expect(layout.ring().replicasFor(partition)).toEqual(replicas);
    // Under the new cluster epoch, the old coordinator may not sign; the next replica may.
    expect(await reasonOf(layout.append(await place(first, [second, first])))).toBe('unauthorised');
    await layout.append(await place(second, [second, first]));
    // History stays valid: the epoch the first replica signed under the earlier cluster epoch still verifies.
    expect(layout.chain(scope).head.number).toBe(2);

    await layout.append(await layout.cluster.propose({ reason: 'up', membersUp: [first] }, keyOf(second)));
    expect(layout.coordinatorOf(partition)).toBe(first);
    expect(await reasonOf(layout.append(await place(second, [first, second])))).toBe('unauthorised');
    await layout.append(await place(first, [first, second]));
  });

  it('refuses membersDown of a non-member, and down or up members on a partition chain', async () => {
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const bad = await layout.cluster.propose({ reason: 'down', membersDown: [stranger] }, peers[0].key);
    expect(await reasonOf(layout.append(bad))).toBe('malformed');
    const wrongChain = await layout.propose(scope, { reason: 'down', membersDown: [replicas[0]] }, keyOf(replicas[0]));
    expect(await reasonOf(layout.append(wrongChain))).toBe('malformed');
    // Every replica down: the primary stays coordinator (nobody is better placed).
    await layout.append(await layout.cluster.propose({ reason: 'down', membersDown: [...replicas] }, peers[0].key));
    expect(layout.coordinatorOf(partition)).toBe(replicas[0]);
  });
});
