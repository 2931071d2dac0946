import type { SeriesBatch } from '../../src/pae/index.ts';
import { mulberry32 } from '../../src/pae/rng.ts';

/** Poisson sample (Knuth; fine for small means). */
export function poisson(mean: number, rand: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (rand() + rand() + rand() - 1.5) * 2));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

/**
 * Synthetic daily-seasonal series: hourly buckets, each row a peaked daily profile with its own phase and level
 * (a flash of demand a few hours a day), Poisson noise, fixed seed.
 */
export function seasonalBatch(rows: number, days: number, seed: number): SeriesBatch {
  const rand = mulberry32(seed);
  const n = days * 24;
  const reads = new Float32Array(rows * n);
  const writes = new Float32Array(rows * n);
  const keys: string[] = [];
  const zones: string[] = [];
  for (let r = 0; r < rows; r++) {
    keys.push(`k${Math.floor(r / 2)}`);
    zones.push(r % 2 === 0 ? 'eu' : 'na');
    const phase = Math.floor(rand() * 24);
    const level = 2 + rand() * 18;
    for (let b = 0; b < n; b++) {
      const h = (b + phase) % 24;
      const mean = h < 4 ? level : 0.05 * level;
      reads[r * n + b] = poisson(mean, rand);
      writes[r * n + b] = poisson(mean * 0.1, rand);
    }
  }
  return {
    bucketMs: 3_600_000,
    startMs: Date.UTC(2024, 0, 1),
    buckets: n,
    rows,
    keys,
    zones,
    reads,
    writes,
    sizeBytes: new Float64Array(rows).fill(1000),
  };
}

/** The first `buckets` buckets of a batch (history before an origin). */
export function prefix(batch: SeriesBatch, buckets: number): SeriesBatch {
  const n = batch.buckets;
  const reads = new Float32Array(batch.rows * buckets);
  const writes = new Float32Array(batch.rows * buckets);
  for (let r = 0; r < batch.rows; r++) {
    reads.set(batch.reads.subarray(r * n, r * n + buckets), r * buckets);
    writes.set(batch.writes.subarray(r * n, r * n + buckets), r * buckets);
  }
  return { ...batch, buckets, reads, writes };
}
