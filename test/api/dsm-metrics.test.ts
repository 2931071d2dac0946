import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDsmMetrics } from '../../src/api/dsm-metrics.ts';
import { DONE, FAILED, IN_FLIGHT, LAST_CYCLE } from '../support/dsm-fake.ts';

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const row = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return row?.value ?? Number.NaN;
}

describe('createDsmMetrics', () => {
  it('counts migrations by kind and outcome when they end, and the bytes of those done', async () => {
    const registry = new Registry();
    const observer = createDsmMetrics(registry);
    observer.onMigration(IN_FLIGHT); // copying: not an end state
    observer.onMigration(DONE);
    observer.onMigration(DONE);
    observer.onMigration(FAILED);
    observer.onMigration({ ...DONE, kind: 'home', state: 'undone' });
    expect(await value(registry, 'shoal_dsm_moves_total', { kind: 'replace', outcome: 'done' })).toBe(2);
    expect(await value(registry, 'shoal_dsm_moves_total', { kind: 'replace', outcome: 'failed' })).toBe(1);
    expect(await value(registry, 'shoal_dsm_moves_total', { kind: 'home', outcome: 'undone' })).toBe(1);
    expect(await value(registry, 'shoal_dsm_moves_total', { kind: 'add', outcome: 'done' })).toBe(0);
    expect(await value(registry, 'shoal_dsm_bytes_moved_total')).toBe(2 * DONE.bytes);
  });

  it('counts cycles per policy, their skips per reason, and observes their duration', async () => {
    const registry = new Registry();
    const observer = createDsmMetrics(registry);
    observer.onCycle(LAST_CYCLE);
    observer.onCycle({ ...LAST_CYCLE, policy: 'reactive', durationMs: 2500, skipCounts: { cooldown: 2 } });
    expect(await value(registry, 'shoal_dsm_cycles_total', { policy: 'hybrid' })).toBe(1);
    expect(await value(registry, 'shoal_dsm_cycles_total', { policy: 'reactive' })).toBe(1);
    expect(await value(registry, 'shoal_dsm_cycles_total', { policy: 'off' })).toBe(0);
    expect(await value(registry, 'shoal_dsm_planner_skips_total', { reason: 'cooldown' })).toBe(5);
    expect(await value(registry, 'shoal_dsm_planner_skips_total', { reason: 'below-threshold' })).toBe(35);
    expect(await value(registry, 'shoal_dsm_planner_skips_total', { reason: 'pinned' })).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('shoal_dsm_cycle_seconds_count 2');
    expect(text).toMatch(/shoal_dsm_cycle_seconds_sum 2\.5125/);
    expect(text).toContain('shoal_dsm_cycle_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('shoal_dsm_cycle_seconds_bucket{le="5"} 2');
  });

  it('keeps the overrides gauge at the last count', async () => {
    const registry = new Registry();
    const observer = createDsmMetrics(registry);
    observer.onOverrides(12);
    observer.onOverrides(7);
    expect(await value(registry, 'shoal_dsm_overrides_held')).toBe(7);
  });

  it('exposes every series from the start, in the Prometheus text format', async () => {
    const registry = new Registry();
    createDsmMetrics(registry);
    const text = await registry.metrics();
    for (const name of [
      'shoal_dsm_moves_total',
      'shoal_dsm_bytes_moved_total',
      'shoal_dsm_cycle_seconds',
      'shoal_dsm_overrides_held',
      'shoal_dsm_planner_skips_total',
      'shoal_dsm_cycles_total',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('shoal_dsm_moves_total{kind="add",outcome="failed"} 0');
    expect(text).toContain('shoal_dsm_planner_skips_total{reason="budget-bytes"} 0');
    expect(text).toContain('shoal_dsm_cycles_total{policy="proactive"} 0');
  });
});
