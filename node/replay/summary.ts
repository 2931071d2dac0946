/**
 * `shoal replay`'s measurements and their summary: per zone an HDR histogram of request latency
 * (hdr-histogram-js, microseconds, 3 significant digits, 1 µs to 1 h), counts, errors by code and the
 * remote-served share (rule in `placements.ts`); the same over every zone; the moves that ended during the
 * replay; how far behind its schedule the replay sent; a timeline of ten windows.
 * @module
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Migration } from '../../src/dsm/index.ts';
import { fmtBytes, table } from '../commands/dsm.ts';

const newHistogram = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/** Remote-served shares: as served (placement at the time), and every request scored on the placement at the start and at the end. */
export interface RemoteShare {
  served: number | null;
  start: number | null;
  end: number | null;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ZoneSummary extends LatencySummary {
  zone: string;
  /** The daemons requests of this zone went to. */
  daemons: string[];
  /** Requests answered, failed or timed out (not those cut off by an interruption). */
  requests: number;
  reads: number;
  writes: number;
  errors: number;
  /** Failed requests by code (the daemon's error code, `HTTP_<status>`, `TIMEOUT` or `UNREACHABLE`). */
  errorCodes: Record<string, number>;
  remoteShare: RemoteShare;
}

export interface MovesSummary {
  /** Moves that ended done during the replay, every origin (DSM, manual, rollback). */
  records: number;
  bytes: number;
  /** Of which the DSM's. */
  dsmRecords: number;
  dsmBytes: number;
  byKind: Record<string, number>;
  /** Moves in flight when the replay ended. */
  inFlightAtEnd: number;
  /** The first few DSM moves: key, kind, holders' zones before → after. */
  examples: Array<{ key: string; kind: string; from: string[]; to: string[]; bytes: number }>;
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const ms = (us: number) => Math.round(us / 10) / 100;

/** Counters of one zone (or of all). */
export class ZoneRecorder {
  readonly hist = newHistogram();
  requests = 0;
  reads = 0;
  writes = 0;
  errors = 0;
  readonly errorCodes: Record<string, number> = {};
  remote = 0;
  known = 0;
  startRemote = 0;
  startKnown = 0;
  endRemote = 0;
  endKnown = 0;

  /** One finished request: its latency, whether it was a write, its error code if it failed, whether it was remote. */
  record(us: number, write: boolean, error: string | undefined, remote: boolean | undefined): void {
    this.requests++;
    if (write) this.writes++;
    else this.reads++;
    if (error !== undefined) {
      this.errors++;
      this.errorCodes[error] = (this.errorCodes[error] ?? 0) + 1;
    } else this.hist.recordValue(Math.max(1, Math.round(us)));
    if (remote !== undefined) {
      this.known++;
      if (remote) this.remote++;
    }
  }

  /** Scores one sent request on the start and end placements. */
  score(start: boolean | undefined, end: boolean | undefined): void {
    if (start !== undefined) {
      this.startKnown++;
      if (start) this.startRemote++;
    }
    if (end !== undefined) {
      this.endKnown++;
      if (end) this.endRemote++;
    }
  }

  latency(): LatencySummary {
    const h = this.hist;
    const count = h.totalCount;
    return {
      count,
      meanMs: count ? ms(h.mean) : 0,
      p50Ms: count ? ms(h.getValueAtPercentile(50)) : 0,
      p90Ms: count ? ms(h.getValueAtPercentile(90)) : 0,
      p99Ms: count ? ms(h.getValueAtPercentile(99)) : 0,
      maxMs: count ? ms(h.maxValue) : 0,
    };
  }

  summary(zone: string, daemons: string[]): ZoneSummary {
    return {
      zone,
      daemons,
      requests: this.requests,
      reads: this.reads,
      writes: this.writes,
      errors: this.errors,
      errorCodes: { ...this.errorCodes },
      ...this.latency(),
      remoteShare: {
        served: share(this.remote, this.known),
        start: share(this.startRemote, this.startKnown),
        end: share(this.endRemote, this.endKnown),
      },
    };
  }
}

/** The moves of `done` that ended at or after `since`, summed. */
export function movesSummary(
  done: readonly Migration[],
  since: number,
  inFlight: number,
  zoneOf: (peerId: string) => string,
): MovesSummary {
  const during = done.filter((m) => (m.endedAt ?? 0) >= since);
  const dsm = during.filter((m) => m.origin === 'dsm');
  const byKind: Record<string, number> = {};
  for (const m of during) byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
  const sum = (ms: readonly Migration[]) => ms.reduce((s, m) => s + m.bytes, 0);
  return {
    records: during.length,
    bytes: sum(during),
    dsmRecords: dsm.length,
    dsmBytes: sum(dsm),
    byKind,
    inFlightAtEnd: inFlight,
    examples: dsm.slice(0, 5).map((m) => ({
      key: m.key,
      kind: m.kind,
      from: m.from.map(zoneOf),
      to: m.to.map(zoneOf),
      bytes: m.bytes,
    })),
  };
}

/** Requests per window of the replay's wall time. */
export class Timeline {
  readonly #windowMs: number;
  readonly #count: Float64Array;
  readonly #remote: Float64Array;
  readonly #known: Float64Array;
  readonly #us: Float64Array;

  constructor(expectedMs: number, windows = 10) {
    this.#windowMs = Math.max(100, Math.ceil(expectedMs / windows));
    this.#count = new Float64Array(windows);
    this.#remote = new Float64Array(windows);
    this.#known = new Float64Array(windows);
    this.#us = new Float64Array(windows);
  }

  record(sentAtMs: number, us: number, remote: boolean | undefined): void {
    const w = Math.min(this.#count.length - 1, Math.floor(sentAtMs / this.#windowMs));
    this.#count[w]++;
    this.#us[w] += us;
    if (remote !== undefined) {
      this.#known[w]++;
      if (remote) this.#remote[w]++;
    }
  }

  summary(): Array<{ fromMs: number; requests: number; meanMs: number; remoteShare: number | null }> {
    return Array.from(this.#count, (n, w) => ({
      fromMs: w * this.#windowMs,
      requests: n,
      meanMs: n ? ms(this.#us[w] / n) : 0,
      remoteShare: share(this.#remote[w], this.#known[w]),
    })).filter((x) => x.requests > 0);
  }
}

export const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

/** The per-zone table and the total line of a summary, for people. */
export function zoneTable(zones: readonly ZoneSummary[], total: ZoneSummary): string {
  const t = table(
    ['zone', 'requests', 'errors', 'mean ms', 'p50 ms', 'p99 ms', 'remote (served)', 'remote at start → end'],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  for (const z of [...zones, total])
    t.push([
      z.zone,
      z.requests,
      z.errors,
      z.meanMs,
      z.p50Ms,
      z.p99Ms,
      pct(z.remoteShare.served),
      `${pct(z.remoteShare.start)} → ${pct(z.remoteShare.end)}`,
    ]);
  return `${t.toString()}\n`;
}

/** What moved, for people. */
export function movesText(m: MovesSummary): string {
  const kinds = Object.entries(m.byKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const head = `moves during the replay: ${m.records} record(s), ${fmtBytes(m.bytes)} (DSM: ${m.dsmRecords}, ${fmtBytes(m.dsmBytes)})${kinds ? `; ${kinds}` : ''}; ${m.inFlightAtEnd} in flight at the end\n`;
  return (
    head + m.examples.map((e) => `  ${e.key}: ${e.kind}, zones ${e.from.join(',')} → ${e.to.join(',')}\n`).join('')
  );
}
