/**
 * The locality simulator: a discrete-event replay of an access trace against simulated daemons, driving the
 * REAL ring ({@link createRing}, {@link resolvePlacement}), the REAL PAE forecasters (baselines, or the ONNX GRU
 * through `loadOnnxForecaster`, batched, scored by the PAE's own `ForecastAccuracy`) and the REAL DSM planner
 * ({@link planCycle}); nothing of them is copied. `bench/locality.ts` (`npm run bench:locality`) runs it.
 *
 * **World.** `zones` zones, `daemonsPerZone` daemons each, a zone→zone latency matrix (`cluster.ts`: generic
 * zones sit evenly around a circle, RTT = 5 + 150 · arc/π ms + a seeded jitter of 0–20 ms, 1 ms within a zone;
 * the named NASA regions of scenario C use approximate public inter-region RTTs). Every daemon has
 * `bandwidthBytesPerS` of inbound transfer bandwidth; a move's copies reach each new holder one after another
 * (a FIFO per destination), and the record is served by its OLD holders until the last copy lands
 * (`bytes / bandwidth` after the destination is free, plus `moveDelayMs`), then by the new ones. `members` and
 * `latency` replace the generated daemons and matrix (e.g. a live cluster's peer ids, for the live-vs-simulated
 * test); `dsmCadence: 'daemon'` plans per coordinator, as the daemons do.
 *
 * **Trace → workload** (`workload.ts`). Rows come from `loadTraceTable` (the shared reader; a malformed row
 * fails with `TRACE_FORMAT` naming its line). Origin → zone: origins sorted by request count (descending, ties
 * by name); the first `zones` get one zone each (`z0`, `z1`, ...), every further origin goes to zone
 * `murmur3(origin) mod zones`. Key scaling (`keyScale` s > 1): key k becomes the s records `k#0 .. k#(s-1)`,
 * and each request goes to `k#(murmur3(row index, seed) mod s)` (demand split evenly, timing kept).
 * Unknown sizes (0) count as {@link DEFAULT_RECORD_BYTES}.
 *
 * **Time grid.** Bucket width = the PAE's rule (`chooseBucketMs`: span / 96, rounded to a nice width), horizon
 * H = 4 buckets, the planner runs every bucket (`now` = bucket boundary) with `observed` = the last H buckets
 * and `forecast` = the PAE's forecast of the next H buckets; requests between cycles see the placement as it is.
 *
 * **Accounting per request** (`policy.ts`): a read at `one` costs the latency to the nearest holder, a
 * `majority` access (quorum reads, every write) the k-th nearest, k = ⌊n/2⌋ + 1 (the planner's own locality
 * model, `Locality`). It is local when it needs no other zone (a holder, resp. k holders, in its zone).
 *
 * **Policies.** `static`: the ring, never a move. `reactive`, `proactive`, `hybrid`: `planCycle` with that
 * policy. `oracle`: `planCycle` with policy `proactive` fed the true demand of the next H buckets as its
 * forecast. `ttl` (SkyStore, VLDB 2025; implemented here, not by the planner): a read that is not local copies
 * the object into the reader's zone (one copy per zone), the copy is evicted after `ttlMs` without a read
 * (checked every cycle); writes update every copy.
 *
 * **Cost model** (`metrics.ts`): storage = replica byte-hours × `storageUsdPerGbMonth` / 730 h (default
 * $0.023/GB-month, S3 Standard list price), transfer = bytes crossing zones × `transferUsdPerGb` (default $0.02/GB,
 * inter-region list price), GB = 2^30 bytes. Cross-zone bytes: a read pulls `size` from each replica it reads
 * (the nearest, or the k nearest) outside its zone, a write pushes `size` to every holder outside its zone, a move
 * copies `size` from the new holder's nearest old holder.
 * @packageDocumentation
 */
import type { DsmPolicy, LatencyMatrix, PlannerConfig, SurviveMode } from '../dsm/index.ts';

export { createRing, resolvePlacement } from '../ring/index.ts';

/** Bytes assumed for a record whose size the trace does not know. */
export const DEFAULT_RECORD_BYTES = 4096;

/** The policies a simulation compares. */
export type SimPolicy = 'static' | 'reactive' | 'proactive' | 'hybrid' | 'ttl' | 'oracle';
export const SIM_POLICIES: readonly SimPolicy[] = ['static', 'reactive', 'proactive', 'hybrid', 'ttl', 'oracle'];

/** The planner policy behind a simulated policy (`static` and `ttl` never call the planner). */
export function plannerPolicy(p: SimPolicy): DsmPolicy {
  if (p === 'oracle') return 'proactive';
  if (p === 'static' || p === 'ttl') return 'off';
  return p;
}

/** A deployment and consistency setting. */
export interface Scenario {
  /** `A`, `B`, `C`, ... */
  readonly name: string;
  readonly label: string;
  readonly zones: number;
  /** Zone names (default `z0 .. z(zones-1)`); scenario C uses the NASA regions. */
  readonly zoneNames?: readonly string[];
  readonly replicationFactor: number;
  readonly survive: SurviveMode;
  /** What a read needs: the nearest replica (`one`) or the nearest majority (`majority`, i.e. quorum). */
  readonly readClass: 'one' | 'majority';
  /** Follow-the-sun: origins are replaced by zones drawn from the NASA region-by-hour shares (`sun.ts`). */
  readonly followTheSun?: boolean;
}

/** Forecaster of the proactive and hybrid policies. */
export type ForecasterChoice =
  | { readonly kind: 'baseline'; readonly name: 'ewma' | 'seasonal-naive' }
  | { readonly kind: 'onnx'; readonly path: string };

/** Options of {@link simulate}. Defaults in {@link DEFAULT_SIM_OPTIONS}. */
export interface SimOptions {
  readonly scenario: Scenario;
  readonly policies: readonly SimPolicy[];
  readonly seed: number;
  readonly daemonsPerZone: number;
  /**
   * The daemons, instead of `daemonsPerZone` generated ones (`d<zone>-<k>`): ring member ids, zones (each one
   * of the workload's) and capacities, e.g. a live cluster's peer ids, so that the ring places every record
   * where that cluster's ring does.
   */
  readonly members?: readonly { readonly id: string; readonly zone: string; readonly capacity?: number }[];
  /** Zone→zone round trips, ms, instead of the generated matrix (`cluster.ts`); the planner gets the same. */
  readonly latency?: LatencyMatrix;
  /** Inbound bandwidth per daemon for moves, bytes/s (default 125 MB/s, 1 Gbit/s). */
  readonly bandwidthBytesPerS: number;
  /**
   * Time every move takes besides its copies, ms (default 0): the mover's protocol rounds (announce, commit the
   * signed epoch, release), which on a live cluster cost round trips between zones. The record is served by its
   * old holders until then.
   */
  readonly moveDelayMs: number;
  /**
   * When the planner runs. `bucket` (default): one planner over every record at every bucket boundary. `daemon`:
   * as the daemons do it, one planner per coordinator (the ring primary of a record's partition) over the records
   * of its partitions, each starting its next cycle one bucket after its previous wave's last move landed (a
   * daemon's DSM controller waits for its wave, then an interval), at the first bucket boundary from then on.
   */
  readonly dsmCadence: 'bucket' | 'daemon';
  readonly forecaster: ForecasterChoice;
  /** Records per trace key (see the module doc); default 1. */
  readonly keyScale: number;
  /** Bucket width; default from the trace span (PAE rule). */
  readonly bucketMs?: number;
  readonly horizonBuckets: number;
  /** Buckets of history per series given to the forecaster (default 24, the GRU's lookback). */
  readonly lookbackBuckets: number;
  /** TTL of a `ttl` copy without reads; default the SkyStore break-even: transfer price / storage price per ms. */
  readonly ttlMs?: number;
  readonly storageUsdPerGbMonth: number;
  readonly transferUsdPerGb: number;
  /** Window of `movedBackShare` (default 1 h). */
  readonly moveBackWindowMs: number;
  /** Planner knobs over {@link DEFAULT_PLANNER_CONFIG} (policy, survive and R come from the scenario). */
  readonly planner?: Partial<PlannerConfig>;
  /** Progress (fraction of the trace replayed), at most about once a second. */
  readonly onProgress?: (p: SimProgress) => void;
  readonly signal?: AbortSignal;
}

export interface SimProgress {
  readonly fraction: number;
  readonly simMs: number;
  readonly elapsedMs: number;
  readonly planMs: number;
}

export const DEFAULT_SIM_OPTIONS: Omit<SimOptions, 'scenario'> = {
  policies: SIM_POLICIES,
  seed: 1,
  daemonsPerZone: 4,
  bandwidthBytesPerS: 125_000_000,
  moveDelayMs: 0,
  dsmCadence: 'bucket',
  forecaster: { kind: 'baseline', name: 'seasonal-naive' },
  keyScale: 1,
  horizonBuckets: 4,
  lookbackBuckets: 24,
  storageUsdPerGbMonth: 0.023,
  transferUsdPerGb: 0.02,
  moveBackWindowMs: 3_600_000,
};

/** Dollar cost of one policy's run (see the module doc). */
export interface SimCost {
  readonly replicaByteHours: number;
  readonly crossZoneBytes: number;
  readonly storageUsd: number;
  readonly transferUsd: number;
  readonly totalUsd: number;
}

/** What one policy did. The first nine fields are `bench/results/locality.json`'s fixed interface. */
export interface PolicyResult {
  readonly policy: SimPolicy;
  readonly meanLatencyMs: number;
  readonly p99LatencyMs: number;
  /** Share of requests not served locally. */
  readonly remoteShare: number;
  /** Requests and remote-served share per origin zone (null: no request from there), as `shoal replay` reports them. */
  readonly zones: readonly { readonly zone: string; readonly requests: number; readonly remoteShare: number | null }[];
  readonly bytesMoved: number;
  /** Moves that copied bytes (one record each). */
  readonly recordsMoved: number;
  /** Share of copying moves whose new holders include the record's top accessor zone of the next H buckets (null: no move). */
  readonly goodMoveRatio: number | null;
  /** The same over demand moves only (`replace`, `add`, ttl copies), leaving out the planner's reclaiming `home` moves. */
  readonly goodDemandMoveRatio: number | null;
  /** Share of moved bytes that re-created a copy in a zone the record left less than `moveBackWindowMs` before (null: no move). */
  readonly movedBackShare: number | null;
  /** Total dollars (storage + transfer); the parts in {@link costDetail}. */
  readonly cost: number;
  readonly costDetail: SimCost;
  readonly requests: number;
  readonly movesPerHour: number;
  /** Planner calls and their total wall time. */
  readonly planCalls: number;
  readonly planMs: number;
  /** Planned moves per kind (`replace`, `add`, `drop`, `home`). */
  readonly movesByKind: Readonly<Record<string, number>>;
}

/** A whole simulation: the trace, scenario, grid, and one result per policy. */
export interface SimResult {
  readonly trace: string;
  readonly scenario: string;
  readonly scenarioLabel: string;
  readonly rows: number;
  readonly records: number;
  readonly zones: number;
  readonly daemons: number;
  readonly bucketMs: number;
  readonly horizonMs: number;
  readonly spanMs: number;
  readonly forecaster: string;
  readonly policies: readonly PolicyResult[];
  readonly wallMs: number;
  readonly heapPeakBytes: number;
}

export { simulate } from './run.ts';
export { SCENARIOS } from './scenarios.ts';
export { loadWorkload, type Workload, type WorkloadOptions } from './workload.ts';
