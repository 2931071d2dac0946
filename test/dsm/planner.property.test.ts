import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PLANNER_CONFIG,
  type LatencyMatrix,
  type PlanMember,
  type PlannerInput,
  type PlanRecord,
  planCycle,
  type SurviveMode,
  type ZoneDemand,
} from '../../src/dsm/index.ts';
import { MiB, NOW } from './helpers.ts';

const ZONES = ['a', 'b', 'c', 'd', 'e'];

const memberArb = (i: number) =>
  fc.record({
    zone: fc.constantFrom(...ZONES),
    up: fc.boolean().map((b) => b || i % 3 !== 0),
    capacity: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    used: fc.integer({ min: 0, max: 30 }),
  });

const demandArb: fc.Arbitrary<ZoneDemand[]> = fc.array(
  fc.record({
    zone: fc.constantFrom(...ZONES, 'elsewhere'),
    one: fc.integer({ min: 0, max: 60 }),
    majority: fc.integer({ min: 0, max: 60 }),
    all: fc.integer({ min: 0, max: 10 }),
  }),
  { maxLength: 4 },
);

const inputArb: fc.Arbitrary<PlannerInput> = fc
  .integer({ min: 3, max: 10 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => memberArb(i))))
  .chain((ms) => {
    const members: PlanMember[] = ms.map((m, i) => ({
      id: `m${i}`,
      zone: m.zone,
      up: m.up,
      usedBytes: m.used * MiB,
      ...(m.capacity === undefined ? {} : { capacityBytes: m.capacity * MiB }),
    }));
    const ids = members.map((m) => m.id);
    const holdersArb = fc.uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 4 });
    const recordArb = fc.record({
      holders: holdersArb,
      home: holdersArb,
      overridden: fc.boolean(),
      size: fc.integer({ min: 1, max: 3 }),
      observed: fc.option(demandArb, { nil: undefined }),
      forecast: fc.option(demandArb, { nil: undefined }),
      accuracy: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      pinned: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      inFlight: fc.option(holdersArb, { nil: undefined, freq: 8 }),
      lastMoveAgo: fc.option(fc.integer({ min: 0, max: 30 * 60_000 }), { nil: undefined }),
      lastFrom: holdersArb,
    });
    return fc.record({
      members: fc.constant(members),
      records: fc.array(recordArb, { maxLength: 12 }),
      survive: fc.constantFrom<SurviveMode>('zone', 'node'),
      policy: fc.constantFrom('reactive', 'proactive', 'hybrid' as const),
      R: fc.integer({ min: 1, max: 3 }),
      maxMoves: fc.integer({ min: 0, max: 6 }),
      maxBytes: fc.integer({ min: 0, max: 8 }),
      maxOverrides: fc.integer({ min: 0, max: 8 }),
      overridesHeld: fc.integer({ min: 0, max: 10 }),
      thresholdMs: fc.integer({ min: 0, max: 400 }),
      latency: fc.constantFrom<LatencyMatrix>({}, { a: { b: 10, c: 40 }, b: { d: 150 }, d: { e: 5 } }),
    });
  })
  .map((g) => ({
    now: NOW,
    config: {
      ...DEFAULT_PLANNER_CONFIG,
      policy: g.policy,
      survive: g.survive,
      replicationFactor: g.R,
      maxMoves: g.maxMoves,
      maxBytes: g.maxBytes * MiB,
      maxOverrides: g.maxOverrides,
      thresholdMs: g.thresholdMs,
    },
    members: g.members,
    latency: g.latency,
    overridesHeld: g.overridesHeld,
    records: g.records.map(
      (r, i): PlanRecord => ({
        key: `k${i}`,
        partition: i,
        sizeBytes: r.size * MiB,
        holders: r.holders,
        home: r.overridden ? r.home : r.holders,
        overridden: r.overridden,
        pinned: r.pinned,
        ...(r.observed ? { observed: r.observed } : {}),
        ...(r.forecast ? { forecast: r.forecast } : {}),
        ...(r.accuracy === undefined ? {} : { forecastAccuracy: r.accuracy }),
        ...(r.inFlight ? { inFlight: r.inFlight } : {}),
        ...(r.lastMoveAgo === undefined ? {} : { lastMove: { at: NOW - r.lastMoveAgo, from: r.lastFrom } }),
      }),
    ),
  }));

/** The survival rule, written again from its definition. */
function survives(zones: string[], mode: SurviveMode, upZones: number): boolean {
  const n = zones.length;
  if (n <= 1) return true;
  const most = Math.max(...zones.map((z) => zones.filter((x) => x === z).length));
  return mode === 'zone' ? most < Math.floor(n / 2) + 1 : upZones < 2 || most < n;
}

describe('planCycle properties', () => {
  it('never breaks redundancy, survival, capacity or budgets; from = holders; one move per record', () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planCycle(input);
        for (const m of plan.moves) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
        const byId = new Map(input.members.map((m) => [m.id, m]));
        const up = input.members.filter((m) => m.up);
        const upZones = new Set(up.map((m) => m.zone)).size;
        const minCopies = Math.min(input.config.replicationFactor, up.length);
        const arriving = new Map<string, number>();
        for (const r of input.records) {
          for (const id of r.inFlight ?? []) {
            if (!r.holders.includes(id)) arriving.set(id, (arriving.get(id) ?? 0) + r.sizeBytes);
          }
        }
        const keys = new Set<string>();
        let bytes = 0;
        for (const m of plan.moves) {
          const r = input.records.find((x) => x.key === m.key)!;
          expect(keys.has(m.key)).toBe(false);
          keys.add(m.key);
          expect(m.from).toEqual(r.holders);
          expect(r.pinned).not.toBe(true);
          expect(r.inFlight).toBeUndefined();
          expect(new Set(m.to).size).toBe(m.to.length);
          expect(m.to.length).toBeGreaterThanOrEqual(minCopies);
          for (const id of m.to) expect(byId.get(id)?.up).toBe(true);
          const zones = m.to.map((id) => byId.get(id)!.zone);
          expect(survives(zones, input.config.survive, upZones)).toBe(true);
          const fresh = m.to.filter((id) => !r.holders.includes(id));
          expect(m.bytes).toBe(fresh.length * r.sizeBytes);
          for (const id of fresh) arriving.set(id, (arriving.get(id) ?? 0) + r.sizeBytes);
          bytes += m.bytes;
        }
        for (const [id, b] of arriving) {
          const m = byId.get(id)!;
          const planned = plan.moves.some((x) => x.to.includes(id) && !x.from.includes(id));
          if (planned && m.capacityBytes !== undefined) expect(m.usedBytes + b).toBeLessThanOrEqual(m.capacityBytes);
        }
        expect(plan.moves.length).toBeLessThanOrEqual(input.config.maxMoves);
        expect(bytes).toBeLessThanOrEqual(input.config.maxBytes);
        const created = plan.moves.filter((m) => {
          const r = input.records.find((x) => x.key === m.key)!;
          return !r.overridden && !(m.to.length === r.home.length && m.to.every((id) => r.home.includes(id)));
        }).length;
        if (created > 0) expect(input.overridesHeld + created).toBeLessThanOrEqual(input.config.maxOverrides);
        expect(plan.considered).toBe(input.records.length);
        const counted = Object.values(plan.skipCounts).reduce((s, n) => s + (n ?? 0), 0);
        expect(counted + plan.moves.length).toBe(input.records.length);
      }),
      // A fixed seed: 1the check below (the generator exercises every kind of move) must not depend on luck.
      { numRuns: 400, seed: 1 },
    );
    for (const k of ['add', 'drop', 'replace', 'home']) expect(kinds.get(k) ?? 0).toBeGreaterThan(0);
  });

  it('same input, same plan', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(planCycle(input)).toEqual(planCycle(structuredClone(input)));
      }),
      { numRuns: 100 },
    );
  });
});
