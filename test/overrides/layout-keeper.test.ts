import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { createLayout, type Layout } from '../../src/layout/index.ts';
import { prefersTheirs } from '../../src/overrides/layout-keeper.ts';

async function chain(founded: number, epochs: number): Promise<Layout> {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const layout = createLayout();
  for (let n = 1; n <= epochs; n++) {
    const change = { membersAdded: [{ id, zone: `z${n}` }], reason: `epoch ${n}` };
    await layout.append(await layout.cluster.propose(change, key, { ts: founded + n - 1 }));
  }
  return layout;
}

describe('fork choice between cluster chains', () => {
  it('keeps the chain founded first, whatever its length, so a joiner adopts the cluster', async () => {
    const cluster = await chain(1000, 3);
    const joiner = await chain(5000, 1);
    expect(prefersTheirs(cluster.cluster.epochs(), joiner.cluster, 1)).toBe(true);
    expect(prefersTheirs(joiner.cluster.epochs(), cluster.cluster, 1)).toBe(false);
  });

  it('between chains founded at the same time, keeps the longer; an empty chain always yields', async () => {
    const a = await chain(1000, 2);
    const b = await chain(1000, 3);
    expect(prefersTheirs(b.cluster.epochs(), a.cluster, 1)).toBe(true);
    expect(prefersTheirs(a.cluster.epochs(), b.cluster, 1)).toBe(false);
    expect(prefersTheirs(a.cluster.epochs(), createLayout().cluster, 1)).toBe(true);
    expect(prefersTheirs([], a.cluster, 1)).toBe(false);
  });
});
