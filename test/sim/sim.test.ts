import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/pae/rng.ts';
import { loadWorkload, SCENARIOS, type Scenario, type SimResult, simulate } from '../../src/sim/index.ts';
import { Metrics, topAccessor } from '../../src/sim/metrics.ts';
import { DemandTracker } from '../../src/sim/series.ts';
import type { Workload } from '../../src/sim/workload.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-sim-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const zonesOf = (sc: Scenario) => sc.zoneNames ?? Array.from({ length: sc.zones }, (_, i) => `z${i}`);

/** 60 keys over 6 h; each key's demand moves between three origins every 2 h (a time-of-day shift). */
async function shiftingTrace(): Promise<string> {
  const rand = mulberry32(7);
  const lines = ['ts_ms,key,op,origin,size'];
  const origins = ['east', 'west', 'south'];
  for (let t = 0; t < 6 * 3_600_000; t += 4000) {
    const k = Math.floor(rand() ** 2 * 60);
    const phase = (Math.floor(t / 7_200_000) + k) % 3;
    const origin = rand() < 0.85 ? origins[phase] : origins[Math.floor(rand() * 3)];
    lines.push(`${t},key${k},${rand() < 0.1 ? 'w' : 'r'},${origin},${1000 + k}`);
  }
  const path = join(dir, 'shift.csv');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** Reads of records 'a', 'b' (100 B) from zones z0..z2: rows `[ts, record, zone]`. */
function handWorkload(rows: number[][]): Workload {
  return {
    name: 'hand',
    rows: rows.length,
    ts: Float64Array.from(rows, (r) => r[0]),
    rid: Int32Array.from(rows, (r) => r[1]),
    zone: Uint8Array.from(rows, (r) => r[2]),
    write: new Uint8Array(rows.length),
    baseKeys: ['a', 'b'],
    baseSize: Float64Array.from([100, 100]),
    keyScale: 1,
    records: 2,
    zoneNames: ['z0', 'z1', 'z2'],
    originZones: {},
    startMs: rows[0][0],
    endMs: rows[rows.length - 1][0],
  };
}

const strip = (r: SimResult) => r.policies.map(({ planMs: _p, ...rest }) => rest);

describe('simulator', () => {
  it('static moves nothing; the oracle is never worse than static; a fixed seed gives the same run', async () => {
    const path = await shiftingTrace();
    for (const sc of [SCENARIOS.A, SCENARIOS.B]) {
      const w = await loadWorkload(path, { zoneNames: zonesOf(sc) });
      const run = () => simulate(w, { scenario: sc, policies: ['static', 'reactive', 'ttl', 'oracle'], seed: 3 });
      const a = await run();
      const by = (p: string) => a.policies.find((x) => x.policy === p)!;
      expect(by('static').bytesMoved).toBe(0);
      expect(by('static').recordsMoved).toBe(0);
      expect(by('oracle').meanLatencyMs).toBeLessThanOrEqual(by('static').meanLatencyMs);
      expect(by('oracle').remoteShare).toBeLessThanOrEqual(by('static').remoteShare);
      expect(by('oracle').recordsMoved).toBeGreaterThan(0);
      const b = await run();
      expect(strip(b)).toEqual(strip(a));
    }
  });

  it('stops on a malformed trace with TRACE_FORMAT naming the line', async () => {
    const path = join(dir, 'bad.csv');
    await writeFile(path, 'ts_ms,key,op,origin,size\n1,a,r,x,10\n2,b,q,x,10\n');
    await expect(loadWorkload(path, { zoneNames: ['z0'] })).rejects.toMatchObject({
      code: 'TRACE_FORMAT',
      message: expect.stringContaining('line 3'),
    });
  });

  it('prices storage byte-hours and cross-zone bytes by the documented model', async () => {
    // 3 zones, one daemon each, R = 3: every record on every zone. Quorum reads pull one remote copy
    // (k = 2, one local), a write pushes two.
    const path = join(dir, 'cost.csv');
    await writeFile(path, 'ts_ms,key,op,origin,size\n0,a,r,x,1000\n1800000,a,w,x,1000\n3600000,b,r,y,2000\n');
    const sc = SCENARIOS.A;
    const w = await loadWorkload(path, { zoneNames: zonesOf(sc) });
    const r = await simulate(w, { scenario: sc, policies: ['static'], daemonsPerZone: 1 });
    const c = r.policies[0].costDetail;
    expect(c.replicaByteHours).toBeCloseTo((1000 + 2000) * 3 * 1, 6);
    expect(c.crossZoneBytes).toBe(1000 + 2 * 1000 + 2000);
    const gb = 2 ** 30;
    expect(r.policies[0].cost).toBeCloseTo((9000 / gb) * (0.023 / 730) + (5000 / gb) * 0.02, 15);
    expect(r.policies[0].remoteShare).toBe(1);
  });

  it('the first cycles, with fewer than H buckets behind them, see the demand of those buckets', async () => {
    // Two reads of record 0 from zone 1 in bucket 0; the cycle at the end of bucket 0 (e = 1, H = 4).
    const w = handWorkload([
      [10, 0, 1],
      [20, 0, 1],
    ]);
    const t = new DemandTracker(w, {
      gridStartMs: 0,
      bucketMs: 100,
      horizon: 4,
      lookback: 8,
      readClass: 'one',
      future: false,
    });
    for (let i = 0; i < w.rows; i++) t.add(i);
    const d = await t.cycle(1);
    expect(d.observed.get(0)).toEqual([{ zone: 'z1', one: 2, majority: 0, all: 0 }]);
  });

  it('scores goodMoveRatio and movedBackShare against the true next window', () => {
    // Record 0: zone 1 at t=10 and 20, zone 0 at 30, 40; record 1: zone 2 at 100.
    const w = handWorkload([
      [10, 0, 1],
      [20, 0, 1],
      [30, 0, 0],
      [40, 0, 0],
      [100, 1, 2],
    ]);
    const m = new Metrics(0, 0);
    m.prices = { storageUsdPerGbMonth: 0.023, transferUsdPerGb: 0.02, moveBackWindowMs: 50, horizonMs: 30 };
    m.move(0, 0, 100, [1], [2], [1]); // next window [0, 30): zone 1 twice → good
    m.move(0, 25, 100, [2], [1], [2]); // [25, 55): zone 0 → not good; re-adds zone 2 left at t=0 → moved back
    m.move(1, 50, 100, [0], [], [0]); // [50, 80): no access → not good
    m.move(0, 90, 100, [1], [], [1]); // zone 1 was left at 25, 65 ms ago > 50 → not moved back
    const r = m.result('reactive', w, 100, topAccessor(w));
    expect(r.recordsMoved).toBe(4);
    expect(r.goodMoveRatio).toBeCloseTo(1 / 4, 12);
    expect(r.bytesMoved).toBe(400);
    expect(r.movedBackShare).toBeCloseTo(100 / 400, 12);
  });
});
