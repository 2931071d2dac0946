/**
 * The replay's clock: row i is due at `start + (ts_i − ts_0) / speedup`; it is sent then, or as soon as one of
 * the `concurrency` slots frees (its lag, send time minus due time, goes into a histogram). Sending stops after
 * the last row, once `durationMs` has passed, or when `signal` aborts; the requests in flight are then awaited
 * (each has its own timeout), so the whole replay ends within `durationMs` plus one request timeout.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'hdr-histogram-js';
import type { ReplayHooks } from './run.ts';
import type { Sent } from './send.ts';
import { Timeline, ZoneRecorder } from './summary.ts';

export interface ScheduleOptions {
  speedup: number;
  durationMs: number;
  concurrency: number;
  /** Number of zones. */
  zones: number;
  signal?: AbortSignal;
  hooks?: ReplayHooks;
}

/** One row, ready to send. */
export interface Planned {
  z: number;
  write: boolean;
  /** Whether the placement says it needs another zone (undefined: placement unknown). */
  remote: boolean | undefined;
  sent: () => Promise<Sent>;
}

export interface ScheduleResult {
  sent: number;
  aborted: number;
  /** Set when sending stopped before the last row. */
  stoppedBy?: 'duration' | 'interrupted';
  durationMs: number;
  /** Wall clock (ms since the epoch) of the first request. */
  startedAt: number;
  zones: ZoneRecorder[];
  total: ZoneRecorder;
  lag: { p50Ms: number; p99Ms: number; maxMs: number };
  timeline: Timeline;
}

const LIVE_EVERY_MS = 250;

/** Sends rows `0 .. rows-1` on the trace's clock (see the module doc); `plan(i)` is called as row i is sent. */
export async function schedule(
  o: ScheduleOptions,
  ts: Float64Array,
  rows: number,
  plan: (i: number) => Planned,
): Promise<ScheduleResult> {
  const zones = Array.from({ length: o.zones }, () => new ZoneRecorder());
  const total = new ZoneRecorder();
  const lag = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2,
  });
  const span = rows > 0 ? ts[rows - 1] - ts[0] : 0;
  const timeline = new Timeline(Math.min(o.durationMs, span / o.speedup));
  o.hooks?.phase?.('replay', rows);
  const startedAt = Date.now();
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  let inFlight = 0;
  let sent = 0;
  let done = 0;
  let aborted = 0;
  let stoppedBy: ScheduleResult['stoppedBy'];
  let wake: (() => void) | undefined;
  let live = { remoteShare: null as number | null, p50Ms: 0, errors: 0 };
  let liveAt = 0;
  const progress = () => {
    const now = performance.now();
    if (now - liveAt >= LIVE_EVERY_MS) {
      liveAt = now;
      const h = total.hist;
      live = {
        remoteShare: total.known ? total.remote / total.known : null,
        p50Ms: h.totalCount ? Math.round(h.getValueAtPercentile(50) / 100) / 10 : 0,
        errors: total.errors,
      };
    }
    o.hooks?.progress?.(done, live);
  };
  const finish = (p: Planned, sentAt: number, r: Sent) => {
    inFlight--;
    if (r.aborted) aborted++;
    else {
      done++;
      zones[p.z].record(r.us, p.write, r.error, p.remote);
      total.record(r.us, p.write, r.error, p.remote);
      timeline.record(sentAt - t0, r.us, p.remote);
      progress();
    }
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (let i = 0; i < rows; i++) {
    const due = t0 + (ts[i] - ts[0]) / o.speedup;
    if (due > deadline) {
      stoppedBy = 'duration';
      break;
    }
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait, undefined, { signal: o.signal }).catch(() => {});
    while (inFlight >= o.concurrency && !o.signal?.aborted) await new Promise<void>((r) => (wake = r));
    if (o.signal?.aborted) {
      stoppedBy = 'interrupted';
      break;
    }
    const now = performance.now();
    if (now > deadline) {
      stoppedBy = 'duration';
      break;
    }
    lag.recordValue(Math.max(1, Math.round((now - due) * 1000))); // µs
    const p = plan(i);
    inFlight++;
    sent++;
    void p.sent().then((r) => finish(p, now, r));
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  const durationMs = performance.now() - t0;
  const ms = (us: number) => (lag.totalCount ? Math.round(us / 100) / 10 : 0);
  return {
    sent,
    aborted,
    stoppedBy,
    durationMs,
    startedAt,
    zones,
    total,
    lag: { p50Ms: ms(lag.getValueAtPercentile(50)), p99Ms: ms(lag.getValueAtPercentile(99)), maxMs: ms(lag.maxValue) },
    timeline,
  };
}
