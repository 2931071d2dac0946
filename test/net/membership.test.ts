import { afterAll, describe, expect, it } from 'vitest';
import { generateClusterSecret, PeerUnreachableError } from '../../src/net/index.ts';
import { cleanup, startCluster, startNet, tempDir, upCount, waitFor } from './helpers.ts';

afterAll(cleanup);

describe('membership', () => {
  const secret = generateClusterSecret();

  it('three nodes with the same secret see each other with zone and apiUrl', async () => {
    const [a, b, c] = await startCluster(3, { clusterSecret: secret });
    for (const net of [a, b, c]) {
      const byId = new Map(net.members().map((m) => [m.peerId, m]));
      expect(byId.get(a.peerId)?.zone).toBe('z0');
      expect(byId.get(b.peerId)?.apiUrl).toBe('http://127.0.0.1:7001');
      expect(byId.get(c.peerId)?.zone).toBe('z2');
      expect(byId.get(net.peerId)?.self).toBe(true);
    }
    expect(a.multiaddrs()[0]).toMatch(new RegExp(`/p2p/${a.peerId}$`));
  });

  it("records a smoothed RTT per peer from the failure detector's pings", async () => {
    const [a, b] = await startCluster(2);
    // Loopback pings read 0 or 1 ms (libp2p's whole-ms clock): wait, bounded, until one reading is non-zero.
    await waitFor(() => (a.member(b.peerId)?.rttMs ?? 0) > 0 && (b.member(a.peerId)?.rttMs ?? 0) > 0);
    const rtt = a.member(b.peerId)?.rttMs ?? Number.NaN;
    expect(Number.isFinite(rtt)).toBe(true);
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1000); // below the ping timeout
    expect(a.members().find((m) => m.self)?.rttMs).toBeUndefined();
  });

  it("a peer learns another's used and limit bytes, and each noticeable change of them", async () => {
    const MiB = 1024 * 1024;
    const [a, b, c] = await startCluster(3, { storage: { limitBytes: 64 * MiB } });
    expect(a.member(a.peerId)).toMatchObject({ limitBytes: 64 * MiB });
    expect(b.member(a.peerId)?.usedBytes).toBeUndefined(); // unknown until measured
    expect(a.setStorage({ usedBytes: 5 * MiB, limitBytes: 64 * MiB })).toBe(true);
    await waitFor(() => b.member(a.peerId)?.usedBytes === 5 * MiB && c.member(a.peerId)?.usedBytes === 5 * MiB);
    expect(b.member(a.peerId)?.limitBytes).toBe(64 * MiB);
    const version = b.member(a.peerId)!.updatedAt;
    // a small change is not re-versioned: peers keep the announced size
    expect(a.setStorage({ usedBytes: 5 * MiB + 1000, limitBytes: 64 * MiB })).toBe(false);
    expect(a.member(a.peerId)?.usedBytes).toBe(5 * MiB);
    // the limit lifted and a large growth: a new version without limitBytes
    expect(a.setStorage({ usedBytes: 40 * MiB })).toBe(true);
    await waitFor(() => b.member(a.peerId)?.usedBytes === 40 * MiB);
    expect(b.member(a.peerId)!.updatedAt).toBeGreaterThan(version);
    expect(b.member(a.peerId)?.limitBytes).toBeUndefined();
    // the limit of the start options is announced from the first record on
    expect(b.member(c.peerId)).toMatchObject({ status: 'up', limitBytes: 64 * MiB });
  });

  it('a node without the secret, or with another one, cannot join', async () => {
    const seed = await startNet({ clusterSecret: secret });
    const stranger = await startNet({});
    await expect(stranger.join(seed.multiaddrs()[0], { timeoutMs: 1000 })).rejects.toBeInstanceOf(PeerUnreachableError);
    const other = await startNet({ clusterSecret: generateClusterSecret() });
    await expect(other.join(seed.multiaddrs()[0], { timeoutMs: 1000 })).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(seed.members().map((m) => m.peerId)).toEqual([seed.peerId]);
  });
});

describe('failure detection', () => {
  it('marks a stopped node down, and up again (same peer id) after it restarts with its dataDir', async () => {
    const secret = generateClusterSecret();
    const dirs = [await tempDir(), await tempDir(), await tempDir()];
    const [a, b, c] = await startCluster(3, { clusterSecret: secret }, dirs);
    const cId = c.peerId;
    const events: string[] = [];
    a.addEventListener('member:down', (e) => events.push(`down ${e.detail.peerId}`));
    a.addEventListener('member:up', (e) => events.push(`up ${e.detail.peerId}`));
    a.addEventListener('member:changed', (e) => events.push(`${e.detail.status} ${e.detail.peerId}`));
    await c.stop();
    await waitFor(() => a.member(cId)?.status === 'down' && b.member(cId)?.status === 'down');
    expect(events).toEqual([`suspect ${cId}`, `down ${cId}`]);

    // no --join: the restarted node finds the cluster from members.json
    const c2 = await startNet({ clusterSecret: secret, dataDir: dirs[2], zone: 'z2' });
    expect(c2.peerId).toBe(cId);
    await waitFor(() => a.member(cId)?.status === 'up' && b.member(cId)?.status === 'up');
    expect(events.slice(0, 3)).toEqual([`suspect ${cId}`, `down ${cId}`, `up ${cId}`]);
    // its new record (new port) may arrive just after the contact that marked it up
    await waitFor(() => JSON.stringify(a.member(cId)?.multiaddrs) === JSON.stringify(c2.multiaddrs()));
    await waitFor(() => upCount(c2.members()) === 3);
  });

  it('a blocked peer goes down on both sides and comes back when unblocked', async () => {
    const [a, b] = await startCluster(2, { faults: { enabled: true } });
    await a.blockPeer(b.peerId);
    await waitFor(() => a.member(b.peerId)?.status === 'down' && b.member(a.peerId)?.status === 'down');
    a.unblockPeer(b.peerId);
    await waitFor(() => a.member(b.peerId)?.status === 'up' && b.member(a.peerId)?.status === 'up');
  });

  it('a node that left is gone from the membership, is not re-dialled, and its stale record cannot return', async () => {
    const [a, b, c] = await startCluster(3);
    const bId = b.peerId;
    const removed: string[] = [];
    a.addEventListener('member:removed', (e) => removed.push(e.detail.peerId));
    await b.leave();
    await waitFor(() => a.member(bId) === undefined && c.member(bId) === undefined);
    expect(removed).toEqual([bId]);
    expect(a.members().map((m) => m.peerId)).not.toContain(bId);
    await new Promise((r) => setTimeout(r, 500)); // gossip and member-list exchanges meanwhile
    expect(a.peers()).not.toContain(bId);
    expect(a.member(bId)).toBeUndefined();
  });

  it('a removed node is dropped by every member and refused when it comes back with its data dir', async () => {
    const dirs = [await tempDir(), await tempDir(), await tempDir()];
    const [a, b, c] = await startCluster(3, {}, dirs);
    const cId = c.peerId;
    await c.stop();
    await waitFor(() => a.member(cId)?.status === 'down');
    const before = await a.remove(cId);
    expect(before.peerId).toBe(cId);
    await waitFor(() => b.member(cId) === undefined);
    expect(a.member(cId)).toBeUndefined();
    const again = await startNet({ dataDir: dirs[2], zone: 'z2', join: a.multiaddrs() });
    expect(again.peerId).toBe(cId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.member(cId)).toBeUndefined();
    expect(b.member(cId)).toBeUndefined();
    await expect(a.remove(cId)).rejects.toMatchObject({ code: 'MEMBER_NOT_FOUND' });
  });

  it('blockPeer needs faults enabled', async () => {
    const [a, b] = await startCluster(2);
    await expect(a.blockPeer(b.peerId)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
