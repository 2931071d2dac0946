/**
 * Prometheus metrics of the Dynamic Sharding Manager, fed by its {@link DsmObserver}:
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_dsm_moves_total` | counter | `kind`, `outcome` | migrations that ended (`done`, `failed`, `undone`), DSM, manual and rollback alike |
 * | `shoal_dsm_bytes_moved_total` | counter | — | bytes of the migrations that ended `done` |
 * | `shoal_dsm_cycle_seconds` | histogram | — | duration of each planning cycle (plan and wave) |
 * | `shoal_dsm_overrides_held` | gauge | — | overrides held by the partitions this daemon coordinates |
 * | `shoal_dsm_planner_skips_total` | counter | `reason` | records the planner looked at and left, per reason |
 * | `shoal_dsm_cycles_total` | counter | `policy` | cycles run, per policy in force |
 *
 * Every label value the contract knows is set to 0 up front, so a rate over a series that has not happened
 * yet reads 0, not "no data".
 *
 * @packageDocumentation
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type CycleReport, DSM_POLICIES, type DsmObserver, type Migration, type MigrationState } from '../dsm/index.ts';
import { MOVE_KINDS, SKIP_REASONS } from './dsm-routes.ts';

/** The end states of a migration: the `outcome` label. */
const OUTCOMES: readonly MigrationState[] = ['done', 'failed', 'undone'];

/** Registers the DSM's metrics in `registry` and returns the observer that keeps them. */
export function createDsmMetrics(registry: Registry): DsmObserver {
  const registers = [registry];
  const moves = new Counter({
    name: 'shoal_dsm_moves_total',
    help: 'Migrations that reached an end state, by move kind and outcome (done, failed, undone)',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const bytes = new Counter({
    name: 'shoal_dsm_bytes_moved_total',
    help: 'Bytes copied by migrations that ended done',
    registers,
  });
  const cycleSeconds = new Histogram({
    name: 'shoal_dsm_cycle_seconds',
    help: 'Duration of a DSM cycle (gather, plan, execute the wave)',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers,
  });
  const overrides = new Gauge({
    name: 'shoal_dsm_overrides_held',
    help: 'Overrides held by the partitions this daemon coordinates',
    registers,
  });
  const skips = new Counter({
    name: 'shoal_dsm_planner_skips_total',
    help: 'Records the planner considered and did not move, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const cycles = new Counter({
    name: 'shoal_dsm_cycles_total',
    help: 'DSM cycles run, by the policy in force',
    labelNames: ['policy'] as const,
    registers,
  });
  for (const kind of MOVE_KINDS) for (const outcome of OUTCOMES) moves.inc({ kind, outcome }, 0);
  for (const reason of SKIP_REASONS) skips.inc({ reason }, 0);
  for (const policy of DSM_POLICIES) cycles.inc({ policy }, 0);

  return {
    onCycle(report: CycleReport): void {
      cycles.inc({ policy: report.policy });
      cycleSeconds.observe(Math.max(0, report.durationMs) / 1000);
      for (const [reason, n] of Object.entries(report.skipCounts))
        if (n !== undefined && n > 0) skips.inc({ reason }, n);
    },
    onMigration(m: Migration): void {
      if (!OUTCOMES.includes(m.state)) return; // not an end state: counted when it gets there
      moves.inc({ kind: m.kind, outcome: m.state });
      if (m.state === 'done' && m.bytes > 0) bytes.inc(m.bytes);
    },
    onOverrides(count: number): void {
      overrides.set(count);
    },
  };
}
