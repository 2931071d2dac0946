import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLayout, type Layout } from '../../src/layout/index.ts';
import { keyNotCoordinatedBy } from '../../src/overrides/intent-auth.ts';

const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
let layout: Layout;
let peers: Array<{ key: PrivateKey; id: string }>;
const coordinator = (k: string) => layout.coordinatorOf(layout.ring().partitionOf(k));

beforeAll(async () => {
  peers = await Promise.all(
    [0, 1, 2].map(async () => {
      const key = await generateKeyPair('Ed25519');
      return { key, id: peerIdFromPrivateKey(key).toString() };
    }),
  );
  layout = createLayout({ partitions: 64, replicas: 3 });
  const membersAdded = peers.map((p, i) => ({ id: p.id, zone: `z${i}` }));
  await layout.append(await layout.cluster.propose({ reason: 'found', membersAdded }, peers[0].key));
});

describe('move announcements: only a key partition coordinator may announce its move', () => {
  it('accepts a batch whose every key the sender coordinates', () => {
    for (const m of peers) {
      const own = keys.filter((k) => coordinator(k) === m.id);
      expect(own.length).toBeGreaterThan(0);
      expect(keyNotCoordinatedBy(layout, m.id, own)).toBeUndefined();
    }
  });

  it('names the first key of a batch that another daemon coordinates', () => {
    const [a, b, c] = peers.map((p) => p.id);
    const own = keys.filter((k) => coordinator(k) === a);
    const foreign = keys.find((k) => coordinator(k) === b) as string;
    expect(keyNotCoordinatedBy(layout, a, [...own.slice(0, 3), foreign, ...own.slice(3)])).toBe(foreign);
    // a holder of the key that is not its coordinator is refused too, and so is a stranger
    const held = keys.find((k) => coordinator(k) !== c) as string;
    expect(keyNotCoordinatedBy(layout, c, [held])).toBe(held);
    expect(keyNotCoordinatedBy(layout, 'peer-x', [own[0]])).toBe(own[0]);
  });
});
