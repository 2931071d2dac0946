/**
 * Heatmap and migration scores from forecasts. Pure.
 *
 * Heatmap of a record: `expected` = forecast accesses over the horizon (all zones); per zone, `probability` that
 * the next access comes from it = expected_z / Σ expected (uniform over the record's zones when nothing is
 * expected).
 *
 * Migration score of adding a replica of record k at destination d, in **milliseconds of client latency saved over
 * the horizon, net of costs**:
 *
 * ```
 * score = Σ_z E[z] · (lat(z, H) − min(lat(z, H), lat(z, d)))     latency saved, ms (lat(z, H) = nearest holder)
 *       − sizeMiB · pricePerMbMs                                   byte cost, ms-equivalent per MiB moved
 *       − redundancyPenaltyMs · (replicas already in d)            concentration risk, ms-equivalent
 * ```
 *
 * Latency `lat(a, b)`: the configured matrix `latencyMs[a][b]` (or `[b][a]`), else the measured RTT (e.g. libp2p
 * ping), else 0 within a zone and `defaultLatencyMs` across zones.
 * @module
 */

/** Zone→zone latency in ms: `m[from][to]`. */
export type LatencyMatrix = Record<string, Record<string, number>>;

/** Cost parameters of migration scores. */
export interface ScoreOptions {
  /** Cost of moving one MiB, in ms-equivalents of client latency (default 50). */
  pricePerMbMs: number;
  /** Penalty per replica already held in the destination zone, ms-equivalents (default 1000). */
  redundancyPenaltyMs: number;
  /** Cross-zone latency when neither configured nor measured, ms (default 100). */
  defaultLatencyMs: number;
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = {
  pricePerMbMs: 50,
  redundancyPenaltyMs: 1000,
  defaultLatencyMs: 100,
};

/** A record the planner considers moving. */
export interface MigrationCandidate {
  key: string;
  sizeBytes: number;
  /** Zones of its current replicas (one entry per replica). */
  replicaZones: string[];
  /** Candidate destination zones. */
  destinations: string[];
}

/** One (record, destination) score with its parts. */
export interface MigrationScore {
  key: string;
  destination: string;
  /** Net benefit in ms over the horizon (see the module doc); positive = worth moving. */
  score: number;
  latencySavedMs: number;
  moveCostMs: number;
  riskMs: number;
  /** Forecast accesses of the record over the horizon. */
  expected: number;
}

/** Per-zone forecast of one record. */
export type ZoneForecast = ReadonlyArray<{ zone: string; expected: number }>;

/** Resolves zone→zone latency (see the module doc). */
export function latencyResolver(
  matrix: LatencyMatrix | undefined,
  rtt: ((from: string, to: string) => number | undefined) | undefined,
  defaultLatencyMs: number,
): (from: string, to: string) => number {
  return (from, to) => {
    const configured = matrix?.[from]?.[to] ?? matrix?.[to]?.[from];
    if (configured !== undefined) return configured;
    if (from === to) return 0;
    return rtt?.(from, to) ?? defaultLatencyMs;
  };
}

/** Scores every (candidate, destination); sorted best first. `forecastOf` returns undefined for unknown keys. */
export function migrationScores(
  candidates: readonly MigrationCandidate[],
  forecastOf: (key: string) => ZoneForecast | undefined,
  latency: (from: string, to: string) => number,
  options: ScoreOptions = DEFAULT_SCORE_OPTIONS,
): MigrationScore[] {
  const out: MigrationScore[] = [];
  for (const c of candidates) {
    const f = forecastOf(c.key) ?? [];
    const expected = f.reduce((s, z) => s + z.expected, 0);
    const moveCostMs = (c.sizeBytes / 1_048_576) * options.pricePerMbMs;
    for (const d of c.destinations) {
      let saved = 0;
      for (const { zone, expected: e } of f) {
        if (e <= 0) continue;
        let now = Number.POSITIVE_INFINITY;
        for (const h of c.replicaZones) now = Math.min(now, latency(zone, h));
        if (!Number.isFinite(now)) now = options.defaultLatencyMs;
        saved += e * (now - Math.min(now, latency(zone, d)));
      }
      const riskMs = options.redundancyPenaltyMs * c.replicaZones.filter((z) => z === d).length;
      out.push({
        key: c.key,
        destination: d,
        score: saved - moveCostMs - riskMs,
        latencySavedMs: saved,
        moveCostMs,
        riskMs,
        expected,
      });
    }
  }
  return out.sort((a, b) => b.score - a.score);
}

/** Heatmap entry of one record from its per-zone forecast. */
export function heatmapEntry(
  key: string,
  f: ZoneForecast,
): {
  key: string;
  expected: number;
  zones: Array<{ zone: string; probability: number; expected: number }>;
} {
  const expected = f.reduce((s, z) => s + z.expected, 0);
  const zones = f
    .map((z) => ({
      zone: z.zone,
      expected: z.expected,
      probability: expected > 0 ? z.expected / expected : 1 / f.length,
    }))
    .sort((a, b) => b.probability - a.probability);
  return { key, expected, zones };
}
