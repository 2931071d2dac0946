/**
 * Live vs simulated: the same slice of a shared trace through a live 3-daemon, 3-zone cluster (`shoal replay`'s
 * engine, `runReplay`) and through `src/sim` configured as that cluster, and their remote-served shares and moves
 * compared. The configuration both get:
 * - daemons: the live cluster's peer ids and zones (the simulator's ring is then the cluster's ring: same members,
 *   same partitions, the same `createRing`), R = 2, survive zone, reads at `one`;
 * - latency: `cluster-scripts/wan-three-regions.json` (one-way delays) applied to the daemons' traffic through
 *   `/admin/faults/latency`, and its round trips (2 × one way) as the planner's matrix (`--latency-matrix`) and the
 *   simulator's;
 * - DSM: policy reactive (the forecaster is not part of this comparison: the live PAE learns from wall-clock
 *   series, and hybrid acts as reactive on such short series anyway), guard off (the simulator has none). The live
 *   DSM plans every {@link INTERVAL_MS} over the last 4 stats buckets of {@link INTERVAL_MS}; the trace runs
 *   {@link SPEEDUP} × faster, so the simulator plans every `INTERVAL_MS × SPEEDUP` of trace time over the last 4
 *   such buckets; the planner's wall-clock durations (cool-down, reclaim waits) are scaled the same way and its
 *   byte budget is the daemon's (`--dsm-max-mbps` 50 × the interval). The simulator plans as the daemons do
 *   (`dsmCadence: 'daemon'`: one planner per coordinator, each planning again one interval after its wave ended),
 *   and since it does not model the mover's protocol rounds across the WAN, each move takes the live run's mean
 *   wave duration (`moveDelayMs`, measured from the daemons' `/admin/migrations`, scaled to trace time).
 *
 * What must agree, and how closely (see {@link TOLERANCE}):
 * - the placement before any move, exactly: per zone, the share of requests that the ring's placement serves
 *   remotely (the live replay scores every request on the placement at its start too);
 * - the remote-served share with the DSM moving records, within `TOLERANCE.remoteShare` (absolute);
 * - the records moved, within `TOLERANCE.moves` (relative).
 *
 * Why 2-s buckets: the daemon sizes its stats from a 32 MiB budget with 6 h at the finest resolution, so with
 * `--stats-bucket-ms 1000` it keeps only 83 series lanes (2 s: 166; 60 s: 1,939) and its DSM sees
 * about half of this slice's keys; at 1 s the live cluster moved 23-40 % fewer records than the simulator (four
 * runs), at 2 s 2-6 % fewer (docs/evaluation.md, "Live vs simulated"). The live cycles, waves and gossiped view are
 * in the figures this test prints on failure (and appends to `$SHOAL_AGREEMENT_OUT` when set).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplaySummary, runReplay } from '../../node/replay/run.ts';
import { sharedTrace } from '../../node/replay/shared-traces.ts';
import { loadWorkload, SCENARIOS, type SimResult, simulate } from '../../src/sim/index.ts';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { tempDir } from '../support/daemon-process.ts';

const WORLDCUP = sharedTrace('worldcup98_day6_even.csv.gz');
const WAN = resolve(import.meta.dirname, '../../cluster-scripts/wan-three-regions.json');
const ZONES = ['eu', 'us', 'ap'];
/** The slice: the trace's first rows (25 min of trace time, 385 keys, origins en 85 %, fr 11 %, xx 4 %). */
const ROWS = 2000;
const SPEEDUP = 50;
const INTERVAL_MS = 2000;
const HORIZON_BUCKETS = 4;
const MAX_MBPS = 50;
const HOUR = 3_600_000;

/**
 * Tolerances. The placement before any move is the same ring on both sides: it must agree exactly. With moves,
 * the live cluster still acts later than the simulator on steps the simulator does not model: a bucket's counts
 * reach the record's coordinator by gossip (up to the 500 ms gossip interval), the daemons' DSM timers are not
 * aligned with the buckets (up to one interval), and waves vary around their mean duration: up to about 1.5
 * intervals of extra lag. Measured on the simulator itself (this trace, this configuration), each interval (100 s
 * of trace) of move delay raises its remote share by 0.012-0.025, so ≈ 0.02, plus ≈ 0.01 of noise between runs
 * (a few dozen hot records carry the effect): 0.03. Moves: with either cadence and 0-300 s of move delay the
 * simulator makes 47-55 moves (±8 %); twice that for the unaligned timers and gossip, and for the tail of demand the
 * daemons' stats still do not track at 2-s buckets: 20 %. Measured (three runs): remote share +0.011, +0.013,
 * +0.015; moves 0.98, 0.94, 0.98 of the simulator's.
 */
const TOLERANCE = { remoteShare: 0.03, moves: 0.2 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const oneWay = (JSON.parse(readFileSync(WAN, 'utf8')) as { matrix: Record<string, Record<string, number>> }).matrix;
const rtt = Object.fromEntries(
  Object.entries(oneWay).map(([a, row]) => [a, Object.fromEntries(Object.entries(row).map(([b, ms]) => [b, 2 * ms]))]),
);

let c: Cluster;
let urls: string[];
let slice: string;

async function admin(url: string, method: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status, `${method} ${path}`).toBeLessThan(300);
}

describe.skipIf(!WORLDCUP)('live cluster vs simulator, same slice and configuration', () => {
  beforeAll(async () => {
    const text = gunzipSync(readFileSync(WORLDCUP!)).toString('utf8');
    let end = 0;
    for (let i = 0; i <= ROWS; i++) end = text.indexOf('\n', end) + 1;
    slice = join(tempDir('shoal-agree-'), 'slice.csv');
    writeFileSync(slice, text.slice(0, end));
    const args = [
      ...['--replicas', '2', '--survive', 'zone', '--fault-injection', 'on'],
      ...['--dsm-policy', 'off', '--dsm-interval-ms', String(INTERVAL_MS), '--dsm-guard', 'off'],
      ...['--dsm-max-mbps', String(MAX_MBPS), '--latency-matrix', JSON.stringify(rtt)],
      ...[
        '--stats-bucket-ms',
        String(INTERVAL_MS),
        '--stats-gossip-interval-ms',
        '500',
        '--pae-interval-ms',
        String(INTERVAL_MS),
      ],
    ];
    c = await startCluster({ n: 3, zones: ZONES, extra: ZONES.map(() => args) });
    urls = c.daemons.map((d) => d.url);
    for (const url of urls) await admin(url, 'PUT', '/admin/faults/latency', { matrix: oneWay });
  }, 60_000);
  afterAll(stopAllClusters);

  it('agree on the placement exactly, and on the remote-served share and the records moved within the tolerance', {
    timeout: 120_000,
  }, async () => {
    const statuses = await Promise.all(c.daemons.map(statusOf));
    let replayStart = 0;
    // Every DSM cycle of every daemon (polled: /admin/dsm shows the last one), for the figures.
    const cycles = urls.map(() => new Map<number, { planned: number; considered: number; skips: unknown }>());
    // Once, mid-replay: how much of the last 4 s of zone ap's demand each daemon's view holds (its own counts and
    // the gossiped summaries of the others).
    let views: Array<{ keys: number; accesses: number }> | undefined;
    const poll = setInterval(() => {
      if (views === undefined && replayStart > 0 && Date.now() - replayStart > 10_000) {
        views = [];
        void Promise.all(
          urls.map(async (u) => {
            const r = await fetch(`${u}/admin/stats/top?limit=1000&window=4s&zone=ap`);
            const top = (await r.json()) as { records: Array<{ total: number }> };
            return { keys: top.records.length, accesses: top.records.reduce((n, x) => n + x.total, 0) };
          }),
        ).then((v) => {
          views = v;
        });
      }
      urls.forEach(async (u, i) => {
        try {
          const s = (await (await fetch(`${u}/admin/dsm`)).json()) as {
            lastCycle: {
              startedAt: number;
              policy: string;
              planned: number;
              considered: number;
              skipCounts: unknown;
            } | null;
          };
          const l = s.lastCycle;
          if (l && replayStart > 0 && l.policy !== 'off')
            cycles[i].set(l.startedAt - replayStart, {
              planned: l.planned,
              considered: l.considered,
              skips: l.skipCounts,
            });
        } catch {
          // a poll that fails is a cycle not seen
        }
      });
    }, 150);
    const live: ReplaySummary = await runReplay({
      trace: slice,
      urls,
      speedup: SPEEDUP,
      limit: ROWS,
      durationMs: 120_000,
      concurrency: 64,
      level: 'one',
      hooks: {
        // The preload's writes are demand the simulator never sees: let them leave the planner's window (the last
        // 4 closed buckets, gossiped) before the DSM starts.
        beforeReplay: async () => {
          await sleep((HORIZON_BUCKETS + 2) * INTERVAL_MS);
          for (const url of urls) await admin(url, 'PUT', '/admin/dsm/policy', { policy: 'reactive' });
          replayStart = Date.now();
        },
      },
    });
    // The live DSM's waves: each daemon's moves, grouped by wave (a DSM cycle that moved anything is one wave).
    const history = (
      await Promise.all(
        urls.map(async (u) => {
          const r = await fetch(`${u}/admin/migrations?limit=1000`);
          return (
            (await r.json()) as {
              history: Array<{ wave: string; origin: string; startedAt: number; endedAt?: number }>;
            }
          ).history;
        }),
      )
    ).map((h) => h.filter((m) => m.origin === 'dsm'));
    const waves = history.map((h) => {
      const by = new Map<string, { start: number; end: number }>();
      for (const m of h) {
        const x = by.get(m.wave) ?? { start: m.startedAt, end: m.endedAt ?? m.startedAt };
        x.start = Math.min(x.start, m.startedAt);
        x.end = Math.max(x.end, m.endedAt ?? m.startedAt);
        by.set(m.wave, x);
      }
      return [...by.values()].sort((a, b) => a.start - b.start).map((x) => [x.start - replayStart, x.end - x.start]);
    });
    clearInterval(poll);
    expect(live.sent).toBe(ROWS);
    expect(live.total.errors, JSON.stringify(live.total.errorCodes)).toBe(0);
    expect(live.placementUnknown).toBe(0);

    const w = await loadWorkload(slice, { zoneNames: live.cluster.zones });
    expect(Object.fromEntries(Object.entries(w.originZones))).toEqual(live.originZones);
    const bucketMs = INTERVAL_MS * SPEEDUP;
    // The simulator does not model the mover's protocol rounds across the WAN: it takes their duration from the
    // live run (the mean wave, from its first move's start to its last move's end), in trace time.
    const durations = waves.flat().map(([, ms]) => ms);
    const waveMs = durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length);
    const sim: SimResult = await simulate(w, {
      scenario: { ...SCENARIOS.B, name: 'live', label: 'live 3-zone', zones: 3, replicationFactor: 2 },
      members: statuses.map((s) => ({ id: s.peerId, zone: s.zone })),
      latency: rtt,
      policies: ['static', 'reactive'],
      bucketMs,
      horizonBuckets: HORIZON_BUCKETS,
      dsmCadence: 'daemon',
      moveDelayMs: waveMs * SPEEDUP,
      planner: {
        cooldownMs: HOUR * SPEEDUP,
        reclaimAfterMs: HOUR * SPEEDUP,
        quietReclaimAfterMs: 6 * HOUR * SPEEDUP,
        maxBytes: MAX_MBPS * 1_000_000 * (INTERVAL_MS / 1000),
      },
    });
    const [still, reactive] = sim.policies;
    const figures = JSON.stringify({
      live: {
        served: live.total.remoteShare,
        zones: live.zones.map((z) => [z.zone, z.requests, z.remoteShare]),
        moves: live.moves,
        lag: live.lag,
        meanMs: live.total.meanMs,
        waveMs,
        views,
        waves,
        cycles: cycles.map((m) => [...m]),
      },
      sim: {
        static: still.remoteShare,
        reactive: reactive.remoteShare,
        zones: reactive.zones,
        moves: reactive.recordsMoved,
        kinds: reactive.movesByKind,
        cycles: reactive.planCalls,
        meanMs: reactive.meanLatencyMs,
      },
    });
    if (process.env.SHOAL_AGREEMENT_OUT) writeFileSync(process.env.SHOAL_AGREEMENT_OUT, `${figures}\n`, { flag: 'a' });

    // 1. The same ring, origin mapping and rule: per zone, the same requests are remote before any move.
    for (const z of live.zones) {
      const s = still.zones.find((x) => x.zone === z.zone)!;
      expect(s.requests, z.zone).toBe(z.requests);
      expect(z.remoteShare.start, `${z.zone} ${figures}`).toBeCloseTo(s.remoteShare ?? 0, 12);
    }
    expect(live.total.remoteShare.start).toBeCloseTo(still.remoteShare, 12);

    // 2. With the DSM: both move records and cut the remote share, by about as much (see TOLERANCE).
    expect(reactive.recordsMoved, figures).toBeGreaterThan(0);
    expect(live.moves.dsmRecords, figures).toBeGreaterThan(0);
    expect(Math.abs(live.total.remoteShare.served! - reactive.remoteShare), figures).toBeLessThanOrEqual(
      TOLERANCE.remoteShare,
    );
    expect(Math.abs(live.moves.dsmRecords / reactive.recordsMoved - 1), figures).toBeLessThanOrEqual(TOLERANCE.moves);
  });
});
