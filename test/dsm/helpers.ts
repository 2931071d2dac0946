/** Builders of planner inputs for the DSM tests. */
import {
  DEFAULT_PLANNER_CONFIG,
  type PlanMember,
  type PlannerConfig,
  type PlannerInput,
  type PlanRecord,
  type ZoneDemand,
} from '../../src/dsm/index.ts';

export const MiB = 1_048_576;
export const NOW = Date.UTC(2025, 0, 6, 12);

/** `n` up members per zone, named `<zone><i>` (a1, a2, b1, ...). */
export function members(zones: readonly string[], n = 1, extra: Partial<PlanMember> = {}): PlanMember[] {
  return zones.flatMap((zone) =>
    Array.from({ length: n }, (_, i) => ({ id: `${zone}${i + 1}`, zone, up: true, usedBytes: 0, ...extra })),
  );
}

export function one(zone: string, n: number): ZoneDemand {
  return { zone, one: n, majority: 0, all: 0 };
}

export function maj(zone: string, n: number, ones = 0): ZoneDemand {
  return { zone, one: ones, majority: n, all: 0 };
}

export function rec(key: string, holders: string[], more: Partial<PlanRecord> = {}): PlanRecord {
  return { key, partition: 0, sizeBytes: MiB, holders, home: holders, overridden: false, ...more };
}

export function input(
  records: PlanRecord[],
  config: Partial<PlannerConfig> = {},
  more: Partial<PlannerInput> = {},
): PlannerInput {
  return {
    now: NOW,
    config: { ...DEFAULT_PLANNER_CONFIG, ...config },
    members: members(['a', 'b', 'c', 'd', 'e']),
    records,
    latency: {},
    overridesHeld: 0,
    ...more,
  };
}
