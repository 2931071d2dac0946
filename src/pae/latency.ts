/**
 * The two latency inputs of migration scores (see `scores.ts`): a configured zone→zone matrix
 * (`--latency-matrix`, validated here) and zone→zone RTTs aggregated from the membership failure detector's
 * smoothed ping RTTs ({@link createZoneRtt}).
 * @module
 */
import { readFileSync } from 'node:fs';
import { ShoalError } from '../errors/index.ts';
import type { LatencyMatrix } from './scores.ts';

/** A latency matrix (file or inline JSON) cannot be read or is not `{"zone": {"zone": ms ≥ 0}}`. */
export class LatencyMatrixError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
    this.name = 'LatencyMatrixError';
  }
}

/** Checks a parsed JSON value is `{"zoneA": {"zoneB": ms, ...}, ...}` with finite ms ≥ 0; `where` prefixes errors. */
export function parseLatencyMatrix(value: unknown, where: string): LatencyMatrix {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new LatencyMatrixError(`${where}: expected a JSON object {"zoneA": {"zoneB": ms}}`);
  const out: LatencyMatrix = {};
  for (const [from, row] of Object.entries(value)) {
    if (from === '') throw new LatencyMatrixError(`${where}: zone names must not be empty`);
    if (!isObject(row)) {
      throw new LatencyMatrixError(
        `${where}: "${from}" must map to an object {"zone": ms}, got ${JSON.stringify(row)}`,
      );
    }
    out[from] = {};
    for (const [to, ms] of Object.entries(row)) {
      if (to === '') throw new LatencyMatrixError(`${where}: zone names must not be empty (in "${from}")`);
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new LatencyMatrixError(
          `${where}: "${from}" → "${to}" must be a non-negative number of ms, got ${JSON.stringify(ms)}`,
        );
      }
      out[from][to] = ms;
    }
  }
  return out;
}

/**
 * Loads the `--latency-matrix` setting: inline JSON when it starts with `{`, else a JSON file path; `label` names
 * the setting in errors. Synchronous: it runs once, while the configuration is resolved, before anything starts.
 */
export function loadLatencyMatrix(spec: string, label = 'latency matrix'): LatencyMatrix {
  const inline = spec.trimStart().startsWith('{');
  const where = inline ? `${label} (inline JSON)` : `${label} ${spec}`;
  let text = spec;
  if (!inline) {
    try {
      text = readFileSync(spec, 'utf8');
    } catch (err) {
      throw new LatencyMatrixError(`${where}: cannot read the file (${(err as Error).message})`, { cause: err });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LatencyMatrixError(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return parseLatencyMatrix(parsed, where);
}

/** What {@link createZoneRtt} needs to know of a member (a structural subset of the net's `Member`). */
export interface RttMember {
  zone: string;
  status: 'up' | 'suspect' | 'down';
  self: boolean;
  /** Smoothed ping RTT from this daemon, ms; undefined before the first ping. */
  rttMs?: number;
}

/** Zone→zone RTTs measured from this daemon's zone. */
export interface ZoneRtt {
  /** Measured RTT between the zones in ms, or undefined (unknown: the scores fall back to their default). */
  rttMs(from: string, to: string): number | undefined;
  /** Zones this daemon has a measured RTT to, sorted. */
  measuredZones(): string[];
}

/** Dependencies of {@link createZoneRtt}. */
export interface ZoneRttComponents {
  /** The current members (the daemon passes the net's `members()`; empty while the net is starting). */
  members: () => Iterable<RttMember>;
  /** Milliseconds clock; default Date.now. */
  clock?: () => number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Zone RTTs from the failure detector's per-peer smoothed RTTs: for a pair with this daemon's zone on either
 * side (RTT is symmetric), the median over `up` peers of the other zone that have a measurement. A pair of two
 * other zones is unknown: this daemon only pings from its own zone, and membership gossip carries no RTTs.
 * Same zone with no measured peer: 0. Recomputed at most every `maxAgeMs` (default 1000), since scoring asks
 * for many pairs in a row.
 */
export function createZoneRtt(components: ZoneRttComponents, options: { zone: string; maxAgeMs?: number }): ZoneRtt {
  const clock = components.clock ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 1000;
  let byZone = new Map<string, number>();
  let computedAt = Number.NEGATIVE_INFINITY;

  function current(): Map<string, number> {
    const now = clock();
    if (now - computedAt < maxAgeMs) return byZone;
    const samples = new Map<string, number[]>();
    for (const m of components.members()) {
      if (m.self || m.status !== 'up' || m.rttMs === undefined || !Number.isFinite(m.rttMs)) continue;
      const list = samples.get(m.zone);
      if (list) list.push(m.rttMs);
      else samples.set(m.zone, [m.rttMs]);
    }
    byZone = new Map([...samples].map(([zone, xs]) => [zone, median(xs)]));
    computedAt = now;
    return byZone;
  }

  return {
    rttMs(from, to) {
      const self = options.zone;
      if (from !== self && to !== self) return undefined;
      const other = from === self ? to : from;
      const measured = current().get(other);
      if (measured === undefined && other === self) return 0;
      return measured;
    },
    measuredZones() {
      return [...current().keys()].sort();
    },
  };
}
