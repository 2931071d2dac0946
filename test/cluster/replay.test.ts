import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySummary } from '../../node/replay/run.ts';
import { sharedTrace } from '../../node/replay/shared-traces.ts';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { freePort, runShoal, tempDir } from '../support/daemon-process.ts';

// Three zones, one daemon each, R = 2: every zone lacks a replica of about a third of the records, so reads at
// `one` from there wait on another zone. 40 ms one way between zones; the DSM is off, so placement holds still.
const ZONES = ['a', 'b', 'c'];
const ONE_WAY_MS = 40;
const WORLDCUP = sharedTrace('worldcup98_day6_even.csv.gz');
const TECTONIC = sharedTrace('meta_tectonic_1.csv');

type Row = { key: string; op: string; origin: string };
type Stats = {
  zones: Record<string, { reads: number; writes: number }>;
  apps: Record<string, { reads: number; writes: number }>;
};

/** The first `n` data rows of a trace, read here without the code under test. */
async function firstRows(path: string, n: number): Promise<Row[]> {
  const file = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? file.pipe(createGunzip()) : file });
  const rows: Row[] = [];
  for await (const line of lines) {
    if (line.startsWith('ts_ms') || line === '') continue;
    const [, key, op, origin] = line.split(',');
    rows.push({ key, op, origin });
    if (rows.length === n) break;
  }
  lines.close();
  file.destroy();
  return rows;
}

let c: Cluster;
let urls: string[];
let peerZone: Map<string, string>;
const stats = async (url: string) =>
  ((await (await fetch(`${url}/admin/stats/summary`)).json()) as { local: Stats }).local;
const statsAll = () => Promise.all(urls.map(stats));
const replayed = (s: Stats) => s.apps['shoal-replay'] ?? { reads: 0, writes: 0 };

async function replay(args: string[]): Promise<ReplaySummary> {
  const r = await runShoal(['replay', '--cluster', urls.join(','), '--json', ...args], {}, 60_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ReplaySummary;
}

describe.skipIf(!WORLDCUP || !TECTONIC)('shoal replay against a live cluster (shared traces)', () => {
  beforeAll(async () => {
    c = await startCluster({
      n: 3,
      zones: ZONES,
      extra: ZONES.map(() => ['--replicas', '2', '--dsm-policy', 'off', '--fault-injection', 'on']),
    });
    urls = c.daemons.map((d) => d.url);
    peerZone = new Map((await Promise.all(c.daemons.map(statusOf))).map((s) => [s.peerId, s.zone]));
    const matrix = Object.fromEntries(
      ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : ONE_WAY_MS]))]),
    );
    for (const url of urls) {
      const r = await fetch(`${url}/admin/faults/latency`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ matrix }),
      });
      expect(r.status).toBe(200);
    }
  }, 60_000);
  afterAll(stopAllClusters);

  it('sends every request of the slice through a daemon of its origin zone, and measures latency and remote share', {
    timeout: 90_000,
  }, async () => {
    const N = 300;
    const rows = await firstRows(WORLDCUP!, N);
    // The rule, by hand: origins by request count (desc, ties by name) onto the zones in order.
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.origin, (counts.get(r.origin) ?? 0) + 1);
    const ranked = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([o]) => o);
    expect(ranked.length).toBe(3);
    const zoneOf = new Map(ranked.map((o, i) => [o, ZONES[i]]));
    const before = await statsAll();

    const s = await replay(['--trace', WORLDCUP!, '--limit', String(N), '--speedup', '200', '--level', 'one']);
    const after = await statsAll();

    expect(s.sent).toBe(N);
    expect(s.stoppedBy).toBe('limit');
    expect(s.total.requests).toBe(N);
    expect(s.total.errors).toBe(0);
    expect(s.originZones).toEqual(Object.fromEntries(zoneOf));
    // Every key was written once first (through the zone that reads it first).
    expect(s.preload).toMatchObject({ keys: new Set(rows.map((r) => r.key)).size, errors: 0 });
    for (const [i, url] of urls.entries()) {
      const zone = ZONES[i];
      const expected = rows.filter((r) => zoneOf.get(r.origin) === zone).length;
      const z = s.zones.find((x) => x.zone === zone)!;
      expect(z.requests, zone).toBe(expected);
      expect(s.cluster.daemons.find((d) => d.url === url)?.requests).toBe(expected);
      // The daemon's own counters: exactly these reads arrived there, all from its zone (preloads are writes).
      expect(replayed(after[i]).reads - replayed(before[i]).reads, zone).toBe(expected);
      for (const other of ZONES) {
        const d = (after[i].zones[other]?.reads ?? 0) - (before[i].zones[other]?.reads ?? 0);
        expect(d, `${zone} saw reads from ${other}`).toBe(other === zone ? expected : 0);
      }
    }

    // Remote share, from each key's holders as a daemon reports them: a read at one is local with a holder in its zone.
    const keys = [...new Set(rows.map((r) => r.key))];
    const holders = new Map<string, string[]>();
    for (let i = 0; i < keys.length; i += 16) {
      await Promise.all(
        keys.slice(i, i + 16).map(async (key) => {
          const r = (await (await fetch(`${urls[0]}/admin/records/${encodeURIComponent(key)}`)).json()) as {
            placement: { replicas: string[] };
          };
          holders.set(
            key,
            r.placement.replicas.map((p) => peerZone.get(p)!),
          );
        }),
      );
    }
    for (const zone of ZONES) {
      const mine = rows.filter((r) => zoneOf.get(r.origin) === zone);
      const remote = mine.filter((r) => !holders.get(r.key)!.includes(zone)).length / mine.length;
      const z = s.zones.find((x) => x.zone === zone)!;
      expect(z.remoteShare.served, zone).toBeCloseTo(remote, 10);
      expect(z.remoteShare.start, zone).toBeCloseTo(remote, 10);
      expect(z.remoteShare.end, zone).toBeCloseTo(remote, 10);
      // The verdicts match what the clock saw: remote reads took a round trip between zones, local ones did not.
      if (remote >= 0.05) expect(z.p99Ms, zone).toBeGreaterThanOrEqual(2 * ONE_WAY_MS * 0.9);
      if (remote <= 0.4) expect(z.p50Ms, zone).toBeLessThan(2 * ONE_WAY_MS * 0.9);
      expect(z.meanMs).toBeGreaterThan(0);
    }
    const a = s.zones.find((x) => x.zone === 'a')!;
    expect(a.remoteShare.served).toBeGreaterThan(0); // ~1/3 of the records have no replica in a
    expect(a.remoteShare.served).toBeLessThan(1);
    expect(s.moves).toMatchObject({ records: 0, dsmRecords: 0 });
  });

  it('replays writes as writes, finds every key it reads, and scores quorum reads on a majority', {
    timeout: 90_000,
  }, async () => {
    const N = 200;
    const rows = await firstRows(TECTONIC!, N);
    const before = await statsAll();
    const s = await replay([
      '--trace',
      TECTONIC!,
      '--limit',
      String(N),
      '--speedup',
      '50',
      '--max-value-bytes',
      '4096',
    ]);
    const after = await statsAll();
    expect(s.sent).toBe(N);
    expect(s.level).toBe('quorum');
    expect(s.total, JSON.stringify(s.total.errorCodes)).toMatchObject({
      requests: N,
      errors: 0,
      writes: rows.filter((r) => r.op === 'w').length,
    });
    expect(s.preload).toMatchObject({ keys: new Set(rows.map((r) => r.key)).size, errors: 0 });
    const delta = (i: number) =>
      replayed(after[i]).reads + replayed(after[i]).writes - replayed(before[i]).reads - replayed(before[i]).writes;
    expect(urls.map((_, i) => delta(i))).toEqual(urls.map((u) => s.cluster.daemons.find((d) => d.url === u)?.requests));
    // R = 2 holders in two zones: a majority (2) is never inside one zone.
    for (const z of s.zones) if (z.requests > 0) expect(z.remoteShare.served, z.zone).toBe(1);
  });

  it('a malformed trace is one line naming the row, exit 1', async () => {
    const bad = join(tempDir('shoal-replay-bad-'), 'bad.csv');
    writeFileSync(bad, 'ts_ms,key,op,origin,size\n1,a,r,x,0\n2,b,x,x,0\n');
    const r = await runShoal(['replay', '--trace', bad, '--cluster', urls[0]]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shoal replay: TRACE_FORMAT: trace line 3: op must be "r" or "w", got "x"\n$/);
  });
});

describe('shoal replay refuses bad input in one line', () => {
  it('a trace file that does not exist: exit 2', async () => {
    const r = await runShoal(['replay', '--trace', '/nonexistent/trace.csv', '--cluster', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('shoal replay: cannot read trace /nonexistent/trace.csv: no such file\n');
  });

  it('a cluster URL nothing answers on: exit 1', async () => {
    const trace = join(tempDir('shoal-replay-ok-'), 'ok.csv');
    writeFileSync(trace, 'ts_ms,key,op,origin,size\n1,a,r,x,0\n');
    const port = await freePort();
    const r = await runShoal(['replay', '--trace', trace, '--cluster', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^shoal replay: cannot reach the daemon at http://127\\.0\\.0\\.1:${port} \\([^\\n]*\\n$`),
    );
  });

  it('a bad option: exit 2 and a pointer to --help', async () => {
    const r = await runShoal(['replay', '--trace', 'x.csv', '--speedup', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^shoal replay: --speedup must be a number from 0\.001 .*\(shoal replay --help\)\n$/);
  });
});
