import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { dsmRoutes } from '../../src/api/dsm-routes.ts';
import { createApi, createMetricsRegistry } from '../../src/api/index.ts';
import { migrationRoutes } from '../../src/api/migration-routes.ts';
import type { CycleReport, Dsm, DsmPolicy, DsmStatus, Migration, Plan, PlannedMove } from '../../src/dsm/index.ts';
import type { RecordEngine } from '../../src/replication/engine.ts';
import { testStatus } from './api-harness.ts';

const A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const C = '12D3KooWCccccccccccccccccccccccccccccccccccccccccccc';
const E = '12D3KooWEeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
export const PEERS = { A, B, C, E };

export const LAST_CYCLE: CycleReport = {
  startedAt: 1_700_000_000_000,
  durationMs: 12.5,
  policy: 'hybrid',
  considered: 40,
  planned: 2,
  skipCounts: { cooldown: 3, 'below-threshold': 35 },
  wave: 'w-7',
  done: 1,
  failed: 1,
  error: 'one move failed',
};

export const MOVE: PlannedMove = {
  kind: 'replace',
  key: 'user/42',
  partition: 17,
  from: [A, B, C],
  to: [E, B, C],
  bytes: 2048,
  gainMs: 950.5,
  reason: 'proactive: eu 120 majority accesses forecast, 80 ms → 1 ms',
};

export const PLAN: Plan = {
  moves: [MOVE, { ...MOVE, kind: 'home', key: 'cart/9', from: [E, B, C], to: [A, B, C], gainMs: 310, reason: 'home' }],
  skipped: [
    { key: 'user/43', reason: 'cooldown', move: { ...MOVE, key: 'user/43' } },
    { key: 'x', reason: 'pinned' },
  ],
  considered: 40,
  skipCounts: { cooldown: 1, pinned: 1 },
};

export const IN_FLIGHT: Migration = {
  id: 'm-2',
  wave: 'w-8',
  kind: 'add',
  key: 'user/44',
  partition: 3,
  from: [A, B, C],
  to: [A, B, C, E],
  state: 'copying',
  reason: 'reactive: eu 40 one accesses observed',
  bytes: 512,
  gainMs: 220,
  origin: 'dsm',
  startedAt: 1_700_000_100_000,
};

export const DONE: Migration = {
  id: 'm-1',
  wave: 'w-7',
  kind: 'replace',
  key: 'user/42',
  partition: 17,
  from: [A, B, C],
  to: [E, B, C],
  state: 'done',
  reason: MOVE.reason,
  bytes: 2048,
  gainMs: 950.5,
  origin: 'dsm',
  startedAt: 1_700_000_000_000,
  endedAt: 1_700_000_004_000,
  epoch: { scope: 'partition:17', number: 5, hash: 'ab12cd' },
};

export const FAILED: Migration = {
  ...DONE,
  id: 'm-0',
  key: 'user/41',
  state: 'failed',
  origin: 'manual',
  epoch: undefined,
  error: 'copy to 12D3KooWE… timed out',
};

/** A `Dsm` that records what it is asked and answers with the fixtures above. */
export class FakeDsm implements Dsm {
  calls: string[] = [];
  planOptions: Array<{ limit?: number }> = [];
  migrationQueries: Array<{ limit?: number }> = [];
  state: { policy: DsmPolicy; paused: boolean } = { policy: 'hybrid', paused: false };

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  status(): DsmStatus {
    return {
      policy: this.state.policy,
      paused: this.state.paused,
      intervalMs: 60_000,
      survive: 'zone',
      thresholdMs: 200,
      maxMoves: 256,
      maxMbps: 50,
      cooldownMs: 900_000,
      lastCycle: LAST_CYCLE,
      nextCycleAt: this.state.paused ? null : 1_700_000_060_000,
      partitionsPlanned: 1365,
      guard: { enabled: true, margin: 0.2, windowMs: 300_000, pending: 0, events: [] },
      overridesHeld: 12,
    };
  }
  setPolicy(policy: DsmPolicy): void {
    this.calls.push(`setPolicy ${policy}`);
    this.state.policy = policy;
  }
  pause(): void {
    this.calls.push('pause');
    this.state.paused = true;
  }
  resume(): void {
    this.calls.push('resume');
    this.state.paused = false;
  }
  async plan(options?: { signal?: AbortSignal; limit?: number }): Promise<Plan> {
    this.planOptions.push({ limit: options?.limit });
    return PLAN;
  }
  async runCycle(): Promise<CycleReport> {
    return LAST_CYCLE;
  }
  migrations(query?: { limit?: number }): { inFlight: Migration[]; history: Migration[] } {
    this.migrationQueries.push({ ...query });
    return { inFlight: [IN_FLIGHT], history: [DONE, FAILED] };
  }
}

/**
 * The daemon's real fastify app (error handling, validation options, admin authentication) with only the DSM's
 * admin routes behind it: the data routes get an engine that is never called.
 */
export async function dsmApp(
  dsm: () => Dsm | undefined,
  options: { adminToken?: string } = {},
): Promise<FastifyInstance> {
  return createApi(
    {
      logger: pino({ level: 'silent' }),
      engine: {} as RecordEngine,
      registry: createMetricsRegistry(),
      ready: () => true,
      status: testStatus,
    },
    { zone: 'z1', adminToken: options.adminToken, adminRoutes: [dsmRoutes(dsm), migrationRoutes(dsm)] },
  );
}
