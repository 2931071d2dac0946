/**
 * What a daemon does with partition epochs that an attacker (a holder of the cluster secret, here the peer X)
 * pushes or serves: forged, unauthorised, out of order, off the chain, or an equivocation by the partition's own
 * coordinator A. The daemon under test is B's OverrideSync over a real layout and ClusterRing; the network is a
 * fake that answers B's requests from X's copy of the chains.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLayout,
  type Epoch,
  EpochRejectedError,
  type Layout,
  type Scope,
  signEpoch,
} from '../../src/layout/index.ts';
import type { Net } from '../../src/net/index.ts';
import type { IntentRefusal, LayoutObserver } from '../../src/overrides/index.ts';
import { OverrideSync } from '../../src/overrides/sync.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  type OverrideRequest,
  type OverrideResponse,
} from '../../src/overrides/wire.ts';
import { ClusterRing } from '../../src/replication/cluster-ring.ts';

const key = async () => {
  const k = await generateKeyPair('Ed25519');
  return { key: k, id: peerIdFromPrivateKey(k).toString() };
};

/** Counts what the observer is told, by label. */
function countingObserver() {
  const counts = new Map<string, number>();
  const bump = (label: string) => counts.set(label, (counts.get(label) ?? 0) + 1);
  const observer: LayoutObserver = {
    epochRejected: (chain, reason) => bump(`${chain}/${reason}`),
    forkFound: (equivocation) => bump(equivocation ? 'equivocation' : 'fork'),
    intentRefused: (reason: IntentRefusal) => bump(`intent/${reason}`),
  };
  return { observer, counts };
}

/** X's side of the override protocol: heads and epochs of its own layout. */
function answerFrom(layout: Layout, req: OverrideRequest): OverrideResponse {
  if (req.t === 'heads') {
    return {
      t: 'heads',
      h: layout
        .heads()
        .filter((h) => h.scope !== 'cluster')
        .map((h) => [h.scope, h.number, h.hash]),
    };
  }
  if (req.t === 'epochs') return { t: 'epochs', e: layout.chain(req.s).epochs(req.from) as Epoch[] };
  throw new Error(`X does not answer ${req.t}`);
}

describe('partition epochs an attacker offers', () => {
  let A: { key: PrivateKey; id: string };
  let B: { key: PrivateKey; id: string };
  let X: { key: PrivateKey; id: string };
  let victim: Layout; // B's
  let attacker: Layout; // X's copy, where the forged branches are built
  let sync: OverrideSync;
  let counts: Map<string, number>;
  let scope: Scope;
  let recordKey: string;

  beforeEach(async () => {
    [A, B, X] = await Promise.all([key(), key(), key()]);
    victim = createLayout({ replicas: 2 });
    attacker = createLayout({ replicas: 2 });
    const founding = await victim.propose(
      'cluster',
      {
        reason: 'found',
        membersAdded: [
          { id: A.id, zone: 'a' },
          { id: B.id, zone: 'b' },
        ],
      },
      A.key,
    );
    await victim.append(founding);
    await attacker.append(founding);
    // A key of a partition A coordinates: only A may sign that partition's epochs.
    const ring = victim.ring();
    for (let i = 0; ; i++) {
      recordKey = `k${i}`;
      if (ring.primaryOf(ring.partitionOf(recordKey)) === A.id) break;
    }
    scope = `partition:${ring.partitionOf(recordKey)}`;
    const members = [
      { peerId: B.id, self: true, status: 'up', zone: 'b', capacity: 1 },
      // A is down to B's failure detector, so B's pull rounds ask X alone.
      { peerId: A.id, status: 'down', zone: 'a', capacity: 1 },
      { peerId: X.id, status: 'up', zone: 'x', capacity: 1 },
    ];
    const net = {
      peerId: B.id,
      members: () => members,
      member: (id: string) => members.find((m) => m.peerId === id),
      request: async (peer: string, _protocol: string, bytes: Uint8Array) => {
        if (peer !== X.id) throw new Error(`only X answers here, not ${peer}`);
        return encodeOverrideMessage(answerFrom(attacker, decodeOverrideMessage<OverrideRequest>(bytes, B.id)));
      },
    } as unknown as Net;
    const clusterRing = new ClusterRing(net, { partitions: victim.partitions, replicas: 2 });
    clusterRing.refresh();
    const c = countingObserver();
    counts = c.counts;
    sync = new OverrideSync(
      { net, ring: clusterRing, layout: () => victim, logger: pino({ level: 'silent' }), observer: c.observer },
      { pullIntervalMs: 60_000, requestTimeoutMs: 2_000 },
    );
    // One genuine epoch by A on both copies.
    const first = await victim.propose(
      scope,
      { reason: 'place', overridesSet: [{ key: recordKey, replicas: [A.id, B.id] }] },
      A.key,
    );
    await sync.apply(scope, [first]);
    await attacker.append(first);
  });

  const head = () => victim.chain(scope).head.number;
  const pushed = (epoch: Epoch) => sync.applyPushedMany([[scope, [epoch]]], X.id);
  const change = (replicas: string[]) => ({ reason: 'attack', overridesSet: [{ key: recordKey, replicas }] });

  it('refuses a forged signature, an unknown signer, a skipped number and a wrong parent, and counts each', async () => {
    const genuine = await victim.propose(scope, change([B.id, A.id]), A.key);
    const forged = { ...genuine, change: change([X.id, B.id]) }; // A's signature over another change
    const stranger = await victim.propose(scope, change([X.id, B.id]), X.key);
    // Epoch 3 of a chain whose epoch 2 neither B nor the pusher X holds.
    const elsewhere = createLayout({ replicas: 2 });
    for (const e of [...victim.cluster.epochs(), ...victim.chain(scope).epochs()]) await elsewhere.append(e);
    await elsewhere.append(await elsewhere.propose(scope, change([B.id, A.id]), A.key));
    const skipped = await elsewhere.propose(scope, change([A.id, B.id]), A.key);
    const { sig: _sig, ...unsigned } = genuine;
    const offChain = await signEpoch({ ...unsigned, parent: 'ab'.repeat(32) }, A.key); // validly signed, wrong parent
    for (const e of [forged, stranger, skipped, offChain]) expect(await pushed(e)).toEqual([1]);
    expect(head()).toBe(1);
    expect(victim.placement(recordKey).replicas).toEqual([A.id, B.id]);
    expect(Object.fromEntries(counts)).toEqual({
      'partition/bad-signature': 1,
      'partition/unauthorised': 1,
      'partition/gap': 1,
      'partition/fork': 1,
    });
    // A genuine next epoch still applies: nothing above left the chain stuck.
    expect(await pushed(genuine)).toEqual([2]);
  });

  it('quarantines a coordinator that signed two epochs with one number, and refuses what it signs next', async () => {
    // A signs a second epoch 2 for X's copy and another epoch 2 for B's: both valid, one chain each.
    const mine = await victim.propose(scope, change([B.id, A.id]), A.key);
    await sync.apply(scope, [mine]);
    const theirs = await attacker.propose(scope, change([A.id, X.id]), A.key);
    await attacker.append(theirs);
    sync.pullSoon(); // heads from X: same number, another hash → the fork is fetched and resolved
    for (let i = 0; i < 100 && !sync.quarantine.has(A.id); i++) await new Promise((r) => setTimeout(r, 20));
    expect(sync.quarantine.has(A.id)).toBe(true);
    expect(counts.get('equivocation')).toBe(1);
    const [entry] = sync.quarantine.list();
    expect(entry).toMatchObject({ signer: A.id, scope, number: 2 });
    expect(sync.forks().at(-1)?.equivocation).toBe(true);
    // Whichever branch won, A's next epoch on it is refused here.
    const next = await victim.propose(scope, change([A.id, B.id]), A.key);
    const before = head();
    await expect(sync.apply(scope, [next])).rejects.toThrow(EpochRejectedError);
    await expect(sync.apply(scope, [next])).rejects.toThrow(/quarantined/);
    expect(head()).toBe(before);
    // An operator lifts it (after replacing A's key or daemon): A's epochs are taken again.
    expect(sync.quarantine.clear(A.id)).toBe(true);
    await sync.apply(scope, [next]);
    expect(head()).toBe(before + 1);
  });

  it("refuses a stale coordinator's epoch pushed as new, but takes it as history when fetched", async () => {
    // A signs epoch 2 under cluster epoch 1; then the cluster marks A down (B coordinates) before it arrives.
    const stale = await victim.propose(scope, change([B.id, A.id]), A.key);
    const down = await victim.cluster.propose({ reason: 'A down', membersDown: [A.id] }, B.key);
    await victim.append(down);
    expect(victim.coordinatorOf(victim.ring().partitionOf(recordKey))).toBe(B.id);
    expect(await pushed(stale)).toEqual([1]);
    expect(counts.get('partition/unauthorised')).toBe(1);
    await attacker.append(down);
    await attacker.append(stale);
    // Fetched, the same epoch is history, even as the chain's head: a daemon joining after a membership change
    // that moved the partition's coordination must take the chain as it stands.
    expect(await sync.fetch(X.id, scope)).toBe(1);
    const next = await attacker.propose(scope, change([A.id, B.id]), B.key);
    await attacker.append(next);
    expect(await sync.fetch(X.id, scope)).toBe(1);
    expect(head()).toBe(3);
  });
});
