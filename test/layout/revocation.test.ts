/** Revoking a member key with the cluster admin key (src/layout/revocation.ts) on a chain that knows the admin. */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLayout, type EpochRejectedError, type Layout, signRevocation } from '../../src/layout/index.ts';

type Key = { key: PrivateKey; id: string };
const key = async (): Promise<Key> => {
  const k = await generateKeyPair('Ed25519');
  return { key: k, id: peerIdFromPrivateKey(k).toString() };
};
let admin: Key;
let peers: Key[];
let layout: Layout;
const reasonOf = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as EpochRejectedError).reason;

beforeEach(async () => {
  [admin, ...peers] = await Promise.all([key(), key(), key(), key()]);
  layout = createLayout({ admins: new Set([admin.id]) });
  const membersAdded = peers.map((p, i) => ({ id: p.id, zone: `z${i}` }));
  await layout.append(await layout.cluster.propose({ reason: 'found', membersAdded }, peers[0].key));
});

describe('revocation by the admin key', () => {
  it('removes the member, and no epoch its key signs is taken again, nor can it be added back', async () => {
    const [a, b, c] = peers;
    const order = signRevocation(c.id, admin.key);
    await layout.append(
      await layout.cluster.propose({ reason: 'revoke', revoked: [order], membersRemoved: [c.id] }, a.key),
    );
    expect(layout.cluster.layout().revoked).toEqual(new Set([c.id]));
    expect(layout.cluster.layout().members.has(c.id)).toBe(false);
    const byRevoked = await layout.cluster.propose({ reason: 'x', membersDown: [a.id] }, c.key);
    expect(await reasonOf(layout.append(byRevoked))).toBe('unauthorised');
    const readd = await layout.cluster.propose({ reason: 'x', membersAdded: [{ id: c.id, zone: 'z9' }] }, b.key);
    expect(await reasonOf(layout.append(readd))).toBe('malformed');
  });

  it('refuses an order by a key other than the admin, an altered one, and one that leaves the member in', async () => {
    const [a, , c] = peers;
    const forged = signRevocation(c.id, a.key); // a member cannot revoke another
    const altered = { ...signRevocation(c.id, admin.key), id: a.id };
    const kept = signRevocation(c.id, admin.key);
    for (const change of [
      { reason: 'r', revoked: [forged], membersRemoved: [c.id] },
      { reason: 'r', revoked: [altered], membersRemoved: [a.id] },
      { reason: 'r', revoked: [kept] },
    ]) {
      expect(await reasonOf(layout.append(await layout.cluster.propose(change, a.key)))).toBe('malformed');
    }
    // A chain that knows no admin key takes no revocation at all.
    const none = createLayout();
    await none.append(layout.cluster.epochs()[0]);
    expect(
      await reasonOf(
        none.append(await none.cluster.propose({ reason: 'r', revoked: [kept], membersRemoved: [c.id] }, a.key)),
      ),
    ).toBe('malformed');
    expect(layout.cluster.layout().members.has(c.id)).toBe(true);
  });
});
