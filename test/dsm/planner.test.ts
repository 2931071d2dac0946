import { describe, expect, it } from 'vitest';
import { type PlanMember, type PlannedMove, placementCostMs, planCycle } from '../../src/dsm/index.ts';
import { input, MiB, maj, members, NOW, one, rec } from './helpers.ts';

const zoneOf = (id: string) => id.replace(/\d+$/, '');
const only = (moves: readonly PlannedMove[]) => {
  expect(moves).toHaveLength(1);
  return moves[0];
};

describe('cost model', () => {
  it('one = nearest, majority = k-th nearest, all = farthest holder', () => {
    const lat = { a: { b: 10, c: 50 }, b: { c: 30 } };
    // From a: holders at a (0), b (10), c (50); k = 2.
    expect(placementCostMs(['a', 'b', 'c'], [{ zone: 'a', one: 1, majority: 0, all: 0 }], lat, 100)).toBe(0);
    expect(placementCostMs(['a', 'b', 'c'], [{ zone: 'a', one: 0, majority: 1, all: 0 }], lat, 100)).toBe(10);
    expect(placementCostMs(['a', 'b', 'c'], [{ zone: 'a', one: 0, majority: 0, all: 1 }], lat, 100)).toBe(50);
    expect(placementCostMs(['b'], [{ zone: 'x', one: 2, majority: 0, all: 0 }], lat, 100)).toBe(200);
  });
});

describe('policies', () => {
  const r = rec('k', ['a1', 'b1', 'c1'], { observed: [one('d', 50)], forecast: [one('e', 50)] });

  it('off plans nothing', () => {
    expect(planCycle(input([r], { policy: 'off' }))).toEqual({ moves: [], skipped: [], considered: 0, skipCounts: {} });
  });

  it('reactive follows observed only', () => {
    const m = only(planCycle(input([r], { policy: 'reactive' })).moves);
    expect(m.to).toContain('d1');
    expect(m.to).not.toContain('e1');
    expect(m.to[0]).toBe('d1');
    const noObs = planCycle(
      input([rec('k', ['a1', 'b1', 'c1'], { forecast: [one('e', 50)] })], { policy: 'reactive' }),
    );
    expect(noObs.moves).toEqual([]);
    expect(noObs.skipCounts['no-demand']).toBe(1);
  });

  it('proactive follows the forecast before any observed access', () => {
    const fresh = rec('k', ['a1', 'b1', 'c1'], { forecast: [one('d', 50)] });
    const m = only(planCycle(input([fresh], { policy: 'proactive' })).moves);
    expect(m.to).toContain('d1');
    expect(m.reason).toContain('forecast');
    expect(only(planCycle(input([r], { policy: 'proactive' })).moves).to).toContain('e1');
  });

  it('hybrid weighs by accuracy and falls back to reactive without it', () => {
    const trusted = only(planCycle(input([{ ...r, forecastAccuracy: 0.9 }], { policy: 'hybrid' })).moves);
    expect(trusted.to).toContain('e1');
    expect(trusted.to).not.toContain('d1');
    for (const forecastAccuracy of [undefined, 0.3]) {
      const m = only(planCycle(input([{ ...r, forecastAccuracy }], { policy: 'hybrid' })).moves);
      expect(m.to).toContain('d1');
      expect(m.to).not.toContain('e1');
    }
    // w = 0.6: 60 % of the demand is the forecast's (zone e), 40 % the observation's (zone d): e first, then d.
    const mixed = { ...r, forecastAccuracy: 0.6 };
    const first = only(planCycle(input([mixed], { policy: 'hybrid' })).moves);
    expect(first.to).toContain('e1');
    expect(first.reason).toContain('weighted 0.60');
    const second = only(planCycle(input([{ ...mixed, holders: first.to }], { policy: 'hybrid' })).moves);
    expect(second.to).toEqual(expect.arrayContaining(['d1', 'e1']));
    // At w = 0.9 zone d's 10 % is below minZoneShare: no second move.
    const trustedNext = { ...r, forecastAccuracy: 0.9, holders: trusted.to };
    expect(planCycle(input([trustedNext], { policy: 'hybrid' })).moves).toEqual([]);
  });

  it('ignores a zone below minZoneShare of the demand', () => {
    const noisy = rec('k', ['a1', 'b1', 'c1'], { observed: [one('a', 80), one('d', 20)] });
    expect(planCycle(input([noisy], { policy: 'reactive' })).moves).toEqual([]);
    expect(planCycle(input([noisy], { policy: 'reactive', minZoneShare: 0.1 })).moves).toHaveLength(1);
  });
});

describe('candidates', () => {
  it('survive node: two replicas to make a majority local (a single swap gains nothing)', () => {
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [maj('d', 50)] });
    const m = only(planCycle(input([r], { survive: 'node' }, { members: members(['a', 'b', 'c', 'd'], 2) })).moves);
    expect(m.to.filter((id) => zoneOf(id) === 'd')).toHaveLength(2);
    expect(m.bytes).toBe(2 * MiB);
    expect(new Set(m.to.map(zoneOf)).size).toBe(2);
  });

  it('survive zone: never a majority in one zone', () => {
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [maj('d', 50, 50)] });
    const m = only(planCycle(input([r], { survive: 'zone' }, { members: members(['a', 'b', 'c', 'd'], 2) })).moves);
    expect(m.to.filter((id) => zoneOf(id) === 'd')).toHaveLength(1);
  });

  it('survive zone with too few zones moves nothing', () => {
    const r = rec('k', ['a1', 'a2', 'b1'], { observed: [one('b', 50), maj('b', 50)] });
    const plan = planCycle(input([r], { survive: 'zone' }, { members: members(['a', 'b'], 3) }));
    expect(plan.moves).toEqual([]);
    // A majority local to b needs two replicas there: the survival rule's lower bound already says no allowed
    // placement beats the current one.
    expect(plan.skipCounts['below-threshold']).toBe(1);
    // survive node allows it.
    const node = only(planCycle(input([r], { survive: 'node' }, { members: members(['a', 'b'], 3) })).moves);
    expect(node.to.filter((id) => zoneOf(id) === 'b')).toHaveLength(2);
  });

  it('add: one more replica for a new one-heavy zone, up to maxReplicas', () => {
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [one('a', 40), one('b', 40), one('c', 40), one('d', 100)] });
    const m = only(planCycle(input([r])).moves);
    expect(m.kind).toBe('add');
    expect(m.to).toHaveLength(4);
    expect(m.to).toEqual(expect.arrayContaining(['a1', 'b1', 'c1', 'd1']));
    const capped = only(planCycle(input([r], { maxReplicas: 3 })).moves);
    expect(capped.kind).toBe('replace');
    expect(capped.to).toHaveLength(3);
  });

  it('drop: a copy whose zone faded goes; one still read stays', () => {
    const r = rec('k', ['a1', 'b1', 'c1', 'd1'], { overridden: false, home: ['a1', 'b1', 'c1', 'd1'] });
    const faded = only(planCycle(input([{ ...r, observed: [one('a', 40), one('b', 40), one('c', 40)] }])).moves);
    expect(faded.kind).toBe('drop');
    expect(faded.to).toEqual(expect.arrayContaining(['a1', 'b1', 'c1']));
    expect(faded.to).toHaveLength(3);
    expect(faded.bytes).toBe(0);
    const read = { ...r, observed: [one('a', 40), one('b', 40), one('c', 40), one('d', 40)] };
    expect(planCycle(input([read])).moves).toEqual([]);
  });

  it('home: an override that no longer pays returns to the ring placement', () => {
    const r = rec('k', ['d1', 'a1', 'b1'], { home: ['a1', 'b1', 'c1'], overridden: true });
    const idle = only(planCycle(input([r])).moves);
    expect(idle.kind).toBe('home');
    expect(idle.to).toEqual(['a1', 'b1', 'c1']);
    expect(idle.reason).toContain('no longer pays');
    expect(planCycle(input([{ ...r, observed: [one('d', 50)] }])).moves).toEqual([]);
  });

  it('home after a quiet window waits longer than home on evidence (quiet windows are bursts, not fading)', () => {
    const H = 3_600_000;
    const r = rec('k', ['d1', 'a1', 'b1'], { home: ['a1', 'b1', 'c1'], overridden: true });
    const moved = (ago: number) => ({ lastMove: { at: NOW - ago, from: ['a1', 'b1', 'c1'] } });
    // No demand at all: 2 h after its move it stays; after 7 h it goes home.
    expect(planCycle(input([{ ...r, ...moved(2 * H) }])).moves).toEqual([]);
    expect(only(planCycle(input([{ ...r, ...moved(7 * H) }])).moves).kind).toBe('home');
    // Demand that home serves as well (from a and b): home after the ordinary 1 h.
    const served = { ...r, ...moved(2 * H), observed: [one('a', 40), one('b', 40)] };
    expect(only(planCycle(input([served])).moves).kind).toBe('home');
    expect(planCycle(input([{ ...r, ...moved(2 * H) }], { quietReclaimAfterMs: H })).moves).toHaveLength(1);
  });
});

describe('constraints', () => {
  it('never moves to a down member, and replaces a down holder', () => {
    const ms: PlanMember[] = members(['a', 'b', 'c', 'd']).map((m) => (m.id === 'd1' ? { ...m, up: false } : m));
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [one('d', 50)] });
    expect(planCycle(input([r], {}, { members: ms })).moves).toEqual([]);
    const down = members(['a', 'b', 'c', 'd']).map((m) => (m.id === 'b1' ? { ...m, up: false } : m));
    const m = only(planCycle(input([r], {}, { members: down })).moves);
    expect(m.to).not.toContain('b1');
    expect(m.to).toHaveLength(3);
  });

  it('pinned records never move', () => {
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [one('d', 50)], pinned: true });
    const plan = planCycle(input([r]));
    expect(plan.moves).toEqual([]);
    expect(plan.skipCounts.pinned).toBe(1);
    expect(planCycle(input([{ ...r, pinned: false }])).moves).toHaveLength(1);
  });

  it('in-flight: skipped, and its bytes count at the destination', () => {
    const ms = members(['a', 'b', 'c', 'd'], 1, { capacityBytes: 1.5 * MiB });
    const moving = rec('m', ['a1', 'b1', 'c1'], { inFlight: ['d1', 'a1', 'b1'], observed: [one('d', 50)] });
    const wants = rec('w', ['a1', 'b1', 'c1'], { observed: [one('d', 50)] });
    const plan = planCycle(input([moving, wants], {}, { members: ms }));
    expect(plan.moves).toEqual([]);
    expect(plan.skipCounts['in-flight']).toBe(1);
    expect(plan.skipCounts.capacity).toBe(1);
    expect(plan.skipped[0]).toMatchObject({ key: 'w', reason: 'capacity' });
    expect(planCycle(input([wants], {}, { members: ms })).moves).toHaveLength(1);
  });

  it('capacity: picks the least-filled member of the zone, and none that is full', () => {
    const ms = [
      ...members(['a', 'b', 'c']),
      { id: 'd1', zone: 'd', up: true, capacityBytes: 100 * MiB, usedBytes: 80 * MiB },
      { id: 'd2', zone: 'd', up: true, capacityBytes: 100 * MiB, usedBytes: 20 * MiB },
      { id: 'd3', zone: 'd', up: true, capacityBytes: 100 * MiB, usedBytes: 99.5 * MiB },
    ];
    const r = (k: string) => rec(k, ['a1', 'b1', 'c1'], { observed: [one('d', 50)] });
    expect(only(planCycle(input([r('k')], {}, { members: ms })).moves).to).toContain('d2');
    const full = ms.map((m) => (m.id === 'd3' ? m : { ...m, usedBytes: 99.5 * MiB }));
    expect(planCycle(input([r('k')], {}, { members: full })).skipCounts.capacity).toBe(1);
  });

  it('an over-full member sheds records, least latency loss first, only as many as needed', () => {
    const ms = members(['a', 'b', 'c', 'd']).map((m) =>
      m.id === 'a1' ? { ...m, capacityBytes: 10 * MiB, usedBytes: 10.5 * MiB } : m,
    );
    const cold = rec('cold', ['a1', 'b1', 'c1'], { observed: [one('b', 5)] });
    const warm = rec('warm', ['a1', 'b1', 'c1'], { observed: [one('a', 50)] });
    const plan = planCycle(input([warm, cold], {}, { members: ms }));
    const m = only(plan.moves);
    expect(m.key).toBe('cold');
    expect(m.to).not.toContain('a1');
    expect(m.reason).toContain('over capacity');
    const lossy = planCycle(input([warm], {}, { members: ms }));
    const shed = only(lossy.moves);
    expect(shed.gainMs).toBeLessThan(0);
    expect(shed.reason).toContain('latency loss');
  });

  it('budgets: at most maxMoves, best gain first; bytes within maxBytes', () => {
    const rs = [10, 50, 30].map((n, i) => rec(`k${i}`, ['a1', 'b1', 'c1'], { observed: [one('d', n)] }));
    const plan = planCycle(input(rs, { maxMoves: 1 }));
    expect(only(plan.moves).key).toBe('k1');
    expect(plan.skipCounts['budget-moves']).toBe(2);
    expect(plan.skipped.map((s) => s.reason)).toEqual(['budget-moves', 'budget-moves']);
    expect(plan.skipped[0].move?.key).toBe('k2');
    const bytes = planCycle(input(rs, { maxBytes: 1.5 * MiB }));
    expect(only(bytes.moves).key).toBe('k1');
    expect(bytes.skipCounts['budget-bytes']).toBe(2);
  });

  it('threshold and hysteresis', () => {
    const small = rec('k', ['a1', 'b1', 'c1'], { observed: [one('d', 2)] });
    expect(planCycle(input([small])).skipCounts['below-threshold']).toBe(1);
    expect(planCycle(input([small], { thresholdMs: 100 })).moves).toHaveLength(1);
    // Majority from d cannot get local (survive zone); the small `one` gain is under 20 % of the cost.
    const mostlyFixed = rec('k', ['a1', 'b1', 'c1'], { observed: [maj('d', 1000, 5)] });
    const plan = planCycle(input([mostlyFixed]));
    expect(plan.moves).toEqual([]);
    expect(plan.skipCounts.hysteresis).toBe(1);
    expect(planCycle(input([mostlyFixed], { hysteresis: 0 })).moves).toHaveLength(1);
  });

  it('cool-down: no return to a holder just left unless the gain is large', () => {
    const r = rec('k', ['a1', 'b1', 'd1'], {
      home: ['a1', 'b1', 'c1'],
      overridden: true,
      observed: [one('c', 6)],
      lastMove: { at: NOW - 60_000, from: ['a1', 'b1', 'c1'] },
    });
    const plan = planCycle(input([r]));
    expect(plan.moves).toEqual([]);
    expect(plan.skipCounts.cooldown).toBe(1);
    expect(plan.skipped[0]).toMatchObject({ key: 'k', reason: 'cooldown' });
    expect(plan.skipped[0].move?.to).toContain('c1');
    expect(
      planCycle(input([{ ...r, lastMove: { at: NOW - 61 * 60_000, from: r.lastMove!.from } }])).moves,
    ).toHaveLength(1);
    expect(planCycle(input([{ ...r, observed: [one('c', 20)] }])).moves).toHaveLength(1);
  });

  it('overrides cap: no new override at the cap; over it, the least useful go home first', () => {
    const r = rec('k', ['a1', 'b1', 'c1'], { observed: [one('d', 50)] });
    const capped = planCycle(input([r], { maxOverrides: 5 }, { overridesHeld: 5 }));
    expect(capped.moves).toEqual([]);
    expect(capped.skipCounts['overrides-cap']).toBe(1);
    expect(planCycle(input([r], { maxOverrides: 5 }, { overridesHeld: 4 })).moves).toHaveLength(1);
    const ov = (k: string, n: number) =>
      rec(k, ['d1', 'a1', 'b1'], { home: ['a1', 'b1', 'c1'], overridden: true, observed: [one('d', n)] });
    const over = planCycle(input([ov('useful', 50), ov('less', 10)], { maxOverrides: 5 }, { overridesHeld: 6 }));
    const m = only(over.moves);
    expect(m).toMatchObject({ key: 'less', kind: 'home' });
    expect(m.reason).toContain('least useful');
  });

  it('the skip list is capped; counts are not', () => {
    const rs = Array.from({ length: 1500 }, (_, i) =>
      rec(`k${String(i).padStart(4, '0')}`, ['a1', 'b1', 'c1'], { observed: [one('d', 50)] }),
    );
    const plan = planCycle(input(rs, { maxMoves: 0 }));
    expect(plan.skipped).toHaveLength(1000);
    expect(plan.skipCounts['budget-moves']).toBe(1500);
    expect(plan.considered).toBe(1500);
  });

  it('same input, same plan', () => {
    const rs = Array.from({ length: 50 }, (_, i) =>
      rec(`k${i}`, ['a1', 'b1', 'c1'], { observed: [one('d', 10 + (i % 7)), one('e', i % 5)] }),
    );
    expect(planCycle(input(rs, { maxMoves: 10 }))).toEqual(planCycle(input(rs, { maxMoves: 10 })));
  });
});
