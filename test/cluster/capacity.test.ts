import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually } from './helpers.ts';

const MiB = 1024 * 1024;
const LIMIT_MB = 64;

type Peer = { peerId: string; self: boolean; usedBytes?: number; limitBytes?: number };
const peers = async (d: { url: string }) =>
  ((await (await fetch(`${d.url}/admin/peers`)).json()) as { members: Peer[] }).members;

let c: Cluster;
let ids: string[];

beforeAll(async () => {
  // R = 2 on two daemons: every record is on both. Only d1 has a limit.
  const common = ['--replicas', '2'];
  c = await startCluster({ n: 2, extra: [common, [...common, '--storage-limit-mb', String(LIMIT_MB)]] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
}, 60_000);
afterAll(stopAllClusters);

describe('daemons announce their storage', () => {
  it("/admin/peers shows a daemon's limit and a used size that grows after writes", { timeout: 60_000 }, async () => {
    const [d0, d1] = c.daemons;
    const seen = async () => (await peers(d0)).find((m) => m.peerId === ids[1]);
    // The first record already carries the limit and the size measured at start.
    expect(await eventually(async () => (await seen())?.usedBytes !== undefined, 15_000)).toBe(true);
    const first = (await seen())!;
    expect(first.limitBytes).toBe(LIMIT_MB * MiB);
    expect(Number.isSafeInteger(first.usedBytes)).toBe(true);
    // d0 has no limit: its record (and its own view of itself) has no limitBytes.
    const self0 = (await peers(d0)).find((m) => m.self)!;
    expect(self0.limitBytes).toBeUndefined();
    expect(self0.usedBytes).toBeGreaterThanOrEqual(0);
    expect((await peers(d1)).find((m) => m.peerId === ids[0])?.limitBytes).toBeUndefined();

    // 4 MiB of incompressible values, written at `all`: on d1's disk when acknowledged.
    for (let i = 0; i < 16; i++) {
      const r = await fetch(recordUrl(d0, `bulk/${i}`, 'all'), {
        method: 'PUT',
        body: randomBytes(256 * 1024),
      });
      await r.arrayBuffer();
      expect(r.status).toBe(201);
    }
    // d1 measures every 10 s and re-announces a change of more than 1 MiB; d0 learns it by gossip.
    const grown = await eventually(
      async () => ((await seen())?.usedBytes ?? 0) >= first.usedBytes! + 3 * MiB,
      30_000,
      500,
    );
    expect(grown, JSON.stringify(await seen())).toBe(true);
    const after = (await seen())!;
    expect(after.usedBytes).toBeLessThan(first.usedBytes! + 64 * MiB);
    expect(after.limitBytes).toBe(LIMIT_MB * MiB);
  });
});
