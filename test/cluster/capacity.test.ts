import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/dsm/index.ts';
import { type Cluster, recordUrl, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually, get, put } from './helpers.ts';

const MiB = 1024 * 1024;
/** Daemon c (index 2) may hold 10 KB: it is over its limit as soon as it holds a record. */
const LIMIT_MB = 0.01;
const LIMIT_BYTES = Math.floor(LIMIT_MB * MiB);

// Four zones, R = 2 (one replica in each of two zones): a record may move into c or d. No DSM cycle
// runs (interval of a day): the test reads dry-run plans only.
const ZONES = ['a', 'b', 'c', 'd'];
const latencyMatrix = Object.fromEntries(
  ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : 50]))]),
);
const ARGS = [
  ...['--replicas', '2', '--survive', 'zone', '--dsm-policy', 'reactive', '--dsm-interval-ms', '86400000'],
  ...['--stats-bucket-ms', '1000', '--stats-gossip-interval-ms', '1000'],
  ...['--latency-matrix', JSON.stringify(latencyMatrix)],
];

type Peer = { peerId: string; self: boolean; usedBytes?: number; limitBytes?: number };
type D = { url: string };
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const peers = async (d: D) => (await json<{ members: Peer[] }>(await fetch(`${d.url}/admin/peers`))).members;
const holdersOf = async (d: D, key: string) =>
  (await json<{ placement: { replicas: string[] } }>(await fetch(`${d.url}/admin/records/${encodeURIComponent(key)}`)))
    .placement.replicas;

let c: Cluster;
let ids: string[];

beforeAll(async () => {
  c = await startCluster({
    n: 4,
    zones: ZONES,
    extra: ZONES.map((z) => (z === 'c' ? [...ARGS, '--storage-limit-mb', String(LIMIT_MB)] : ARGS)),
  });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
}, 60_000);
afterAll(stopAllClusters);

describe('daemons announce their storage, and the DSM respects it', () => {
  it("/admin/peers shows a daemon's limit and a used size that grows after writes", { timeout: 60_000 }, async () => {
    const [a, , dc] = c.daemons;
    const seen = async () => (await peers(a)).find((m) => m.peerId === ids[2]);
    // The first record already carries the limit and the size measured at start.
    expect(await eventually(async () => (await seen())?.usedBytes !== undefined, 15_000)).toBe(true);
    const first = (await seen())!;
    expect(first.limitBytes).toBe(LIMIT_BYTES);
    expect(Number.isSafeInteger(first.usedBytes)).toBe(true);
    // a has no limit: its record (and its own view of itself) has no limitBytes.
    const selfA = (await peers(a)).find((m) => m.self)!;
    expect(selfA.limitBytes).toBeUndefined();
    expect(selfA.usedBytes).toBeGreaterThanOrEqual(0);
    expect((await peers(dc)).find((m) => m.peerId === ids[0])?.limitBytes).toBeUndefined();

    // 3 MiB of incompressible values held by c, written at `all`: on c's disk when acknowledged.
    let held = 0;
    for (let i = 0; held < 12 && i < 200; i++) {
      const key = `bulk/${i}`;
      if (!(await holdersOf(a, key)).includes(ids[2])) continue;
      const r = await fetch(recordUrl(a, key, 'all'), { method: 'PUT', body: randomBytes(256 * 1024) });
      await r.arrayBuffer();
      expect(r.status).toBe(201);
      held++;
    }
    expect(held).toBe(12);
    // c measures every 10 s and re-announces a change of more than 1 MiB; a learns it by gossip.
    const grown = await eventually(
      async () => ((await seen())?.usedBytes ?? 0) >= first.usedBytes! + 2 * MiB,
      30_000,
      500,
    );
    expect(grown, JSON.stringify(await seen())).toBe(true);
    const after = (await seen())!;
    expect(after.usedBytes).toBeLessThan(first.usedBytes! + 64 * MiB);
    expect(after.limitBytes).toBe(LIMIT_BYTES);
  });

  it("the DSM plans no move into a daemon at its limit: c's demand finds its records skipped for capacity", {
    timeout: 90_000,
  }, async () => {
    const [a, , dc] = c.daemons;
    // Every daemon (each plans the partitions it coordinates) knows c is at its limit.
    const full = await eventually(
      async () => {
        for (const d of c.daemons) {
          const m = (await peers(d)).find((p) => p.peerId === ids[2]);
          if (m?.limitBytes !== LIMIT_BYTES || (m.usedBytes ?? 0) < LIMIT_BYTES) return false;
        }
        return true;
      },
      30_000,
      500,
    );
    expect(full).toBe(true);
    // Records with no replica in c.
    const keys: string[] = [];
    for (let i = 0; keys.length < 6 && i < 300; i++) {
      const key = `far/${i}`;
      if ((await holdersOf(a, key)).includes(ids[2])) continue;
      expect(await put(a, key, `${key}=v`)).toBe(201);
      keys.push(key);
    }
    expect(keys.length).toBe(6);
    const plans = async () =>
      Promise.all(c.daemons.map(async (d) => json<Plan>(await fetch(`${d.url}/admin/dsm/plan?limit=1000`))));
    const intoC = (p: Plan) => p.moves.filter((m) => m.to.includes(ids[2]) && !m.from.includes(ids[2]));
    // Only c reads them: without its limit every one would move into c (as zone d's do in dsm.test.ts).
    let last: Plan[] = [];
    const skipped = await eventually(
      async () => {
        for (const key of keys) for (let n = 0; n < 10; n++) await get(dc, key, 'one');
        last = await plans();
        if (last.some((p) => intoC(p).length > 0)) return true; // fails below, with the plans
        const full = new Set(last.flatMap((p) => p.skipped.filter((x) => x.reason === 'capacity').map((x) => x.key)));
        return keys.every((k) => full.has(k));
      },
      45_000,
      1000,
    );
    const story = JSON.stringify(last.map((p) => ({ moves: p.moves, skipped: p.skipped, counts: p.skipCounts })));
    expect(skipped, story).toBe(true);
    expect(last.flatMap(intoC), story).toEqual([]);
    // The skipped move is the one the demand asks for: a replica in c.
    const sketches = last.flatMap((p) => p.skipped).filter((x) => keys.includes(x.key) && x.reason === 'capacity');
    for (const x of sketches) expect(x.move?.to, JSON.stringify(x)).toContain(ids[2]);
  });
});
