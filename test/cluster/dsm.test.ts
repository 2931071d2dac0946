import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { runCli } from '../support/daemon-process.ts';
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

/** Every daemon's migrations of `keys`, for failure messages. */
async function migrationsOf(keys: readonly string[]): Promise<string> {
  const all = await Promise.all(
    c.daemons.map(async (x) =>
      json<{ inFlight: unknown[]; history: Array<{ key: string }> }>(
        await fetch(`${x.url}/admin/migrations?limit=1000`),
      ),
    ),
  );
  return JSON.stringify(
    all.flatMap((m) => [...m.inFlight, ...m.history]).filter((m) => keys.includes((m as { key: string }).key)),
  );
}

/** Reads every key `times` times through `d` at `one`; resolves to each read's latency and whether it was right. */
async function readAll(d: D, keys: readonly string[], expected: Map<string, Set<string>>, times = 3) {
  return Promise.all(
    keys
      .flatMap((key) => Array.from({ length: times }, () => key))
      .map(async (key) => {
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

    // Demand from d: reads at `one`, until every record holds a replica in d. The clock is the DSM's own:
    // cycles started on any daemon since the demand began (timings on a loaded 2-core host vary).
    const cyclesSeen = c.daemons.map(() => new Set<number>());
    const countCycles = async () => {
      await Promise.all(
        c.daemons.map(async (x, i) => {
          const s = await json<{ lastCycle: { startedAt: number } | null }>(await fetch(`${x.url}/admin/dsm`));
          if (s.lastCycle !== null && s.lastCycle.startedAt >= started) cyclesSeen[i].add(s.lastCycle.startedAt);
        }),
      );
      return Math.max(...cyclesSeen.map((x) => x.size));
    };
    const started = Date.now();
    const gained = new Map<string, number>(); // key → cycles seen when it was first seen in d
    const before: number[] = [];
    let wrong = 0;
    try {
      while (gained.size < keys.length && Date.now() < started + 60_000) {
        for (const r of await readAll(d, keys, written)) {
          if (!r.ok) wrong++;
          if (!gained.has(r.key)) before.push(r.ms);
        }
        const cycles = await countCycles();
        for (const key of keys) {
          if (!gained.has(key) && (await holdersOf(d, key)).includes(dId)) gained.set(key, cycles);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      // The moves are over (or failed): stop writing, so what follows reads a settled history.
      writing = false;
      await writer;
    }
    expect([...gained.keys()].sort(), `gained after ${JSON.stringify([...gained])}`).toEqual([...keys].sort());
    // The first cycle cannot see the demand yet (buckets close each second, then gossip carries them):
    // within 3 cycles after it.
    const late = [...gained].filter(([, n]) => n > 4).map(([k]) => k);
    const story = late.length === 0 ? '' : await migrationsOf(late);
    expect(Math.max(...gained.values()), `cycles ${JSON.stringify([...gained])} ${story}`).toBeLessThanOrEqual(4);
    // Before the moves, d's reads really crossed zones (the measurement can tell local from remote).
    expect(before.filter((ms) => ms >= REMOTE_MS).length / before.length).toBeGreaterThan(0.5);

    // After: d's reads are served in d (one at a time, so queueing on this busy host does not pass for distance).
    const after: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (const key of keys) {
        const [r] = await readAll(d, [key], written, 1);
        if (!r.ok) wrong++;
        after.push(r.ms);
      }
    }
    const remoteShare = after.filter((ms) => ms >= REMOTE_MS).length / after.length;
    expect(remoteShare, `latencies ${after.map((x) => x.toFixed(0)).join(',')}`).toBeLessThan(0.1);
    expect(wrong).toBe(0);

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

  it('a rollback of the wave returns every record to its earlier placement, intact, and pauses the DSM', {
    timeout: 60_000,
  }, async () => {
    const [a] = c.daemons;
    type M = { key: string; state: string; origin: string; wave: string; from: string[] };
    const history = (
      await Promise.all(
        c.daemons.map(async (x) => json<{ history: M[] }>(await fetch(`${x.url}/admin/migrations?limit=1000`))),
      )
    ).flatMap((m) => m.history);
    const moved = history.filter((m) => m.state === 'done' && m.origin === 'dsm');
    expect(moved.length).toBeGreaterThan(0);
    const wave = moved[0].wave;
    const inWave = moved.filter((m) => m.wave === wave);
    const checksum = async (key: string) =>
      (await fetch(`${a.url}/v1/records/${enc(key)}?consistency=quorum`)).headers.get('x-shoal-checksum');
    const before = new Map(await Promise.all(inWave.map(async (m) => [m.key, await checksum(m.key)] as const)));

    const post = (body: unknown) =>
      fetch(`${a.url}/admin/layout/rollback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({})).status).toBe(400);
    expect((await post({ toTime: 1, wave })).status).toBe(400);
    const missing = await post({ wave: 'w-nosuchwave' });
    expect(missing.status).toBe(409);
    expect((await json<{ code: string }>(missing)).code).toBe('ROLLBACK_TARGET_MISSING');
    // A refused rollback changes nothing: the DSM keeps running.
    expect((await json<{ paused: boolean }>(await fetch(`${a.url}/admin/dsm`))).paused).toBe(false);

    const res = await post({ wave });
    expect(res.status).toBe(202);
    const body = await json<{ rollbackId: string; records: number }>(res);
    expect(body.records).toBe(inWave.length);
    for (const x of c.daemons)
      expect((await json<{ paused: boolean }>(await fetch(`${x.url}/admin/dsm`))).paused).toBe(true);
    for (const m of inWave) {
      const back = await eventually(
        async () => [...(await holdersOf(a, m.key))].sort().join() === [...m.from].sort().join(),
        30_000,
      );
      expect(back, m.key).toBe(true);
      expect(await checksum(m.key)).toBe(before.get(m.key));
    }
    // The rollback's moves end in the migration history once their wave finished (after the release).
    const rolledBack = async () =>
      (
        await Promise.all(
          c.daemons.map(async (x) => json<{ history: M[] }>(await fetch(`${x.url}/admin/migrations?limit=1000`))),
        )
      )
        .flatMap((m) => m.history)
        .filter((m) => m.origin === 'rollback' && m.wave === body.rollbackId && m.state === 'done')
        .map((m) => m.key)
        .sort()
        .join();
    const want = inWave
      .map((m) => m.key)
      .sort()
      .join();
    expect(await eventually(async () => (await rolledBack()) === want, 20_000), await rolledBack()).toBe(true);
    const epochs = await json<{ epochs: Array<{ wave?: string; signature: string; parent: string }> }>(
      await fetch(`${a.url}/admin/layout/epochs?scope=all&limit=1000`),
    );
    expect(epochs.epochs.some((e) => e.wave === body.rollbackId)).toBe(true);
    expect(epochs.epochs.every((e) => /^[0-9a-f]{128}$/.test(e.signature))).toBe(true);
  });

  it('shoal layout, layout epochs, layout rollback and dsm status work against the cluster', {
    timeout: 60_000,
  }, async () => {
    const url = c.daemons[1].url;
    const cli = (...args: string[]) => runCli([...args, '--url', url], 30_000);
    const status = await cli('layout');
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/cluster head #\d+/);
    const epochs = await cli('layout', 'epochs', '--scope', 'all', '--limit', '500', '--json');
    expect(epochs.code, epochs.out).toBe(0);
    const list = (JSON.parse(epochs.out) as { epochs: Array<{ scope: string; wave?: string }> }).epochs;
    expect(list.some((e) => e.scope.startsWith('partition:') && e.wave?.startsWith('w-'))).toBe(true);
    const table = await cli('layout', 'epochs', '--scope', 'cluster');
    expect(table.code, table.out).toBe(0);
    expect(table.out).toContain('+member');
    const missing = await cli('layout', 'rollback', '--wave', 'w-nosuchwave');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('ROLLBACK_TARGET_MISSING');
    expect((await cli('layout', 'rollback')).code).toBe(2);
    expect((await cli('layout', 'rollback', '--to-time', 'yesterday-ish')).code).toBe(2);
    const now = await cli('layout', 'rollback', '--to-time', new Date().toISOString(), '--json');
    expect(now.code, now.out).toBe(0);
    expect(JSON.parse(now.out)).toMatchObject({ records: 0 });
    const again = await cli('layout', 'rollback', '--to-time', new Date().toISOString());
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/^rollback \S+: 0 record\(s\) move back; the DSM is paused \(shoal dsm resume\)\n/);
    const statusJson = await cli('layout', '--json');
    expect(statusJson.code, statusJson.out).toBe(0);
    const head = (JSON.parse(statusJson.out) as { head: { scope: string; number: number; hash: string } }).head;
    expect(head).toMatchObject({ scope: 'cluster', hash: expect.stringMatching(/^[0-9a-f]{16,}$/) });
    expect(status.out).toContain(`cluster head #${head.number}`);
    const dsm = await cli('dsm', 'status');
    expect(dsm.code, dsm.out).toBe(0);
    expect(dsm.out).toMatch(/paused\W+yes/);

    // The moves of every coordinator, through one daemon: each daemon's own list, snapshotted first (the DSM
    // is paused by the rollback above; moves still in flight may end meanwhile, so they may have moved on).
    type M = { id: string; state: string; coordinator?: string };
    const own = await Promise.all(
      c.daemons.map(async (x) =>
        json<{ inFlight: M[]; history: M[] }>(await fetch(`${x.url}/admin/migrations?limit=1000`)),
      ),
    );
    expect(own.filter((o) => o.history.length > 0).length, 'moves by more than one coordinator').toBeGreaterThan(1);
    const clusterJson = await cli('migrations', '--cluster', '--limit', '10000', '--json');
    expect(clusterJson.code, clusterJson.out).toBe(0);
    const all = JSON.parse(clusterJson.out) as { inFlight: M[]; history: M[]; daemons: Array<{ answered: boolean }> };
    expect(all.daemons).toHaveLength(4);
    expect(all.daemons.every((x) => x.answered)).toBe(true);
    const byId = new Map([...all.inFlight, ...all.history].map((m) => [m.id, m]));
    own.forEach((o, i) => {
      for (const m of [...o.inFlight, ...o.history]) expect(byId.get(m.id)?.coordinator, m.id).toBe(ids[i]);
    });
    // Nothing else: every move listed names one of the members as its coordinator.
    for (const m of byId.values()) expect(ids, m.id).toContain(m.coordinator);
    const clusterTable = await cli('migrations', '--cluster');
    expect(clusterTable.code, clusterTable.out).toBe(0);
    expect(clusterTable.out).toContain('cluster: moves of 4 of 4 daemon(s)\n');
    expect(clusterTable.out).toMatch(/history \(\d+, most recent first\):\n[^\n]*\n│ key .*│ coordinator\s*│/);
    expect(clusterTable.out).toMatch(/│ done\s*│/);
  });
});
