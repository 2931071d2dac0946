import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  type DsmCluster,
  DsmController,
  type DsmDemand,
  type DsmMover,
  splitForecast,
} from '../../src/dsm/controller.ts';
import type { PlannedMove, ZoneDemand } from '../../src/dsm/index.ts';
import type { Migration } from '../../src/overrides/index.ts';

const ZONES = ['a', 'b', 'c', 'd'];
const ids = ZONES.map((z) => `p-${z}`);
const latency = Object.fromEntries(ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : 50]))]));

/** Four daemons in four zones; every record is held in a, b, c and read from d. This daemon coordinates all. */
function fixture(opts: { keys?: number; fail?: boolean; demand?: DsmDemand; policy?: 'reactive' | 'proactive' } = {}) {
  const keys = Array.from({ length: opts.keys ?? 3 }, (_, i) => `k${i}`);
  const runs: PlannedMove[][] = [];
  const rollbacks: string[] = [];
  const history: Migration[] = [];
  let now = 1_000_000;
  const cluster = fixtureCluster();
  const demand = opts.demand ?? fixtureDemand(keys.length);
  const mover: DsmMover = {
    async run(moves) {
      runs.push([...moves]);
      for (const m of moves) {
        history.push({
          id: `w/${m.key}`,
          wave: 'w',
          kind: m.kind,
          key: m.key,
          partition: m.partition,
          from: m.from,
          to: m.to,
          state: opts.fail ? 'failed' : 'done',
          reason: m.reason,
          bytes: m.bytes,
          origin: 'dsm',
          startedAt: now,
          endedAt: now,
        });
      }
      return { wave: 'w', done: opts.fail ? 0 : moves.length, failed: opts.fail ? moves.length : 0 };
    },
    async rollback(wave) {
      rollbacks.push(wave);
      return { rollbackId: `r-${wave}`, records: 3 };
    },
    inFlight: () => new Map(),
    migrations: () => ({ inFlight: [], history }),
  };
  const dsm = new DsmController(
    { logger: pino({ level: 'silent' }), cluster, demand, mover, clock: () => now },
    {
      policy: opts.policy ?? 'reactive',
      intervalMs: 60_000,
      survive: 'zone',
      replicationFactor: 3,
      retryBackoffMs: 30_000,
      guard: { windowMs: 60_000, margin: 0.2 },
    },
  );
  return {
    dsm,
    runs,
    rollbacks,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('DSM controller', () => {
  it('moves a replica into the zone that reads, as one wave per cycle', async () => {
    const f = fixture();
    const report = await f.dsm.runCycle();
    expect(report).toMatchObject({ planned: 3, done: 3, failed: 0, wave: 'w', policy: 'reactive' });
    expect(f.runs).toHaveLength(1);
    for (const m of f.runs[0]) expect(m.to).toContain('p-d');
    expect(f.dsm.status().lastCycle).toEqual(report);
  });

  it('a dry run plans the same moves and moves nothing', async () => {
    const f = fixture();
    const plan = await f.dsm.plan();
    expect(plan.moves.map((m) => m.key).sort()).toEqual(['k0', 'k1', 'k2']);
    expect(f.runs).toHaveLength(0);
    expect((await f.dsm.plan({ limit: 1 })).moves).toHaveLength(1);
  });

  it('paused or off: a cycle plans nothing', async () => {
    const f = fixture();
    f.dsm.pause();
    expect((await f.dsm.runCycle()).planned).toBe(0);
    expect(f.dsm.status()).toMatchObject({ paused: true, nextCycleAt: null });
    f.dsm.resume();
    f.dsm.setPolicy('off');
    expect((await f.dsm.runCycle()).planned).toBe(0);
    expect(f.runs).toHaveLength(0);
    f.dsm.setPolicy('reactive');
    expect((await f.dsm.runCycle()).planned).toBe(3);
  });

  it('a failed move is planned again only after its backoff, which doubles', async () => {
    const f = fixture({ fail: true });
    expect((await f.dsm.runCycle()).failed).toBe(3);
    f.advance(10_000);
    expect((await f.dsm.runCycle()).planned).toBe(0);
    f.advance(25_000); // 35 s after the failure: past the first backoff (30 s)
    expect((await f.dsm.runCycle()).planned).toBe(3);
    f.advance(35_000); // the second failure waits 60 s
    expect((await f.dsm.runCycle()).planned).toBe(0);
    f.advance(30_000);
    expect((await f.dsm.runCycle()).planned).toBe(3);
  });

  it('the guard rolls back a wave whose forecast pointed the wrong way, and pauses the DSM', async () => {
    // The forecast says zone d will read; the reads really come from a, b and c, which hold the records
    // (d reads a little, at `one`, which gives the forecast its class mix).
    const seen = [
      ...['a', 'b', 'c'].map((zone) => ({ zone, one: 100, majority: 0, all: 0 })),
      { zone: 'd', one: 1, majority: 0, all: 0 },
    ];
    const wrongWay: DsmDemand = {
      observed: () => new Map(['k0', 'k1', 'k2'].map((k) => [k, seen])),
      forecastOf: () => [{ zone: 'd', expected: 1000 }],
      accuracy: () => 0.9,
      horizonMs: () => 60_000,
    };
    const f = fixture({ demand: wrongWay, policy: 'proactive' });
    expect((await f.dsm.runCycle()).done).toBe(3);
    expect(f.dsm.status().guard.pending).toBe(1);
    f.advance(30_000);
    await f.dsm.runCycle(); // within the window: not judged yet
    expect(f.rollbacks).toEqual([]);
    f.advance(31_000);
    await f.dsm.runCycle();
    expect(f.rollbacks).toEqual(['w']);
    const s = f.dsm.status();
    expect(s.paused).toBe(true);
    expect(s.guard.events[0]).toMatchObject({ wave: 'w', rolledBack: true, rollbackId: 'r-w', records: 3 });
    expect(s.guard.events[0].costNewMs).toBeGreaterThan(s.guard.events[0].costOldMs);
  });

  it('the guard keeps a wave that serves the demand better', async () => {
    const f = fixture();
    expect((await f.dsm.runCycle()).done).toBe(3);
    f.advance(61_000);
    await f.dsm.runCycle();
    expect(f.rollbacks).toEqual([]);
    expect(f.dsm.status().guard.events[0]).toMatchObject({ wave: 'w', rolledBack: false });
    expect(f.dsm.status().paused).toBe(false);
  });

  it('caps a cycle at the bandwidth budget (maxMbps × interval)', async () => {
    const small = new DsmController(
      {
        logger: pino({ level: 'silent' }),
        cluster: fixtureCluster(),
        demand: fixtureDemand(10),
        mover: {
          run: async () => ({ wave: 'w', done: 0, failed: 0 }),
          rollback: async () => ({ rollbackId: 'r', records: 0 }),
          inFlight: () => new Map(),
          migrations: () => ({ inFlight: [], history: [] }),
        },
      },
      // 3 kB per cycle: 1 kB records, one new copy each → three moves.
      { policy: 'reactive', intervalMs: 1000, maxMbps: 0.003, replicationFactor: 3 },
    );
    const plan = await small.plan();
    expect(plan.moves).toHaveLength(3);
    expect(plan.skipCounts['budget-bytes']).toBe(7);
  });
});

function fixtureCluster(): DsmCluster {
  return {
    self: ids[0],
    members: () => ZONES.map((zone, i) => ({ id: ids[i], zone, up: true, usedBytes: 0 })),
    coordinates: () => true,
    placementOf: (key) => ({
      partition: Number(key.slice(1)),
      holders: ids.slice(0, 3),
      home: ids.slice(0, 3),
      overridden: false,
      pinned: false,
    }),
    overriddenKeys: () => [],
    latency: () => latency,
    sizeOf: async () => 1000,
  };
}

function fixtureDemand(n: number): DsmDemand {
  const d: ZoneDemand[] = [{ zone: 'd', one: 100, majority: 0, all: 0 }];
  return {
    observed: () => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, d])),
    forecastOf: () => undefined,
    accuracy: () => undefined,
    horizonMs: () => 60_000,
  };
}

describe('splitForecast', () => {
  it('splits each zone by its observed class mix, all majority when none was observed', () => {
    const f = splitForecast(
      [
        { zone: 'a', expected: 10 },
        { zone: 'b', expected: 4 },
      ],
      [{ zone: 'a', one: 3, majority: 1, all: 1 }],
    );
    expect(f).toEqual([
      { zone: 'a', one: 6, majority: 2, all: 2 },
      { zone: 'b', one: 0, majority: 4, all: 0 },
    ]);
    expect(splitForecast(undefined, [])).toBeUndefined();
  });
});
