import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, put } from './helpers.ts';

// Four zones, R = 3, survive zone: every record has replicas in three zones, so a quarter of the records
// have none in zone d. Emulated WAN latency: 25 ms one way between zones (a remote read costs ~50 ms).
const ZONES = ['a', 'b', 'c', 'd'];
const ONE_WAY_MS = 25;
const INTERVAL_MS = 2000;
const latencyMatrix = Object.fromEntries(
  ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : 2 * ONE_WAY_MS]))]),
);
const ARGS = [
  ...FAST_REPAIR,
  ...['--fault-injection', 'on', '--replicas', '3', '--survive', 'zone'],
  ...['--stats-bucket-ms', '1000', '--stats-gossip-interval-ms', '1000', '--pae-interval-ms', '1000'],
  ...['--dsm-interval-ms', String(INTERVAL_MS), '--dsm-policy', 'hybrid'],
  ...['--latency-matrix', JSON.stringify(latencyMatrix)],
];
/** A remote read crosses a zone twice; a local one stays well under this. */
const REMOTE_MS = ONE_WAY_MS * 1.6;

type D = { url: string };
const enc = encodeURIComponent;
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const holdersOf = async (d: D, key: string) =>
  (await json<{ placement: { replicas: string[] } }>(await fetch(`${d.url}/admin/records/${enc(key)}`))).placement
    .replicas;

let c: Cluster;
let ids: string[];

beforeAll(async () => {
  c = await startCluster({ n: 4, zones: ZONES, extra: ZONES.map(() => ARGS) });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
  const oneWay = Object.fromEntries(
    ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : ONE_WAY_MS]))]),
  );
  for (const d of c.daemons) {
    const r = await fetch(`${d.url}/admin/faults/latency`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matrix: oneWay }),
    });
    expect(r.status).toBe(200);
  }
}, 60_000);
afterAll(stopAllClusters);

/** Reads every key once through `d` at `one`; resolves to each read's latency and whether it was right. */
async function readAll(d: D, keys: readonly string[], expected: Map<string, Set<string>>) {
  return Promise.all(
    keys.map(async (key) => {
      const t0 = performance.now();
      const r = await get(d, key, 'one');
      const ms = performance.now() - t0;
      return { key, ms, ok: r.status === 200 && (expected.get(key)?.has(r.body) ?? false) };
    }),
  );
}

describe('the DSM moves replicas toward demand', () => {
  it('zone d reads records that have no replica there: each gains one within 3 cycles, reads stay right, writes survive, and d reads locally', {
    timeout: 120_000,
  }, async () => {
    const [a, , , d] = c.daemons;
    const dId = ids[3];
    // Records with no replica in d.
    const keys: string[] = [];
    for (let i = 0; keys.length < 8 && i < 200; i++) {
      const key = `dsm/${i}`;
      expect(await put(a, key, `${key}=0`)).toBeLessThan(300);
      if (!(await holdersOf(a, key)).includes(dId)) keys.push(key);
    }
    expect(keys.length).toBe(8);
    const written = new Map(keys.map((k) => [k, new Set([`${k}=0`])]));
    const lastAcked = new Map(keys.map((k) => [k, `${k}=0`]));

    // Writes run through a during the moves (values become valid the moment they are sent).
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing && n < 10_000; n++) {
        for (const key of keys) {
          const v = `${key}=${n}`;
          written.get(key)!.add(v);
          if ((await put(a, key, v)) < 300) lastAcked.set(key, v);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    // Demand from d: reads at `one`, until every record holds a replica in d.
    const started = Date.now();
    const gained = new Map<string, number>();
    const before: number[] = [];
    let wrong = 0;
    // Stats buckets close each second and gossip each second, then the coordinator's next cycle plans.
    const deadline = started + 3 * INTERVAL_MS + 1000 + 1000 + 4000;
    while (gained.size < keys.length && Date.now() < deadline + 10_000) {
      for (const r of await readAll(d, keys, written)) {
        if (!r.ok) wrong++;
        if (!gained.has(r.key)) before.push(r.ms);
      }
      for (const key of keys) {
        if (!gained.has(key) && (await holdersOf(d, key)).includes(dId)) gained.set(key, Date.now() - started);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...gained.keys()].sort(), `gained after ${JSON.stringify([...gained])}`).toEqual([...keys].sort());
    expect(Math.max(...gained.values())).toBeLessThan(deadline - started);
    // Before the moves, d's reads really crossed zones (the measurement can tell local from remote).
    expect(before.filter((ms) => ms >= REMOTE_MS).length / before.length).toBeGreaterThan(0.5);

    // After: d's reads are served in d.
    const after: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (const r of await readAll(d, keys, written)) {
        if (!r.ok) wrong++;
        after.push(r.ms);
      }
    }
    const remoteShare = after.filter((ms) => ms >= REMOTE_MS).length / after.length;
    expect(remoteShare, `latencies ${after.map((x) => x.toFixed(0)).join(',')}`).toBeLessThan(0.1);
    expect(wrong).toBe(0);

    writing = false;
    await writer;
    // Every acknowledged write is readable afterwards (the writer is sequential per key).
    for (const key of keys) {
      expect(await eventually(async () => (await get(a, key, 'quorum')).body === lastAcked.get(key), 10_000), key).toBe(
        true,
      );
      expect((await get(d, key, 'quorum')).body).toBe(lastAcked.get(key));
    }
    // Redundancy: three holders in three zones, one of them d.
    for (const key of keys) {
      const holders = await holdersOf(a, key);
      expect(holders).toHaveLength(3);
      const zones = holders.map((h) => ZONES[ids.indexOf(h)]);
      expect(new Set(zones).size).toBe(3);
      expect(zones).toContain('d');
    }
    const migrations = await Promise.all(
      c.daemons.map(async (x) =>
        json<{ history: Array<{ key: string; state: string; origin: string }> }>(
          await fetch(`${x.url}/admin/migrations?limit=1000`),
        ),
      ),
    );
    const done = migrations.flatMap((m) => m.history).filter((m) => m.state === 'done' && m.origin === 'dsm');
    for (const key of keys) expect(done.map((m) => m.key)).toContain(key);
  });
});
