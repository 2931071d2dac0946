/** The fault harness's pure parts: seeded schedules, and a checker that catches each kind of bad history. */
import { describe, expect, it } from 'vitest';
import { checkHistory, type FinalRead, minimalHistory, type Op } from './history.ts';
import { type Fault, formatSchedule, makeSchedule, prng } from './schedule.ts';

describe('seeded fault schedules', () => {
  it('are a function of the seed and options, and every target is a live slot when its fault runs', () => {
    const opts = { n: 5, durationMs: 300_000, require: ['join', 'leave', 'pause', 'skew', 'full-disk'] as const };
    for (let seed = 1; seed <= 200; seed++) {
      const a = makeSchedule(seed, { ...opts, require: [...opts.require] });
      expect(makeSchedule(seed, { ...opts, require: [...opts.require] })).toEqual(a);
      for (const k of opts.require)
        expect(a.some((f) => (f.kind === 'partition' ? (f.member ?? 'partition') : f.kind) === k)).toBe(true);
      let live = [0, 1, 2, 3, 4];
      let next = 5;
      let end = 0;
      for (const f of a) {
        expect(f.at).toBeGreaterThanOrEqual(end); // one fault at a time
        end = f.at + f.downMs;
        if (f.kind === 'pause') expect(f.downMs).toBeGreaterThan(10_000); // past the failure detector's down
        if (f.kind !== 'partition') {
          expect(live).toContain(f.target);
          continue;
        }
        const [minority, majority] = f.sides;
        expect([...minority, ...majority].sort()).toEqual([...live].sort());
        expect(minority.length).toBeGreaterThan(0);
        expect(minority.length).toBeLessThan(majority.length);
        if (f.member === 'join') {
          expect(f.target).toBe(next++);
          live = [...live, f.target as number];
        } else if (f.member === 'leave') {
          expect(live).toContain(f.target);
          live = live.filter((s) => s !== f.target);
        }
        expect(live.length).toBeGreaterThanOrEqual(3);
      }
    }
    expect(makeSchedule(1, { n: 5, durationMs: 60_000 })).not.toEqual(makeSchedule(2, { n: 5, durationMs: 60_000 }));
  });

  it('prints one line per fault', () => {
    const f: Fault[] = [
      { at: 1000, kind: 'kill', target: 2, downMs: 3000 },
      { at: 6000, kind: 'partition', sides: [[0], [1, 2]], downMs: 5000, member: 'join', target: 3 },
    ];
    expect(formatSchedule(f)).toBe(
      't=1.0s for 3.0s: SIGKILL daemon 2\nt=6.0s for 5.0s: partition {0}|{1,2}, join of daemon 3 during it',
    );
    const [a, b] = [prng(42), prng(42)];
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });
});

// Versions: HLC strings compare as text; these stand in for them.
const v = (n: number) => `00000000000${n}.0000.aa`;
let clock = 0;
const w = (
  key: string,
  value: string,
  version: number,
  outcome: Op['outcome'] = 'ok',
  level: Op['level'] = 'quorum',
): Op => {
  const invoke = ++clock;
  return {
    client: 0,
    daemon: 0,
    key,
    level,
    type: 'write',
    value,
    version: outcome === 'ok' ? v(version) : undefined,
    invoke,
    complete: outcome === 'ok' ? ++clock : undefined,
    outcome,
    status: outcome === 'fail' ? 503 : 200,
    code: outcome === 'fail' ? 'REPLICAS_UNAVAILABLE' : undefined,
  };
};
const r = (key: string, value: string | undefined, version: number | undefined, level: Op['level'] = 'quorum'): Op => {
  const invoke = ++clock;
  return {
    client: 1,
    daemon: 1,
    key,
    level,
    type: 'read',
    value,
    version: version === undefined ? undefined : v(version),
    invoke,
    complete: ++clock,
    outcome: 'ok',
  };
};
const final = (
  key: string,
  value: string | undefined,
  version: number | undefined,
  other?: [string, number],
): FinalRead => ({
  key,
  reads: [
    { daemon: 0, value, version: version === undefined ? undefined : v(version) },
    other
      ? { daemon: 1, value: other[0], version: v(other[1]) }
      : { daemon: 1, value, version: version === undefined ? undefined : v(version) },
  ],
});

describe('the history checker', () => {
  it('accepts a history whose converged state holds the newest acknowledged write everywhere', () => {
    const h = [
      w('k', 'a', 1),
      w('k', 'b', 2, 'unknown'),
      r('k', 'a', 1),
      w('k', 'c', 3, 'ok', 'one'),
      w('k', 'd', 4, 'fail'),
    ];
    const report = checkHistory(h, [final('k', 'c', 3)]);
    expect(report.violations).toEqual([]);
    expect(report.ackedWrites).toBe(2);
  });

  it('counts an acknowledged write that the converged state lost, at any level', () => {
    const report = checkHistory([w('k', 'a', 1), w('k', 'b', 2, 'ok', 'one')], [final('k', 'a', 1)]);
    expect(report.lostWrites).toBe(1);
    expect(report.violations.map((x) => x.kind)).toEqual(['lost-write']);
    expect(checkHistory([w('k', 'a', 1)], [final('k', undefined, undefined)]).lostWrites).toBe(1);
  });

  it('flags a refused write that took effect, read or converged', () => {
    const h = [w('k', 'a', 1), w('k', 'x', 0, 'fail')];
    expect(checkHistory(h, [final('k', 'x', 9)]).violations.map((x) => x.kind)).toEqual(['refused-write-applied']);
    const read = checkHistory([...h, r('k', 'x', 9, 'one')], [final('k', 'a', 1)]);
    expect(read.violations.map((x) => x.kind)).toEqual(['refused-write-applied']);
  });

  it('flags daemons that disagree after convergence, and a value nobody wrote', () => {
    const report = checkHistory([w('k', 'a', 1), w('k', 'b', 2, 'unknown')], [final('k', 'a', 1, ['b', 2])]);
    expect(report.violations.map((x) => x.kind)).toEqual(['disagreement']);
    expect(checkHistory([w('k', 'a', 1)], [final('k', 'z', 5)]).violations.map((x) => x.kind)).toEqual([
      'unknown-value',
    ]);
  });

  it('flags a quorum read older than a quorum write acknowledged before it', () => {
    const report = checkHistory([w('k', 'a', 1), w('k', 'b', 2), r('k', 'a', 1)], [final('k', 'b', 2)]);
    expect(report.violations.map((x) => x.kind)).toEqual(['stale-read']);
    // At `one` a stale read is allowed.
    expect(
      checkHistory([w('k', 'a', 1), w('k', 'b', 2), r('k', 'a', 1, 'one')], [final('k', 'b', 2)]).violations,
    ).toEqual([]);
  });

  it('flags a linearizable key whose history has no linearization, and prints its history', () => {
    const L = 'linearizable' as const;
    const h = [w('lin', 'a', 1, 'ok', L), w('lin', 'b', 2, 'ok', L), r('lin', 'a', 1, L)];
    const report = checkHistory(h, [final('lin', 'b', 2)]);
    expect(report.linearizabilityViolations).toBe(1);
    expect(report.violations.map((x) => x.kind)).toEqual(['not-linearizable']);
    const text = minimalHistory(h, report);
    expect(text).toMatch(/^key lin:\n/);
    expect(text.split('\n')).toHaveLength(4);
    // The same operations overlapping in time are linearizable (the read may come before b).
    const overlapping = h.map((op) => ({ ...op, invoke: 0, complete: 100 }));
    expect(checkHistory(overlapping, [final('lin', 'b', 2)]).violations).toEqual([]);
  });
});

describe('the history checker on write order', () => {
  it('flags a quorum write acknowledged with a version below one acknowledged before it was invoked', () => {
    const h = [w('k', 'a', 5), w('k', 'b', 3)];
    const report = checkHistory(h, [final('k', 'a', 5)]);
    expect(report.violations.map((x) => x.kind)).toEqual(['reordered-write']);
    // Overlapping writes may be ordered either way; at `one` no order is promised.
    expect(checkHistory([w('k', 'a', 5), { ...w('k', 'b', 3), invoke: 0 }], [final('k', 'a', 5)]).violations).toEqual(
      [],
    );
    expect(checkHistory([w('k', 'a', 5), w('k', 'b', 3, 'ok', 'one')], [final('k', 'a', 5)]).violations).toEqual([]);
  });
});
