import { throwIfAborted } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { StatsCore } from './core.ts';
import type {
  DemandClass,
  SeriesBatch,
  SeriesBatchQuery,
  SeriesView,
  Stats,
  StatsComponents,
  StatsLogger,
  StatsOptions,
  StatsOverview,
  StatsSeriesSource,
  TopEntry,
  TopQuery,
} from './index.ts';
import { resolveOptions } from './options.ts';
import { loadCore, persistCore } from './persist.ts';
import * as q from './queries.ts';

export class StatsImpl implements Stats {
  readonly core: StatsCore;
  readonly #log: StatsLogger;
  readonly #store?: Store;
  #timers: NodeJS.Timeout[] = [];
  #persisting?: Promise<void>;

  constructor(components: StatsComponents, options: StatsOptions) {
    this.core = new StatsCore(resolveOptions(options), components.clock ?? Date.now);
    this.#log = components.logger;
    this.#store = components.store;
  }

  get bucketMs(): number {
    return this.core.o.bucketMs;
  }

  record(key: string, op: 'r' | 'w', zone: string, app: string, bytes: number, tsMs?: number, cls?: DemandClass): void {
    this.core.record(key, op, zone, app, bytes, tsMs, cls);
  }

  tick(nowMs?: number): void {
    this.core.tick(nowMs);
  }

  flush(): void {
    this.core.roll(this.core.cur);
  }

  top(query?: TopQuery): TopEntry[] {
    return q.top(this.core, query);
  }

  series(key: string): SeriesView {
    return q.series(this.core, key);
  }

  seriesBatch(query?: SeriesBatchQuery): SeriesBatch {
    return q.seriesBatches(this.core, query).next().value as SeriesBatch;
  }

  paeSource(query?: SeriesBatchQuery): StatsSeriesSource {
    const core = this.core;
    return {
      async *series(options) {
        for (const batch of q.seriesBatches(core, query, options.batchRows)) {
          throwIfAborted(options.signal);
          yield batch;
        }
      },
    };
  }

  /** The last `n` closed base buckets of the hottest `maxKeys` keys (what gossip summaries carry). */
  recentBuckets(n: number, maxKeys: number): { from: number; rows: q.RecentRow[] } {
    return q.recent(this.core, n, maxKeys);
  }

  bucketRows(from: number, n: number, keys?: Iterable<string>): q.LocalRow[] {
    return q.bucketRows(this.core, from, n, keys);
  }

  openBucket(): number {
    this.core.tick();
    return this.core.cur;
  }

  estimate(key: string): number {
    return this.core.sketch.estimate(key);
  }

  count(key: string): { count: number; error: number } | undefined {
    const slot = this.core.ss.slotOf(key);
    return slot === -1 ? undefined : { count: this.core.ss.countOf(slot), error: this.core.ss.errorOf(slot) };
  }

  memoryBytes(): number {
    return this.core.memoryBytes();
  }

  summary(): StatsOverview {
    const c = this.core;
    c.tick();
    const zones: StatsOverview['zones'] = {};
    c.zones.names.forEach((name, i) => {
      const t = c.zoneTotals;
      zones[name] = { reads: t[i * 4], writes: t[i * 4 + 1], bytesRead: t[i * 4 + 2], bytesWritten: t[i * 4 + 3] };
    });
    const apps: StatsOverview['apps'] = {};
    c.apps.names.forEach((name, i) => {
      apps[name] = { reads: c.appTotals[i * 2], writes: c.appTotals[i * 2 + 1] };
    });
    return {
      bucketMs: c.o.bucketMs,
      openBucketStartMs: c.cur === -1 ? null : c.cur * c.o.bucketMs,
      totalAccesses: c.total,
      trackedKeys: c.ss.size,
      hotCapacity: c.o.hotCapacity,
      seriesKeys: c.series.entries.size,
      seriesLanes: c.series.lanesUsed,
      maxSeriesLanes: c.o.seriesLanes,
      memoryBytes: c.memoryBytes(),
      memoryBudgetBytes: c.o.memoryBudgetBytes,
      zones,
      apps,
      sketch: {
        width: c.sketch.width,
        depth: c.sketch.depth,
        epsilon: c.sketch.epsilon,
        delta: c.sketch.delta,
        errorBound: c.sketch.errorBound(),
      },
      retention: { ...c.o.retention },
      dropped: {
        cells: c.cells.dropped,
        lanes: c.series.droppedLanes,
        zonesFolded: c.zones.overflowed,
        appsFolded: c.apps.overflowed,
      },
    };
  }

  async persist(store: Store, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.flush();
    await persistCore(this.core, store, options.signal);
  }

  async load(store: Store, options: { signal?: AbortSignal } = {}): Promise<void> {
    await loadCore(this.core, store, this.#log, options.signal);
  }

  async start(): Promise<void> {
    const store = this.#store;
    if (store) await this.load(store);
    const roll = setInterval(() => this.core.tick(), Math.min(this.core.o.bucketMs, 60_000));
    roll.unref();
    this.#timers.push(roll);
    if (store) {
      const t = setInterval(() => void this.#persistNow(store), this.core.o.persistIntervalMs);
      t.unref();
      this.#timers.push(t);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#persisting;
    if (this.#store) await this.persist(this.#store);
  }

  async #persistNow(store: Store): Promise<void> {
    if (this.#persisting) return;
    this.#persisting = this.persist(store)
      .catch((err) => this.#log.warn({ err }, 'stats: periodic persist failed'))
      .finally(() => {
        this.#persisting = undefined;
      });
    await this.#persisting;
  }
}
