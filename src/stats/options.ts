import { CountMinSketch } from './count-min.ts';
import { StatsConfigError } from './errors.ts';
import type { StatsOptions } from './index.ts';
import { DAY_MS, HOUR_MS, SeriesStore } from './series.ts';

/**
 * Per-slot bytes of Space-Saving: its 32-byte slot record (links, group, key hash, generation, error, first-seen
 * bucket, last size), its 24-byte group record (worst case: groups are allocated on demand), its `keys` array entry (8) and, worst
 * case, its share of the open-addressing index (up to 4 positions of 4 bytes).
 */
export const SLOT_SS_BYTES = 32 + 24 + 8 + 16;
/** Heap bytes of one tracked key string besides its characters: a flat string's header (16) plus padding to 8. */
export const SLOT_KEY_BYTES = 24;
/** Estimated bytes of one Space-Saving slot besides its key's characters. */
export const SLOT_BYTES = SLOT_SS_BYTES + SLOT_KEY_BYTES;
/** Most buckets kept at the finest resolution (6 h of 60 s buckets), whatever the bucket size. */
const MAX_BASE_BUCKETS = 360;

/** Average key length assumed when sizing slots from the budget. */
export const ASSUMED_KEY_CHARS = 32;
/** Worst-case open-bucket cell bytes per slot (table may grow to 4 × nextPow2(capacity) cells of 24 bytes). */
export const CELL_BYTES_WORST = 192;

export interface ResolvedOptions {
  bucketMs: number;
  memoryBudgetBytes: number;
  hotCapacity: number;
  seriesLanes: number;
  epsilon: number;
  delta: number;
  retention: { bucketMs: number; hourMs: number; dayMs: number };
  baseLen: number;
  hourLen: number;
  dayLen: number;
  maxZones: number;
  maxApps: number;
  halfLifeMs: number;
  persistIntervalMs: number;
}

/**
 * Fills defaults and derives capacities from the budget: the sketch takes `depth * width * 4` bytes, the
 * rest R is split 45% for Space-Saving slots plus their open-bucket cells (each slot budgeted at
 * {@link SLOT_BYTES} + {@link ASSUMED_KEY_CHARS} + {@link CELL_BYTES_WORST}), 45% for series lanes, 10% slack.
 */
export function resolveOptions(o: StatsOptions = {}): ResolvedOptions {
  const bucketMs = o.bucketMs ?? 60_000;
  if (!Number.isInteger(bucketMs) || bucketMs < 1000 || HOUR_MS % bucketMs !== 0) {
    throw new StatsConfigError(`bucketMs must be an integer >= 1000 that divides one hour, got ${bucketMs}`);
  }
  const budget = o.memoryBudgetBytes ?? 32 * 1024 * 1024;
  const epsilon = o.epsilon ?? 1e-4;
  const delta = o.delta ?? 0.01;
  if (!(epsilon > 0 && epsilon < 1) || !(delta > 0 && delta < 1)) {
    throw new StatsConfigError('epsilon and delta must be in (0, 1)');
  }
  const retention = {
    bucketMs: o.retention?.bucketMs ?? 6 * HOUR_MS,
    hourMs: o.retention?.hourMs ?? 14 * DAY_MS,
    dayMs: o.retention?.dayMs ?? 90 * DAY_MS,
  };
  // The finest resolution keeps at most as many buckets as 6 h of the default 60 s ones: with fine buckets
  // (tests, demos: 1-2 s) 6 h of them left the budget only ~100 series lanes, so planners saw about half the
  // keys that had demand (found by the live-vs-simulated test). Older data lives on in the hourly rollups.
  const baseLen = Math.max(1, Math.min(MAX_BASE_BUCKETS, Math.ceil(retention.bucketMs / bucketMs)));
  const hourLen = Math.max(1, Math.ceil(retention.hourMs / HOUR_MS));
  const dayLen = Math.max(1, Math.ceil(retention.dayMs / DAY_MS));
  const maxZones = o.maxZones ?? 32;
  const maxApps = o.maxApps ?? 64;
  const sketch = new CountMinSketch(epsilon, delta);
  const rest = budget - sketch.bytes;
  const perSlot = SLOT_BYTES + ASSUMED_KEY_CHARS + CELL_BYTES_WORST;
  const hotCapacity = o.hotCapacity ?? Math.floor((0.45 * rest) / perSlot);
  const seriesLanes = o.seriesLanes ?? Math.floor((0.45 * rest) / SeriesStore.laneBytes(baseLen, hourLen, dayLen));
  if (!Number.isInteger(hotCapacity) || hotCapacity < 16) {
    throw new StatsConfigError(`memory budget ${budget} too small: hot capacity would be ${hotCapacity} (< 16)`);
  }
  if (!Number.isInteger(seriesLanes) || seriesLanes < 1) {
    throw new StatsConfigError(`memory budget ${budget} too small for one series lane`);
  }
  if (hotCapacity * maxZones * maxApps >= 2 ** 31) {
    throw new StatsConfigError('hotCapacity * maxZones * maxApps must stay below 2^31');
  }
  return {
    bucketMs,
    memoryBudgetBytes: budget,
    hotCapacity,
    seriesLanes,
    epsilon,
    delta,
    retention,
    baseLen,
    hourLen,
    dayLen,
    maxZones,
    maxApps,
    halfLifeMs: o.halfLifeMs ?? HOUR_MS,
    persistIntervalMs: o.persistIntervalMs ?? 60_000,
  };
}
