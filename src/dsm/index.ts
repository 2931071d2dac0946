/**
 * Dynamic Sharding Manager (DSM): moves records and replicas toward the zones that will read and write
 * them next, while keeping redundancy.
 *
 * Two halves, as TiKV PD splits schedulers from the operator controller:
 * - the **planner** ({@link planCycle}, `planner.ts`): a pure function. Data in (demand per record and
 *   zone, the layout, members, in-flight moves, the policy), moves out, each with its reason and its
 *   expected gain, plus what was skipped and why. No I/O, no clock (the caller passes `now`), no
 *   randomness. The simulator (`src/sim`) calls the very same function.
 * - the **controller** ({@link Dsm}, `controller.ts`): every `intervalMs` it gathers the planner's input
 *   on this daemon, runs the planner, and hands the moves to the mover, which executes them as one
 *   **wave** through the override machinery (`src/overrides`): batched per partition, one signed
 *   partition epoch per partition per wave.
 *
 * **Who plans.** Each daemon plans only the records of the partitions it coordinates (the ring primary
 * of the partition in the signed cluster layout). It is already the only daemon whose signature that
 * partition's chain accepts, so no two planners ever move the same record, and no election or lock is
 * needed. It plans from the cluster-wide demand (gossiped access statistics merged with its own latest
 * counts, and its PAE's forecast of them), so the zone a record's demand comes from needs no replica of
 * the record to be seen.
 *
 * @packageDocumentation
 */
import type { Migration, MoveKind } from '../overrides/index.ts';

/** `off`: never moves; `reactive`: observed recent accesses; `proactive`: the PAE forecast; `hybrid`: both, weighted by the forecast's measured accuracy. */
export type DsmPolicy = 'off' | 'reactive' | 'proactive' | 'hybrid';
export const DSM_POLICIES: readonly DsmPolicy[] = ['off', 'reactive', 'proactive', 'hybrid'];

/**
 * `zone`: never a majority of a record's replicas in one zone (a zone outage keeps quorum);
 * `node`: a majority may sit in the zone of demand, never all of them (a zone outage loses quorum, not data).
 */
export type SurviveMode = 'zone' | 'node';

/**
 * Accesses of one record from one origin zone, by what each needs to be served locally: `one` is served
 * by the nearest replica (reads and writes at `consistency=one`), `majority` by the nearest majority of
 * the replicas (`quorum`, `linearizable`), `all` by every replica (`all`).
 */
export interface ZoneDemand {
  readonly zone: string;
  readonly one: number;
  readonly majority: number;
  readonly all: number;
}

/** A daemon as the planner sees it. */
export interface PlanMember {
  readonly id: string;
  readonly zone: string;
  /** Down or leaving members receive nothing (and their copies are not counted as reachable). */
  readonly up: boolean;
  /** Bytes this member accepts in total; undefined = unbounded. */
  readonly capacityBytes?: number;
  /** Bytes it holds now (an estimate). */
  readonly usedBytes: number;
  readonly storeKind?: string;
}

/** One record the planner may move. */
export interface PlanRecord {
  readonly key: string;
  readonly partition: number;
  readonly sizeBytes: number;
  /** Holders now (the effective placement), primary first. */
  readonly holders: readonly string[];
  /** The partition's ring replicas: the record's home placement. */
  readonly home: readonly string[];
  /** True when an override (not the ring) places it now. */
  readonly overridden: boolean;
  /** Placed by an operator (or marked pinned): the DSM never moves it. */
  readonly pinned?: boolean;
  /** PAE forecast of accesses over the horizon, per origin zone. */
  readonly forecast?: readonly ZoneDemand[];
  /** Observed accesses over the most recent horizon-long window, per origin zone. */
  readonly observed?: readonly ZoneDemand[];
  /**
   * Measured accuracy of this record's (or its zones') recent forecasts, in [0, 1] (1 = perfect;
   * undefined = not enough history). Hybrid weighs forecast against observation with it.
   */
  readonly forecastAccuracy?: number;
  /** The last completed move of this record: when it ended and the holders it left. */
  readonly lastMove?: { readonly at: number; readonly from: readonly string[] };
  /** Holders a move in flight is taking the record to (the planner treats it as done and skips it). */
  readonly inFlight?: readonly string[];
}

/** Knobs of the planner. Every field has a default ({@link DEFAULT_PLANNER_CONFIG}). */
export interface PlannerConfig {
  readonly policy: DsmPolicy;
  readonly survive: SurviveMode;
  /** R: never fewer copies than this (or than the up members, when fewer). */
  readonly replicationFactor: number;
  /** A move must save at least this many ms of client latency over the horizon, net of its cost. */
  readonly thresholdMs: number;
  /** Moves per cycle. */
  readonly maxMoves: number;
  /** Bytes moved per cycle (the bandwidth cap times the interval, when lower). */
  readonly maxBytes: number;
  /**
   * A record that moved is not moved back (onto a holder it left) sooner, unless the gain is `largeGainFactor` ×
   * its threshold (`max(thresholdMs, hysteresis × cost now)`: the bar its moves clear anyway). Default 1 h, the
   * span the moved-back measure looks at, with factor 3: in the stability simulation a real shift clears it within
   * a few cycles and a blip does not (15 min or factor 2.5 let 10-14 % of the bytes moved bounce back).
   */
  readonly cooldownMs: number;
  readonly largeGainFactor: number;
  /** Hysteresis: a move must beat keeping the placement by this fraction of the current cost too. */
  readonly hysteresis: number;
  /** Most overrides this planner keeps for its partitions; beyond it, the least useful go home first. */
  readonly maxOverrides: number;
  /** Cost of moving one MiB, in ms-equivalents of client latency. */
  readonly pricePerMbMs: number;
  /** Cross-zone latency when the matrix lacks a pair, ms. */
  readonly defaultLatencyMs: number;
  /** Hybrid uses the forecast only when its measured accuracy is at least this (default 0.5; below: reactive). */
  readonly minAccuracy?: number;
  /** Most copies an `add` may create (default `replicationFactor + 1`). */
  readonly maxReplicas?: number;
  /**
   * A new replica goes to a zone only if that zone supplies at least this share of the record's demand (default
   * 0.4): a one-bucket blip of a four-bucket window (25 %, more with noise) does not pull replicas, a steady
   * second zone does.
   */
  readonly minZoneShare?: number;
  /**
   * A reclaiming move (`home` of an override, or `drop` of an extra copy, that no longer pays) waits until the
   * record has not moved for this long (default 1 h): a record that moved on a blip does not bounce straight back.
   */
  readonly reclaimAfterMs?: number;
  /**
   * A record with no demand at all in the window gives no evidence that its override stopped paying (demand
   * comes in bursts): it is reclaimed only once it has not moved for this long (default 6 h; the overrides cap
   * bounds metadata meanwhile). Without it, every quiet window sent busy records home and the next burst moved
   * them out again (half of all moves in the trace simulations).
   */
  readonly quietReclaimAfterMs?: number;
}

export const DEFAULT_PLANNER_CONFIG: PlannerConfig = {
  policy: 'hybrid',
  survive: 'zone',
  replicationFactor: 3,
  thresholdMs: 200,
  maxMoves: 256,
  maxBytes: 256 * 1024 * 1024,
  cooldownMs: 60 * 60_000,
  largeGainFactor: 3,
  hysteresis: 0.2,
  maxOverrides: 100_000,
  pricePerMbMs: 50,
  defaultLatencyMs: 100,
};

/** Zone→zone client latency in ms: `m[from][to]` (or `m[to][from]`); 0 within a zone unless given. */
export type LatencyMatrix = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Everything one planning cycle reads. */
export interface PlannerInput {
  /** Milliseconds since the epoch (the caller's clock; the planner reads none). */
  readonly now: number;
  readonly config: PlannerConfig;
  readonly members: readonly PlanMember[];
  readonly records: readonly PlanRecord[];
  readonly latency: LatencyMatrix;
  /** Overrides held now by the partitions this planner coordinates (for `maxOverrides`). */
  readonly overridesHeld: number;
}

/** One judgement of the guard over a wave's records (see the controller's TSDoc). */
export interface GuardEvent {
  readonly wave: string;
  readonly at: number;
  readonly records: number;
  /** Latency cost (ms over the window) of the demand observed since the wave, on the new placement and the old. */
  readonly costNewMs: number;
  readonly costOldMs: number;
  /** True when the wave was rolled back (and the DSM paused). */
  readonly rolledBack: boolean;
  readonly rollbackId?: string;
}

export interface GuardStatus {
  readonly enabled: boolean;
  readonly margin: number;
  readonly windowMs: number;
  /** Waves waiting for their judgement. */
  readonly pending: number;
  /** The newest judgements, newest first. */
  readonly events: readonly GuardEvent[];
}

export type { Migration, MigrationOrigin, MigrationState, MoveKind } from '../overrides/index.ts';

/** A move as data: what changes, why, and what it is expected to gain. */
export interface PlannedMove {
  readonly kind: MoveKind;
  readonly key: string;
  readonly partition: number;
  /** Holders before, primary first. */
  readonly from: readonly string[];
  /** Holders after, primary first (for `home`: the ring replicas). */
  readonly to: readonly string[];
  /** Bytes the move copies (size × new holders). */
  readonly bytes: number;
  /** Expected client latency saved over the horizon, ms, net of the move's cost. */
  readonly gainMs: number;
  /** Human-readable, e.g. `"proactive: eu 120 majority accesses forecast, 80 ms → 1 ms"`. */
  readonly reason: string;
}

/** Why a record the planner looked at does not move this cycle. */
export type SkipReason =
  | 'pinned'
  | 'in-flight'
  | 'cooldown'
  | 'below-threshold'
  | 'hysteresis'
  | 'redundancy'
  | 'capacity'
  | 'budget-moves'
  | 'budget-bytes'
  | 'overrides-cap'
  | 'no-demand';

export interface PlanSkip {
  readonly key: string;
  readonly reason: SkipReason;
  /** The best move it would have made, when there was one. */
  readonly move?: PlannedMove;
}

/** What one cycle decided. */
export interface Plan {
  readonly moves: readonly PlannedMove[];
  readonly skipped: readonly PlanSkip[];
  /** Records looked at. */
  readonly considered: number;
  /** Skips per reason. */
  readonly skipCounts: Readonly<Partial<Record<SkipReason, number>>>;
}

/** A summary of the last cycle, for `GET /admin/dsm`. */
export interface CycleReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly policy: DsmPolicy;
  readonly considered: number;
  readonly planned: number;
  readonly skipCounts: Readonly<Partial<Record<SkipReason, number>>>;
  readonly wave?: string;
  /** Moves of the wave that ended done / failed. */
  readonly done: number;
  readonly failed: number;
  readonly error?: string;
}

/** `GET /admin/dsm`. */
export interface DsmStatus {
  readonly policy: DsmPolicy;
  readonly paused: boolean;
  readonly intervalMs: number;
  readonly survive: SurviveMode;
  readonly thresholdMs: number;
  readonly maxMoves: number;
  readonly maxMbps: number;
  readonly cooldownMs: number;
  readonly lastCycle: CycleReport | null;
  readonly nextCycleAt: number | null;
  /** Partitions this daemon coordinates (and so plans). */
  readonly partitionsPlanned: number;
  readonly overridesHeld: number;
  /** The guard that rolls back harmful waves, and what it did. */
  readonly guard: GuardStatus;
}

/** The running DSM of one daemon (the admin API and CLI drive it). */
export interface Dsm {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): DsmStatus;
  setPolicy(policy: DsmPolicy): void;
  pause(): void;
  resume(): void;
  /** Dry run: the moves a cycle would make now, with reasons and expected gains. Free: moves nothing. */
  plan(options?: { signal?: AbortSignal; limit?: number }): Promise<Plan>;
  /** Runs one cycle now (plan and execute); what the timer calls. */
  runCycle(options?: { signal?: AbortSignal }): Promise<CycleReport>;
  migrations(query?: { limit?: number }): { inFlight: Migration[]; history: Migration[] };
}

/** Told of every cycle and every migration state change (the daemon feeds Prometheus from it). */
export interface DsmObserver {
  onCycle(report: CycleReport): void;
  /** Called when a migration reaches an end state (`done`, `failed`, `undone`). */
  onMigration(migration: Migration): void;
  /** Overrides held by the partitions this daemon coordinates, after each cycle. */
  onOverrides(count: number): void;
  /** The guard judged a wave (and maybe rolled it back). */
  onGuard?(event: GuardEvent): void;
}

export { DEFAULT_MIN_ZONE_SHARE, DEFAULT_RECLAIM_AFTER_MS, SKIP_LIST_CAP } from './cycle.ts';
export { DEFAULT_MIN_ACCURACY, forecastWeight } from './demand.ts';
export { Locality, placementCostMs } from './locality.ts';
export { planCycle } from './planner.ts';
