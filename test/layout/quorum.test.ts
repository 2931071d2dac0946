/**
 * Majority-signed cluster epochs (src/layout/quorum.ts, vote.ts): the validity rule on a chain, and the
 * safety of the acceptor rules under any interleaving of two or three competing proposers (fast-check).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AcceptorState,
  type Ballot,
  chooseEpoch,
  cosign,
  createLayout,
  type Epoch,
  EpochRejectedError,
  hashEpoch,
  type Layout,
  majorityOf,
  onAccept,
  onPrepare,
  quorumProblem,
} from '../../src/layout/index.ts';

type Key = { key: PrivateKey; id: string };
let keys: Key[];
beforeAll(async () => {
  keys = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const key = await generateKeyPair('Ed25519');
      return { key, id: peerIdFromPrivateKey(key).toString() };
    }),
  );
});

/** A layout whose founding epoch (signed by the first key alone) adds the first `n` keys as members. */
async function founded(n: number): Promise<Layout> {
  const layout = createLayout({ clusterQuorum: true });
  const members = keys.slice(0, n).map((k, i) => ({ id: k.id, zone: `z${i}` }));
  await layout.append(await layout.cluster.propose({ reason: 'found', membersAdded: members }, keys[0].key));
  return layout;
}

const ballot = (round: number, proposer = keys[0].id): Ballot => ({ round, proposer });
const signedBy = (e: Epoch, b: Ballot, by: Key[]) => ({
  ...e,
  quorum: { ballot: b, sigs: by.map((k) => cosign(hashEpoch(e), b, k.key)) },
});

describe('a cluster epoch takes effect only with a majority of the members before it', () => {
  it('founding needs its founder alone; the next epoch needs 2 of 3 co-signatures under one ballot', async () => {
    const layout = await founded(3);
    const next = await layout.cluster.propose(
      { reason: 'add', membersAdded: [{ id: keys[3].id, zone: 'z3' }] },
      keys[0].key,
    );
    const rejected = async (e: Epoch) => {
      const err = await layout.append(e).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(EpochRejectedError);
      expect((err as EpochRejectedError).reason).toBe('unauthorised');
      return (err as Error).message;
    };
    expect(await rejected(next)).toMatch(/no co-signatures/);
    expect(await rejected(signedBy(next, ballot(1), [keys[0]]))).toMatch(/co-signed by 1 of 3/);
    // Two co-signatures at two ballots do not add up.
    const mixed = signedBy(next, ballot(1), [keys[0]]);
    const other = signedBy(next, ballot(2), [keys[1]]);
    expect(
      await rejected({ ...mixed, quorum: { ballot: ballot(1), sigs: [...mixed.quorum.sigs, ...other.quorum.sigs] } }),
    ).toMatch(/co-signed by 1 of 3/);
    // A non-member's co-signature, a repeated one and a forged one count for nothing.
    const forged: [string, string] = [keys[1].id, cosign(hashEpoch(next), ballot(1), keys[2].key)[1]];
    const padded = signedBy(next, ballot(1), [keys[0], keys[0], keys[4]]);
    expect(
      await rejected({ ...padded, quorum: { ...padded.quorum, sigs: [...padded.quorum.sigs.slice(0, 2), forged] } }),
    ).toMatch(/co-signed by 1 of 3/);
    expect(layout.cluster.head.number).toBe(1);
    // A candidate is checked without its co-signatures before a voter signs it.
    await expect(layout.cluster.check(next, { withoutQuorum: true })).resolves.toBe(hashEpoch(next));
    await layout.append(signedBy(next, ballot(1), [keys[0], keys[2]]));
    expect(layout.cluster.head.number).toBe(2);
    // Voters of epoch 3 are the four members after epoch 2: two are not a majority any more.
    const third = await layout.cluster.propose(
      { reason: 'zone', membersAdded: [{ id: keys[1].id, zone: 'z9' }] },
      keys[1].key,
    );
    expect(
      quorumProblem(
        signedBy(third, ballot(1), [keys[1], keys[3]]),
        hashEpoch(third),
        new Set(keys.slice(0, 4).map((k) => k.id)),
      ),
    ).toMatch(/2 of 4/);
    await layout.append(signedBy(third, ballot(4, keys[1].id), [keys[1], keys[2], keys[3]]));
    expect(layout.cluster.head.number).toBe(3);
  });
});

/** A message of the simulated run: a proposer's prepare or accept to one acceptor. */
type Msg = { kind: 'prepare' | 'accept'; from: number; to: number; ballot: Ballot; epoch?: Epoch };

describe('the acceptor rules choose one epoch whatever the interleaving (single-decree Paxos)', () => {
  it('never lets two different epochs gather majority co-signatures', async () => {
    const head = { number: 1, hash: 'a'.repeat(64) };
    // Distinct candidates for epoch 2, one per proposer (content only: the acceptor rules do not verify).
    const candidates: Epoch[] = [0, 1, 2].map((p) => ({
      number: 2,
      parent: head.hash,
      scope: 'cluster',
      change: { reason: `proposer ${p}` },
      signer: keys[p].id,
      ts: p,
      sig: String(p).repeat(128),
    }));
    await fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.integer({ min: 2, max: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 19 })), {
          minLength: 1,
          maxLength: 200,
        }),
        (acceptors, proposers, schedule) => {
          const need = majorityOf(acceptors);
          const states: Array<AcceptorState | undefined> = Array(acceptors).fill(undefined);
          const net: Msg[] = [];
          const prop = Array.from({ length: proposers }, (_, p) => ({
            round: 0,
            ballot: ballot(0, keys[p].id),
            promises: new Map<number, { accepted?: { ballot: Ballot; epoch: Epoch } }>(),
            accepted: new Set<number>(),
            value: undefined as Epoch | undefined,
          }));
          const chosen = new Map<string, Epoch>(); // ballot → epoch chosen under it
          const start = (p: number) => {
            const s = prop[p];
            s.round += 1 + p; // proposers outbid one another in turn
            s.ballot = ballot(s.round, keys[p].id);
            s.promises.clear();
            s.accepted.clear();
            s.value = undefined;
            for (let a = 0; a < acceptors; a++) net.push({ kind: 'prepare', from: p, to: a, ballot: s.ballot });
          };
          for (let p = 0; p < proposers; p++) start(p);
          for (const [pick, drop, restart] of schedule) {
            if (restart < proposers) start(restart); // now and then a proposer times out and retries higher
            if (net.length === 0) continue;
            const [m] = net.splice(pick % net.length, 1);
            if (drop === 0) continue; // lost in the network (one message in ten)
            const s = prop[m.from];
            if (m.kind === 'prepare') {
              const r = onPrepare(states[m.to], head, { number: 2, parent: head.hash, ballot: m.ballot });
              states[m.to] = r.state;
              if (r.reply.t !== 'promise' || m.ballot !== s.ballot) continue;
              s.promises.set(m.to, r.reply);
              if (s.promises.size === need && s.value === undefined) {
                s.value = chooseEpoch([...s.promises.values()], candidates[m.from]);
                for (let a = 0; a < acceptors; a++)
                  net.push({ kind: 'accept', from: m.from, to: a, ballot: s.ballot, epoch: s.value });
              }
            } else {
              const r = onAccept(states[m.to], head, { ballot: m.ballot, epoch: m.epoch! });
              states[m.to] = r.state;
              if (r.reply.t !== 'accepted' || m.ballot !== s.ballot) continue;
              s.accepted.add(m.to);
              if (s.accepted.size >= need) chosen.set(`${m.ballot.round}/${m.ballot.proposer}`, m.epoch!);
            }
          }
          const values = new Set([...chosen.values()].map((e) => e.change.reason));
          expect(values.size).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
