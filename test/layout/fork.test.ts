import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createLayout,
  type Epoch,
  EpochRejectedError,
  hashEpoch,
  type Layout,
  MemoryEpochLog,
  openLayout,
  signEpoch,
} from '../../src/layout/index.ts';
import { forkPoint, forkRecord, prefersTheirs } from '../../src/overrides/forks.ts';

const SCOPE = 'partition:7' as const;

/** A one-member cluster (the member coordinates every partition), persisted in `log`. */
async function cluster(key: PrivateKey): Promise<{ layout: Layout; log: MemoryEpochLog }> {
  const log = new MemoryEpochLog();
  const layout = createLayout({ log });
  const id = peerIdFromPrivateKey(key).toString();
  await layout.append(
    await layout.propose('cluster', { reason: 'found', membersAdded: [{ id, zone: 'z' }] }, key, { ts: 1 }),
  );
  return { layout, log };
}

async function grow(layout: Layout, key: PrivateKey, reasons: string[]): Promise<void> {
  for (const reason of reasons) await layout.append(await layout.propose(SCOPE, { reason }, key, { ts: 2 }));
}

describe('partition chain forks', () => {
  it('finds the first differing epoch and adopts the other branch only after verifying it', async () => {
    const key = await generateKeyPair('Ed25519');
    const a = await cluster(key);
    const b = await cluster(key);
    await grow(a.layout, key, ['shared', 'mine 2', 'mine 3']);
    // b holds the same first epoch (same bytes), then its own: the same signer signed number 2 twice.
    await b.layout.append(a.layout.chain(SCOPE).get(1)!);
    await grow(b.layout, key, ['theirs 2']);
    const theirs = [...b.layout.chain(SCOPE).epochs()];
    expect(forkPoint(a.layout.chain(SCOPE), theirs)).toBe(2);
    const record = forkRecord(SCOPE, a.layout.chain(SCOPE).get(2)!, theirs[1], 'peer-b');
    expect(record.equivocation).toBe(true);

    // A forged copy of their branch is refused and nothing changes.
    const forged: Epoch[] = [theirs[0], { ...theirs[1], change: { reason: 'forged' } }];
    const before = a.layout.chain(SCOPE).head;
    await expect(a.layout.replaceChain(SCOPE, forged)).rejects.toBeInstanceOf(EpochRejectedError);
    expect(a.layout.chain(SCOPE).head).toEqual(before);

    await a.layout.replaceChain(SCOPE, theirs);
    expect(a.layout.chain(SCOPE).head).toEqual(b.layout.chain(SCOPE).head);
    // The log holds the adopted branch: a restart loads it.
    expect((await a.log.load(SCOPE)).map(hashEpoch)).toEqual(theirs.map(hashEpoch));
    const reopened = await openLayout({ log: a.log });
    expect(reopened.chain(SCOPE).head).toEqual(b.layout.chain(SCOPE).head);
  });

  it('ranks the two sides of a fork the same way from either side: newer basis first, then lower hash', async () => {
    const key = await generateKeyPair('Ed25519');
    const epoch = (basis: number, reason: string) =>
      signEpoch({ number: 2, parent: 'a'.repeat(64), scope: SCOPE, change: { reason }, ts: 5, basis }, key);
    const older = await epoch(1, 'stale coordinator');
    const newer = await epoch(2, 'coordinator of the newer membership');
    expect(prefersTheirs(older, newer)).toBe(true);
    expect(prefersTheirs(newer, older)).toBe(false);
    await fc.assert(
      fc.asyncProperty(fc.nat(3), fc.nat(3), fc.string(), fc.string(), async (b1, b2, r1, r2) => {
        const [x, y] = [await epoch(b1, `x${r1}`), await epoch(b2, `y${r2}`)];
        // Exactly one side wins, whoever compares.
        expect(prefersTheirs(x, y)).toBe(!prefersTheirs(y, x));
      }),
      { numRuns: 30, seed: 1 },
    );
  });
});
