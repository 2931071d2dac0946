import type { Logger } from 'pino';
import type { Migration } from '../overrides/index.ts';
import { WaveGuard } from './guard.ts';
import {
  type CycleReport,
  DEFAULT_PLANNER_CONFIG,
  type Dsm,
  type DsmObserver,
  type DsmPolicy,
  type DsmStatus,
  type LatencyMatrix,
  type Plan,
  type PlanMember,
  type PlannedMove,
  type PlannerConfig,
  type PlanRecord,
  planCycle,
  type SurviveMode,
  type ZoneDemand,
} from './index.ts';

/** Where one record lives, as the controller's daemon sees it. */
export interface RecordPlacement {
  readonly partition: number;
  readonly holders: readonly string[];
  readonly home: readonly string[];
  readonly overridden: boolean;
  /** Placed by an operator: never moved by the DSM. */
  readonly pinned: boolean;
}

/** The cluster as the planner needs it (the daemon implements it over ring, layout and membership). */
export interface DsmCluster {
  readonly self: string;
  members(): PlanMember[];
  /** True when this daemon coordinates the partition (the ring primary in the signed layout). */
  coordinates(partition: number): boolean;
  placementOf(key: string): RecordPlacement;
  /** Keys this daemon holds overrides for in partitions it coordinates (candidates to go home). */
  overriddenKeys(): Iterable<string>;
  latency(): LatencyMatrix;
  /** Record size in bytes, when this daemon knows it. */
  sizeOf(key: string): Promise<number | undefined>;
}

/** Cluster-wide demand (stats) and its forecast (PAE). */
export interface DsmDemand {
  /** Observed accesses per key and zone over the last `windowMs` (every key known when `keys` is omitted). */
  observed(windowMs: number, keys?: Iterable<string>): Map<string, ZoneDemand[]>;
  /** Forecast accesses per zone over the horizon (all classes together). */
  forecastOf(key: string): ReadonlyArray<{ zone: string; expected: number }> | undefined;
  accuracy(key: string): number | undefined;
  /** The forecast horizon, ms (undefined before the first PAE cycle). */
  horizonMs(): number | undefined;
}

/** The mover: runs moves as one wave through the override machinery (src/overrides). */
export interface DsmMover {
  run(
    moves: readonly PlannedMove[],
    options: { signal?: AbortSignal },
  ): Promise<{ done: number; failed: number; wave: string }>;
  /** Rolls one wave back (cluster-wide; see src/overrides rollback). */
  rollback(wave: string, options: { signal?: AbortSignal }): Promise<{ rollbackId: string; records: number }>;
  inFlight(): Map<string, readonly string[]>;
  migrations(limit?: number): { inFlight: Migration[]; history: Migration[] };
}

export interface DsmComponents {
  logger: Logger;
  cluster: DsmCluster;
  demand: DsmDemand;
  mover: DsmMover;
  observer?: DsmObserver;
  clock?: () => number;
  /**
   * Told of every pause and resume (an operator's, a rollback's, the guard's), so the daemon can keep it
   * across a restart: a rollback or the guard paused the DSM for a reason a restart does not remove.
   */
  onPausedChange?: (paused: boolean) => void;
}

export interface DsmOptions {
  policy?: DsmPolicy;
  /** Start paused (the pause kept from before a restart). Default false. */
  paused?: boolean;
  intervalMs?: number;
  survive?: SurviveMode;
  replicationFactor?: number;
  thresholdMs?: number;
  maxMoves?: number;
  /** Bandwidth cap of the mover, MB/s: a cycle moves at most `maxMbps × intervalMs` bytes. */
  maxMbps?: number;
  cooldownMs?: number;
  /** Planner knobs beyond the flags. */
  planner?: Partial<PlannerConfig>;
  /** Horizon assumed before the PAE's first cycle, ms. Default 4 minutes. */
  defaultHorizonMs?: number;
  /** A record whose move failed is not planned again sooner (doubling per failure, up to 32×). Default 30 000 ms. */
  retryBackoffMs?: number;
  /** The guard (see the class TSDoc). Default on, margin 0.2, window 300 000 ms. */
  guard?: { enabled?: boolean; margin?: number; windowMs?: number };
}

/**
 * The DSM's loop on one daemon (see the module TSDoc in index.ts for who plans what). Every
 * `intervalMs` after the previous cycle ended: gather the planner's input (the cluster-wide demand of the
 * records of the partitions this daemon coordinates, observed over the last horizon and forecast for
 * the next, the layout, the members, the moves in flight), run the pure planner, and hand its moves to
 * the mover as one wave. `plan()` is the same without the wave, so a dry run is free.
 *
 * **Forecast classes.** The PAE forecasts accesses per (record, zone), not per consistency level; the
 * controller splits each zone's forecast into `one`/`majority`/`all` by the mix observed from that zone
 * over the last horizon (all `majority`, the default level `quorum`, when none was observed).
 *
 * **Guard.** After a wave, the controller watches its records for `guard.windowMs`, then compares the
 * latency cost of the demand observed since (the planner's locality model) on the new holders with the
 * cost the old holders would have had for the same demand. A wave whose new placement is worse by more
 * than `guard.margin` (and by more than the threshold) was harmful — a forecast that pointed the wrong
 * way — so the guard pauses the DSM and rolls the wave back (logged, in `/admin/dsm` and metrics). The
 * counterfactual (same demand, both placements) keeps a demand shift after the wave from reading as harm.
 *
 * **Retries.** A move that failed (a destination down, full or slow) is planned again after a backoff
 * that doubles with each failure of that record (`retryBackoffMs`, up to 32×), so a dead daemon does not
 * draw the same moves every cycle.
 */
export class DsmController implements Dsm {
  readonly #c: DsmComponents;
  readonly #clock: () => number;
  #policy: DsmPolicy;
  #paused = false;
  readonly #intervalMs: number;
  readonly #survive: SurviveMode;
  readonly #thresholdMs: number;
  readonly #maxMoves: number;
  readonly #maxMbps: number;
  readonly #cooldownMs: number;
  readonly #o: DsmOptions;
  #timer: NodeJS.Timeout | undefined;
  #nextAt: number | null = null;
  #running: Promise<unknown> | undefined;
  #ac = new AbortController();
  #last: CycleReport | null = null;
  #partitions = 0;
  #overrides = 0;
  /** key → [failures, retry after (ms)]. */
  readonly #backoff = new Map<string, [number, number]>();
  /** key → when its last move ended and the holders it left. */
  readonly #lastMove = new Map<string, { at: number; from: readonly string[] }>();
  readonly #guard: WaveGuard;

  constructor(components: DsmComponents, options: DsmOptions = {}) {
    this.#c = components;
    this.#o = options;
    this.#clock = components.clock ?? Date.now;
    this.#policy = options.policy ?? 'hybrid';
    this.#paused = options.paused ?? false;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#survive = options.survive ?? 'zone';
    this.#thresholdMs = options.thresholdMs ?? 200;
    this.#maxMoves = options.maxMoves ?? 256;
    this.#maxMbps = options.maxMbps ?? 50;
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_PLANNER_CONFIG.cooldownMs;
    this.#guard = new WaveGuard(
      { ...components, pause: () => this.pause() },
      {
        ...options.guard,
        thresholdMs: this.#thresholdMs,
        defaultLatencyMs: options.planner?.defaultLatencyMs ?? DEFAULT_PLANNER_CONFIG.defaultLatencyMs,
      },
    );
  }

  async start(): Promise<void> {
    if (this.#timer !== undefined) return;
    this.#ac = new AbortController();
    this.#schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextAt = null;
    this.#ac.abort();
    await this.#running?.catch(() => {});
  }

  status(): DsmStatus {
    return {
      policy: this.#policy,
      paused: this.#paused,
      intervalMs: this.#intervalMs,
      survive: this.#survive,
      thresholdMs: this.#thresholdMs,
      maxMoves: this.#maxMoves,
      maxMbps: this.#maxMbps,
      cooldownMs: this.#cooldownMs,
      lastCycle: this.#last,
      nextCycleAt: this.#paused || this.#policy === 'off' ? null : this.#nextAt,
      partitionsPlanned: this.#partitions,
      overridesHeld: this.#overrides,
      guard: this.#guard.status(),
    };
  }

  setPolicy(policy: DsmPolicy): void {
    if (policy !== this.#policy) this.#c.logger.info({ from: this.#policy, to: policy }, 'dsm: policy changed');
    this.#policy = policy;
  }

  pause(): void {
    if (this.#paused) return;
    this.#c.logger.info('dsm: paused');
    this.#paused = true;
    this.#c.onPausedChange?.(true);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#c.logger.info('dsm: resumed');
    this.#paused = false;
    this.#c.onPausedChange?.(false);
  }

  async plan(options: { signal?: AbortSignal; limit?: number } = {}): Promise<Plan> {
    const plan = planCycle(await this.#input(options.signal));
    const limit = options.limit ?? 100;
    return { ...plan, moves: plan.moves.slice(0, limit), skipped: plan.skipped.slice(0, limit) };
  }

  migrations(query: { limit?: number } = {}) {
    return this.#c.mover.migrations(query.limit);
  }

  async runCycle(options: { signal?: AbortSignal } = {}): Promise<CycleReport> {
    const startedAt = this.#clock();
    const t0 = performance.now();
    const policy = this.#policy;
    let report: CycleReport;
    try {
      await this.#guard.judge(this.#clock(), options.signal);
      if (this.#paused || policy === 'off') {
        report = { startedAt, durationMs: 0, policy, considered: 0, planned: 0, skipCounts: {}, done: 0, failed: 0 };
      } else {
        const plan = planCycle(await this.#input(options.signal));
        let outcome = { done: 0, failed: 0, wave: undefined as string | undefined };
        if (plan.moves.length > 0) {
          const ran = await this.#c.mover.run(plan.moves, { signal: options.signal });
          outcome = ran;
          this.#afterWave(plan.moves, ran.wave);
        }
        report = {
          startedAt,
          durationMs: performance.now() - t0,
          policy,
          considered: plan.considered,
          planned: plan.moves.length,
          skipCounts: plan.skipCounts,
          wave: outcome.wave,
          done: outcome.done,
          failed: outcome.failed,
        };
        if (plan.moves.length > 0)
          this.#c.logger.info({ ...report, skipCounts: undefined }, 'dsm: cycle moved records');
      }
    } catch (err) {
      report = {
        startedAt,
        durationMs: performance.now() - t0,
        policy,
        considered: 0,
        planned: 0,
        skipCounts: {},
        done: 0,
        failed: 0,
        error: (err as Error).message,
      };
      this.#c.logger.warn({ err }, 'dsm: cycle failed');
    }
    this.#last = report;
    this.#c.observer?.onCycle(report);
    this.#c.observer?.onOverrides(this.#overrides);
    return report;
  }

  /** Records each move's end (cool-down input), its failures (backoff), and the wave for the guard. */
  #afterWave(moves: readonly PlannedMove[], wave: string): void {
    const now = this.#clock();
    const base = this.#o.retryBackoffMs ?? 30_000;
    const ended = new Map(this.#c.mover.migrations(10_000).history.map((m) => [m.key, m]));
    const guarded: Array<{ key: string; from: readonly string[]; to: readonly string[] }> = [];
    for (const mv of moves) {
      const m = ended.get(mv.key);
      if (m?.state === 'done') {
        guarded.push({ key: mv.key, from: mv.from, to: mv.to });
        this.#lastMove.set(mv.key, { at: m.endedAt ?? now, from: mv.from });
        this.#backoff.delete(mv.key);
      } else {
        const failures = (this.#backoff.get(mv.key)?.[0] ?? 0) + 1;
        this.#backoff.set(mv.key, [failures, now + base * 2 ** Math.min(failures - 1, 5)]);
      }
    }
    if (guarded.length > 0) this.#guard.watch({ wave, at: now, moves: guarded });
    if (this.#lastMove.size > 200_000) this.#forgetOld(now);
  }

  #forgetOld(now: number): void {
    for (const [k, v] of this.#lastMove) if (now - v.at > this.#cooldownMs) this.#lastMove.delete(k);
    for (const [k, v] of this.#backoff) if (v[1] <= now) this.#backoff.delete(k);
  }

  /** Everything the planner reads this cycle. */
  async #input(signal?: AbortSignal): Promise<Parameters<typeof planCycle>[0]> {
    const { cluster, demand } = this.#c;
    const now = this.#clock();
    const horizonMs = demand.horizonMs() ?? this.#o.defaultHorizonMs ?? 4 * 60_000;
    const observed = demand.observed(horizonMs);
    const inFlight = this.#c.mover.inFlight();
    const keys = new Set<string>();
    for (const key of observed.keys()) keys.add(key);
    for (const key of cluster.overriddenKeys()) keys.add(key);
    const records: PlanRecord[] = [];
    const partitions = new Set<number>();
    let overrides = 0;
    for (const key of keys) {
      signal?.throwIfAborted();
      const p = cluster.placementOf(key);
      if (!cluster.coordinates(p.partition)) continue;
      partitions.add(p.partition);
      if (p.overridden) overrides++;
      const retry = this.#backoff.get(key);
      if (retry !== undefined && retry[1] > now) continue;
      const seen = observed.get(key);
      records.push({
        key,
        partition: p.partition,
        sizeBytes: (await cluster.sizeOf(key)) ?? 1024,
        holders: p.holders,
        home: p.home,
        overridden: p.overridden,
        pinned: p.pinned,
        forecast: splitForecast(demand.forecastOf(key), seen),
        observed: seen,
        forecastAccuracy: demand.accuracy(key),
        lastMove: this.#lastMove.get(key),
        inFlight: inFlight.get(key),
      });
    }
    this.#partitions = partitions.size;
    this.#overrides = overrides;
    const budgetBytes = Math.max(1, Math.floor(this.#maxMbps * 1_000_000 * (this.#intervalMs / 1000)));
    const config: PlannerConfig = {
      ...DEFAULT_PLANNER_CONFIG,
      ...this.#o.planner,
      policy: this.#policy,
      survive: this.#survive,
      replicationFactor: this.#o.replicationFactor ?? 3,
      thresholdMs: this.#thresholdMs,
      maxMoves: this.#maxMoves,
      maxBytes: Math.min(this.#o.planner?.maxBytes ?? Number.POSITIVE_INFINITY, budgetBytes),
      cooldownMs: this.#cooldownMs,
    };
    return { now, config, members: cluster.members(), records, latency: cluster.latency(), overridesHeld: overrides };
  }

  #schedule(): void {
    if (this.#ac.signal.aborted) return;
    this.#nextAt = this.#clock() + this.#intervalMs;
    this.#timer = setTimeout(() => {
      this.#running = this.runCycle({ signal: this.#ac.signal }).finally(() => {
        this.#running = undefined;
        if (this.#timer !== undefined) this.#schedule();
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }
}

/** Splits each zone's forecast into classes by the mix observed from that zone (see the class TSDoc). */
export function splitForecast(
  forecast: ReadonlyArray<{ zone: string; expected: number }> | undefined,
  observed: readonly ZoneDemand[] | undefined,
): ZoneDemand[] | undefined {
  if (forecast === undefined) return undefined;
  return forecast.map(({ zone, expected }) => {
    const o = observed?.find((d) => d.zone === zone);
    const total = o === undefined ? 0 : o.one + o.majority + o.all;
    if (total <= 0) return { zone, one: 0, majority: expected, all: 0 };
    return {
      zone,
      one: (expected * o!.one) / total,
      majority: (expected * o!.majority) / total,
      all: (expected * o!.all) / total,
    };
  });
}
