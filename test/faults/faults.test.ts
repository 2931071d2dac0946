/**
 * Seeded fault schedules on a 4-daemon cluster (R = 3) under a mixed load at every consistency level,
 * each seed on a fresh cluster: SIGKILL + restart, SIGSTOP longer than the failure detector's 10 s, link
 * partitions, a join or a leave during a partition, a slow and a full store. Afterwards every acknowledged write must be in the
 * converged state, every daemon and replica must agree, quorum reads must have seen earlier quorum writes,
 * and the linearizable keys' histories must be linearizable. A failure prints the seed, the schedule and
 * the history of the keys concerned; `npx vitest run test/faults -t 'seed <s>'` runs that seed again, and
 * `SHOAL_FAULT_SEEDS=7,8` adds other seeds (20 s of faults of every kind each, HLC skew only with
 * `SHOAL_FAULT_SKEW=1`).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, stopAllClusters } from '../support/cluster.ts';
import { createInjector } from './injector.ts';
import { describeFailure, outcomes, runRound } from './round.ts';
import { ALL_KINDS, type FaultKind, formatSchedule, makeSchedule } from './schedule.ts';

afterAll(stopAllClusters);

const ARGS = ['--fault-injection', 'on', '--anti-entropy-interval-ms', '1000'];
const N = 4;
/**
 * Each seed must show these kinds; together they cover every kind but `skew` (a skewed HLC reorders blind
 * quorum writes: see the README's reliability section; `SHOAL_FAULT_SKEW=1 SHOAL_FAULT_SEEDS=36` shows it). Random kill/partition
 * faults fill the rest.
 */
const CASES: Array<{ seed: number; require: FaultKind[] }> = [
  { seed: 1, require: ['pause', 'kill', 'slow-disk'] },
  { seed: 2, require: ['join', 'kill', 'full-disk'] },
  { seed: 3, require: ['leave', 'partition', 'slow-disk'] },
];
const EXTRA_KINDS = ALL_KINDS.filter((k) => process.env.SHOAL_FAULT_SKEW === '1' || k !== 'skew');
const extraSeeds = (process.env.SHOAL_FAULT_SEEDS ?? '')
  .split(',')
  .filter(Boolean)
  .map((s) => ({ seed: Number(s), require: [] as FaultKind[] }));

describe('seeded fault schedules', () => {
  for (const { seed, require } of [...CASES, ...extraSeeds]) {
    const faults = require.length
      ? makeSchedule(seed, { n: N, durationMs: 9_000, require, kinds: ['kill', 'partition'], gapMs: [1_000, 2_000] })
      : makeSchedule(seed, { n: N, durationMs: 20_000, gapMs: [1_000, 2_000], kinds: EXTRA_KINDS });
    it(`seed ${seed}: ${faults.length} faults, no acknowledged write lost, replicas agree, linearizable`, {
      timeout: 90_000,
    }, async () => {
      const c = await startCluster({ n: N, extra: Array(N).fill(ARGS) });
      try {
        const inj = createInjector(c, { joinArgs: ARGS, leaveTimeoutMs: 40_000 });
        const r = await runRound(c, inj, { seed, prefix: `s${seed}`, faults, convergeTimeoutMs: 30_000 });
        const summary = `${r.history.length} ops, ${r.report.ackedWrites} acknowledged writes, ${inj.applied} faults`;
        console.log(`seed ${seed}: ${summary}, lag ${r.lagMs} ms\n${formatSchedule(faults)}\n${outcomes(r.history)}`);
        if (r.report.violations.length > 0) {
          const file = join(tmpdir(), `shoal-faults-seed${seed}-${Date.now()}.json`);
          writeFileSync(
            file,
            JSON.stringify({ seed, faults, events: inj.events, report: r.report, history: r.history }),
          );
          console.log(`full history: ${file}`);
        }
        expect(r.report.violations.length, describeFailure(r)).toBe(0);
        expect(r.converged, describeFailure(r)).toBe(true);
        expect(r.crashed, describeFailure(r)).toEqual([]);
        // The run must have exercised something: writes acknowledged at every level, linearizable histories decided.
        expect(r.report.ackedWrites).toBeGreaterThan(100);
        expect(r.report.linearizableKeys).toBeGreaterThan(0);
        expect(r.report.undecided).toBe(0);
        expect(inj.applied).toBe(faults.length);
      } finally {
        await c.stopAll();
      }
    });
  }
});
