/**
 * `shoal revoke` (#16): the operator revokes a member's key with the cluster admin key that `shoal init-cluster`
 * wrote beside the secret; the next cluster epoch removes the member on every daemon, the net refuses it, and an
 * order signed by any other key is refused with REVOCATION_REFUSED.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRevocation } from '../../src/layout/index.ts';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { runCli } from '../support/daemon-process.ts';
import { eventually } from './helpers.ts';

type View = { epochs: Array<{ members: string[] }> };
const layoutOf = async (d: { url: string }) => (await (await fetch(`${d.url}/admin/layout`)).json()) as View;
const peersOf = async (d: { url: string }) =>
  ((await (await fetch(`${d.url}/admin/peers`)).json()) as { members: Array<{ peerId: string }> }).members.map(
    (m) => m.peerId,
  );

let c: Cluster;
let ids: string[];
beforeAll(async () => {
  c = await startCluster({ n: 3 });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
}, 60_000);
afterAll(stopAllClusters);

describe('revoking a member key with the admin key', () => {
  it('removes it everywhere and refuses it; an order by another key is refused', { timeout: 90_000 }, async () => {
    const [a, b] = c.daemons;
    expect(await eventually(async () => (await layoutOf(a)).epochs.at(-1)?.members.length === 3, 20_000)).toBe(true);

    // Signed by a key that is not the cluster's admin key: 403, nothing changes.
    const forged = signRevocation(ids[2], await generateKeyPair('Ed25519'));
    const refused = await fetch(`${b.url}/admin/revocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('REVOCATION_REFUSED');

    // The operator's command, through a daemon that may not be the sequencer.
    const res = await runCli(['revoke', ids[2], '--admin-key', `${c.secretFile}.admin`, '--url', b.url]);
    expect(res.code, res.out).toBe(0);
    const gone = await eventually(
      async () => {
        for (const d of [a, b]) {
          if ((await layoutOf(d)).epochs.at(-1)?.members.includes(ids[2])) return false;
          if ((await peersOf(d)).includes(ids[2])) return false;
        }
        return true;
      },
      30_000,
      500,
    );
    expect(gone).toBe(true);
    // The epoch that removed it carries the admin's order.
    const epochs = (await (await fetch(`${a.url}/admin/layout/epochs?scope=cluster`)).json()) as {
      epochs: Array<{ change: { revoked?: Array<{ id: string }> } }>;
    };
    expect(epochs.epochs.some((e) => e.change.revoked?.some((o) => o.id === ids[2]))).toBe(true);
  });
});
