/**
 * Access statistics (issue 7): every data request is recorded as (key, op, origin zone, app, bytes, time)
 * into time buckets, with memory bounded by a budget whatever the number of distinct keys.
 *
 * Structure (all sized from {@link StatsOptions.memoryBudgetBytes}, see `options.ts`):
 * - **Space-Saving** heavy hitters (`hotCapacity` slots, Stream-Summary layout in typed arrays; O(1) per
 *   access). "Exact for heavy hitters" means precisely: with N accesses recorded, every key whose true count
 *   exceeds N / hotCapacity holds a slot; a tracked key's `count` overestimates its true count by at most
 *   its `error` (≤ N / hotCapacity); a key tracked since its first access has `error` 0 and an exact count.
 * - **Count-min sketch** with conservative update for the tail: `estimate(key) >= true`, and
 *   `estimate(key) <= true + epsilon * N` with probability `1 - delta`. Width `nextPow2(ceil(e / epsilon))`,
 *   depth `ceil(ln(1 / delta))`; defaults epsilon 1e-4, delta 0.01 → 32768 × 5 counters (640 KiB).
 * - **Open bucket cells**: per (tracked key, zone, app) read/write counters of the current bucket. A key that
 *   entered Space-Saving by evicting another gets cells from its second access on (so one-off tail keys do
 *   not churn the table): series are exact for keys tracked since their first access, and for the others
 *   miss at most one access per admission.
 * - **Series tier**: for the hottest keys (decayed score), per (key, zone) rings of reads/writes at three
 *   resolutions, rolled up as each bucket closes: base buckets (default 1 minute, kept 6 h), hours (14 days),
 *   days (90 days) — so weekly patterns fit. A lane costs `(baseLen + hourLen + dayLen) * 8` bytes plus
 *   overhead; keeping minute buckets for 24 h (`retention.bucketMs`) is possible at 15 KiB per lane.
 * - **Demand classes**: each access also carries the class its consistency level needs (`one`, `majority`,
 *   `all`, see {@link DemandClass}); open-bucket cells count `one` and `all` (majority is the rest) and each
 *   lane keeps them for its last {@link CLASS_BUCKETS} base buckets (480 bytes more per lane), which is
 *   what gossip summaries and the cluster view's demand read. History loaded from disk and older peers'
 *   summaries carry no classes and count as `majority`, the class of the default consistency.
 *
 * Accesses timed before the open bucket (late or out of order) are counted in the open bucket. Zones and
 * apps beyond `maxZones` / `maxApps` are folded into `(other)`.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Store } from '../store/index.ts';
import type { LocalRow, RecentRow } from './queries.ts';
import { StatsImpl } from './stats.ts';

export {
  type ClusterDemand,
  type ClusterPaeSourceOptions,
  type ClusterRecord,
  ClusterView,
  type ClusterViewOptions,
  type LocalCounts,
  type ZoneClassCounts,
} from './cluster-view.ts';
export { decodeSummary, type EncodeSummaryOptions, encodeSummary, type SummaryMessage } from './codec.ts';
export { StatsConfigError, StatsPersistError, StatsSummaryError } from './errors.ts';
export { createStatsGossip, type StatsGossip, type StatsGossipComponents, type StatsGossipOptions } from './gossip.ts';
export { readPersistedMeta } from './persist.ts';
export type { LocalRow, RecentRow } from './queries.ts';
export { CLASS_BUCKETS } from './series.ts';

/**
 * What an access needs to be served locally, from its `?consistency=` level: `one` (the nearest replica),
 * `majority` (`quorum`, the default, and `linearizable`: the nearest majority), `all` (every replica).
 */
export type DemandClass = 'one' | 'majority' | 'all';

export type StatsLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface StatsComponents {
  logger: StatsLogger;
  /** Milliseconds since the epoch (default Date.now); the time of accesses recorded without `tsMs`. */
  clock?: () => number;
  /** Where `start()` loads history from and where it persists periodically and on `stop()`. */
  store?: Store;
}

export interface StatsOptions {
  /** Width of a base bucket in ms; must divide one hour (default 60_000). */
  bucketMs?: number;
  /** Memory budget for everything the stats hold (default 32 MiB). */
  memoryBudgetBytes?: number;
  /** Space-Saving slots (default: derived from the budget, about 45k for 32 MiB). */
  hotCapacity?: number;
  /** Series lanes, one per (key, zone) with history (default: derived from the budget). */
  seriesLanes?: number;
  /** Count-min additive error as a fraction of all accesses (default 1e-4). */
  epsilon?: number;
  /** Probability that the count-min bound fails (default 0.01). */
  delta?: number;
  /** How far back each resolution reaches (defaults: base 6 h, hour 14 days, day 90 days). */
  retention?: { bucketMs?: number; hourMs?: number; dayMs?: number };
  /** Distinct zones kept apart (default 32). */
  maxZones?: number;
  /** Distinct app tags kept apart (default 64). */
  maxApps?: number;
  /** Half-life of the score that decides which keys keep series (default 1 h). */
  halfLifeMs?: number;
  /** Period of persistence to the store after `start()` (default 60 s). */
  persistIntervalMs?: number;
}

export type Resolution = 'bucket' | 'hour' | 'day';

export interface TopQuery {
  /** Only accesses from this origin zone (default: all zones). */
  zone?: string;
  /** Window ending now (default 1 h); served from the finest resolution that covers it. */
  windowMs?: number;
  /** Default 10. */
  limit?: number;
}

export interface TopEntry {
  key: string;
  reads: number;
  writes: number;
  total: number;
  zone?: string;
}

/** Counts of consecutive buckets starting at `startMs`. The last bucket includes the open bucket. */
export interface SeriesBuckets {
  startMs: number;
  widthMs: number;
  reads: number[];
  writes: number[];
}

export interface AppShare {
  app: string;
  reads: number;
  writes: number;
  share: number;
}

export interface SeriesView {
  key: string;
  bucketMs: number;
  /** Holds a Space-Saving slot. */
  tracked: boolean;
  /** Space-Saving count (upper bound), when tracked. */
  count?: number;
  /** Maximum overestimation of `count`; 0 means exact. */
  error?: number;
  /** Count-min estimate (upper bound on all accesses recorded). */
  estimate: number;
  size: number;
  firstSeenMs: number | null;
  /** Per origin zone, per resolution. */
  zones: Record<string, Record<Resolution, SeriesBuckets>>;
  apps: AppShare[];
}

export interface StatsOverview {
  bucketMs: number;
  openBucketStartMs: number | null;
  totalAccesses: number;
  trackedKeys: number;
  hotCapacity: number;
  seriesKeys: number;
  seriesLanes: number;
  maxSeriesLanes: number;
  memoryBytes: number;
  memoryBudgetBytes: number;
  zones: Record<string, { reads: number; writes: number; bytesRead: number; bytesWritten: number }>;
  apps: Record<string, { reads: number; writes: number }>;
  sketch: { width: number; depth: number; epsilon: number; delta: number; errorBound: number };
  retention: { bucketMs: number; hourMs: number; dayMs: number };
  /** Accesses not kept in series because a table or the lane budget was full. */
  dropped: { cells: number; lanes: number; zonesFolded: number; appsFolded: number };
}

export interface SeriesBatchQuery {
  /** Default 'bucket'. */
  resolution?: Resolution;
  /** Buckets per row (default 24, at most the resolution's retention). */
  length?: number;
  /** Only these keys (default: every key with a series). */
  keys?: Iterable<string>;
  zone?: string;
  /** Rows end with the last bucket ending at or before this time (default: the start of the open bucket). */
  endMs?: number;
}

/**
 * The PAE's input (src/pae imports this type; stats never imports pae): `rows` (key, zone) series on one grid; bucket `i` covers `[startMs + i * bucketMs, + bucketMs)`;
 * `reads` / `writes` are row-major `[rows, buckets]`; rows of one key are adjacent and never split across
 * batches. `appShare` is the share of the key's accesses made by its most frequent app. The forecast
 * window starts at `startMs + buckets * bucketMs`.
 */
export interface SeriesBatch {
  bucketMs: number;
  startMs: number;
  buckets: number;
  rows: number;
  keys: string[];
  zones: string[];
  reads: Float32Array;
  writes: Float32Array;
  /** Record size in bytes per row (0 when unknown). */
  sizeBytes: Float64Array;
  /** Share of this row's key's accesses that come from this zone (optional; computed when absent). */
  zoneShare?: Float32Array;
  /** Share of the row's accesses from its dominant application (optional; 1 when absent). */
  appShare?: Float32Array;
  /** Buckets since the record last moved (optional; default: since its first access in the batch). */
  ageBuckets?: Float32Array;
}

/** The series source the PAE polls each cycle (structurally `PaeSource` of `src/pae`). */
export interface StatsSeriesSource {
  series(options: { signal?: AbortSignal; batchRows: number }): AsyncIterable<SeriesBatch>;
}

export interface Stats {
  readonly bucketMs: number;
  /**
   * Hot path: records one access (O(1), no allocation apart from newly tracked keys). `cls` is its demand
   * class (default `majority`, what the default consistency `quorum` needs).
   */
  record(key: string, op: 'r' | 'w', zone: string, app: string, bytes: number, tsMs?: number, cls?: DemandClass): void;
  /** Closes the open bucket if the clock (or `nowMs`) moved past it. */
  tick(nowMs?: number): void;
  /** Closes the open bucket now (before persisting or stopping), keeping its index open for later accesses. */
  flush(): void;
  top(query?: TopQuery): TopEntry[];
  series(key: string): SeriesView;
  summary(): StatsOverview;
  /** Count-min estimate of all accesses of `key` (see the module doc for the bound). */
  estimate(key: string): number;
  /** Space-Saving count and error of a tracked key (true count in [count - error, count]), else undefined. */
  count(key: string): { count: number; error: number } | undefined;
  /** Every kept (key, zone) series on one grid (closed buckets only by default). */
  seriesBatch(query?: SeriesBatchQuery): SeriesBatch;
  /** A source for the PAE: each cycle yields the kept series in batches of about `batchRows` rows. */
  paeSource(query?: SeriesBatchQuery): StatsSeriesSource;
  /** The last `n` closed base buckets `[from, from + n)` of the hottest `maxKeys` keys (what gossip carries). */
  recentBuckets(n: number, maxKeys: number): { from: number; rows: RecentRow[] };
  /**
   * Per (key, zone) counts of base buckets `[from, from + n)` (absolute indices, the open bucket included
   * when in range), for every key with a series or an open-bucket cell (or only `keys`); rows of one key
   * adjacent. What the cluster view merges as this daemon's latest counts.
   */
  bucketRows(from: number, n: number, keys?: Iterable<string>): LocalRow[];
  /** Absolute index of the open bucket after rolling to the clock (-1 before the first access). */
  openBucket(): number;
  memoryBytes(): number;
  /** Writes the rolled-up series under KEYSPACE.stats and removes series no longer kept. */
  persist(store: Store, options?: { signal?: AbortSignal }): Promise<void>;
  /** Loads persisted series (merging into what this instance holds). */
  load(store: Store, options?: { signal?: AbortSignal }): Promise<void>;
  /** Loads from `components.store`, then persists every `persistIntervalMs` and rolls buckets on time. */
  start(): Promise<void>;
  /** Stops timers, flushes and persists to `components.store`. */
  stop(): Promise<void>;
}

export function createStats(components: StatsComponents, options: StatsOptions = {}): Stats {
  return new StatsImpl(components, options);
}
