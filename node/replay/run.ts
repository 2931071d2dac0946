/**
 * `shoal replay`'s engine (the command and `npm run demo` both call {@link runReplay}): replays a slice of a
 * trace against a live cluster and measures it.
 *
 * 1. **Cluster** (`cluster.ts`): the daemons of `urls`, their zones (sorted), every member's zone.
 * 2. **Slice** (`slice.ts`): at most `limit` rows spanning at most `durationMs × speedup` of trace time;
 *    origins mapped to the cluster's zones by the simulator's rule (or a mapping file).
 * 3. **Preload**: a trace's first access of a key may be a read of a key nobody wrote. Every key of the slice is
 *    written once before the replay (`consistency=all`, so every replica has it whatever `level` the reads
 *    use), with `size` bytes (0 → 4096, the simulator's default, capped at `maxValueBytes`), through a daemon of
 *    the zone of its first access, tagged `x-shoal-app: shoal-replay-preload`. Keys the trace writes before
 *    reading them are preloaded too: at a high speedup that first write may still be in flight when the read
 *    that follows it in the trace is sent (an open-loop replay keeps the trace's clock, not its order per key),
 *    and the read would find nothing (measured: one `404 NOT_FOUND` in 200 rows of meta_tectonic_1 at ×50).
 * 4. **Placement** (`placements.ts`): every key's holders, followed through the moves that end meanwhile.
 * 5. **Replay**: row i is sent at `start + (ts_i − ts_0) / speedup` to a daemon of its origin's zone (round robin
 *    among that zone's daemons), as `GET` or `PUT /v1/records/:key` (`?consistency=level` when given), with
 *    `x-shoal-origin: <zone>` and `x-shoal-app: shoal-replay`; at most `concurrency` requests in flight (a
 *    request waiting for a slot is sent late and its lag is measured); each request times out after
 *    `requestTimeoutMs`. Sending stops at the end of the slice, after `durationMs`, or when `signal` aborts
 *    (requests in flight are then aborted and not counted).
 * @module
 */

import { accessClass } from '../../src/api/records.ts';
import type { Consistency } from '../../src/replication/engine.ts';
import { DEFAULT_RECORD_BYTES } from '../../src/sim/index.ts';
import type { ZoneMapper } from '../../src/stats/trace.ts';
import { type ClusterView, discoverCluster, fetchHolders, MoveWatch, type ReplayDaemon } from './cluster.ts';
import { PlacementBook } from './placements.ts';
import { schedule } from './schedule.ts';
import { sendRecord } from './send.ts';
import { readSlice, type TraceSlice, zonesOfOrigins } from './slice.ts';
import { type MovesSummary, movesSummary, type Timeline, type ZoneSummary } from './summary.ts';

export type ReplayPhase = 'preload' | 'placement' | 'replay';

export interface ReplayHooks {
  /** A phase starts, with its number of steps (keys, keys, rows). */
  phase?(name: ReplayPhase, total: number): void;
  /** Steps done in the current phase; `live` is the running remote-served share and p50 of the replay. */
  progress?(done: number, live: { remoteShare: number | null; p50Ms: number; errors: number }): void;
  /** After preload and placement, before the first replayed request (the demo turns the DSM on here). */
  beforeReplay?(cluster: ClusterView): Promise<void>;
}

export interface ReplayOptions {
  trace: string;
  /** Daemons' URLs (data and admin API on the same listener). */
  urls: readonly string[];
  /** Sent with every call (the admin bearer token, which `--data-auth on` also wants). */
  headers?: Record<string, string>;
  speedup: number;
  limit: number;
  durationMs: number;
  concurrency: number;
  /** `?consistency=` of every request; default: none sent (the daemons' default, quorum). */
  level?: Consistency;
  zoneMapper?: ZoneMapper;
  /** Largest value written, bytes. Default 64 KiB. */
  maxValueBytes?: number;
  /** Default 10 s. */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  hooks?: ReplayHooks;
}

export interface ReplaySummary {
  trace: string;
  level: string;
  speedup: number;
  cluster: { zones: string[]; daemons: Array<ReplayDaemon & { requests: number }> };
  /** Trace origin → zone. */
  originZones: Record<string, string>;
  /** Rows in the slice, rows skipped (unsendable keys), distinct keys. */
  rows: number;
  skipped: number;
  keys: number;
  sent: number;
  /** Requests cut off by an interruption. */
  aborted: number;
  stoppedBy: 'end' | 'limit' | 'duration' | 'interrupted';
  durationMs: number;
  traceSpanMs: number;
  preload: { keys: number; errors: number; ms: number };
  /** Keys whose holders could not be read (their requests have no remote-served verdict). */
  placementUnknown: number;
  total: ZoneSummary;
  zones: ZoneSummary[];
  moves: MovesSummary;
  /** How late requests were sent against their schedule. */
  lag: { p50Ms: number; p99Ms: number; maxMs: number };
  timeline: ReturnType<Timeline['summary']>;
}

/** Input the replay cannot use (an unreadable trace, an empty slice, a mapping onto no daemon's zone). */
export class ReplayInputError extends Error {
  override name = 'ReplayInputError';
}

/** Runs `n` jobs, `concurrency` at a time, until done or `signal` aborts. */
async function pool(n: number, concurrency: number, job: (i: number) => Promise<void>, signal?: AbortSignal) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n && !signal?.aborted) await job(next++);
    }),
  );
}

async function slice(o: ReplayOptions): Promise<TraceSlice> {
  try {
    return await readSlice(o.trace, { limit: o.limit, maxSpanMs: o.durationMs * o.speedup, signal: o.signal });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')
      throw new ReplayInputError(`cannot read trace ${o.trace}: ${e.message}`);
    throw err;
  }
}

/** Replays the trace (see the module doc) and resolves with its summary. */
export async function runReplay(o: ReplayOptions): Promise<ReplaySummary> {
  const headers = o.headers ?? {};
  const hooks = o.hooks ?? {};
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  const view = await discoverCluster(o.urls, headers);
  const s = await slice(o);
  if (s.rows === 0) throw new ReplayInputError(`trace ${o.trace} has no rows to replay`);
  let zoneOfOrigin: Int32Array;
  try {
    zoneOfOrigin = zonesOfOrigins(s, view.zones, o.zoneMapper);
  } catch (err) {
    throw new ReplayInputError((err as Error).message);
  }
  const Z = view.zones.length;
  const byZone = view.zones.map((z) => view.daemons.filter((d) => d.zone === z));
  const turn = new Int32Array(Z);
  const sentTo = new Map(view.daemons.map((d) => [d.url, 0]));
  const daemonOf = (z: number) => byZone[z][turn[z]++ % byZone[z].length];
  const send = (d: ReplayDaemon, k: number, write: boolean, z: number, app: string, level?: Consistency) =>
    sendRecord({
      url: d.url,
      key: s.keys[k],
      write,
      bytes: Math.min(o.maxValueBytes ?? 65_536, s.keySize[k] || DEFAULT_RECORD_BYTES),
      headers: { ...headers, 'x-shoal-origin': view.zones[z], 'x-shoal-app': app },
      level,
      timeoutMs,
      signal: o.signal,
    });

  // The zone of every key's first access.
  const firstZone = new Int32Array(s.keys.length).fill(-1);
  for (let i = 0; i < s.rows; i++) if (firstZone[s.key[i]] < 0) firstZone[s.key[i]] = zoneOfOrigin[s.origin[i]];

  const book = new PlacementBook(s.keys, view.zones, view.memberZones);
  const watch = new MoveWatch(view.watched, headers, (m) => book.moved(m.key, m.to, m.endedAt ?? Date.now()));
  await watch.start(1000);
  try {
    /** Runs `job` for every key, `concurrency` at a time, as phase `name`; resolves with how many failed. */
    const everyKey = async (name: ReplayPhase, job: (k: number) => Promise<boolean>) => {
      let done = 0;
      let failed = 0;
      hooks.phase?.(name, s.keys.length);
      const step = async (k: number) => {
        if (!(await job(k))) failed++;
        hooks.progress?.(++done, { remoteShare: null, p50Ms: 0, errors: failed });
      };
      await pool(s.keys.length, o.concurrency, step, o.signal);
      return failed;
    };
    const preloadStart = Date.now();
    const preloadErrors = await everyKey('preload', async (k) => {
      const r = await send(daemonOf(firstZone[k]), k, true, firstZone[k], 'shoal-replay-preload', 'all');
      return r.error === undefined;
    });
    const preload = { keys: s.keys.length, errors: preloadErrors, ms: Date.now() - preloadStart };
    const placementUnknown = await everyKey('placement', async (k) => {
      const at = Date.now();
      const d = daemonOf(firstZone[k]);
      try {
        book.set(k, await fetchHolders({ url: d.url, headers }, s.keys[k]), at);
        return true;
      } catch {
        return false;
      }
    });
    const atStart = book.snapshot();
    await hooks.beforeReplay?.(view);
    const cls = accessClass(o.level);

    const replay = await schedule({ ...o, zones: Z, hooks }, s.ts, s.rows, (i) => {
      const k = s.key[i];
      const z = zoneOfOrigin[s.origin[i]];
      const d = daemonOf(z);
      sentTo.set(d.url, (sentTo.get(d.url) ?? 0) + 1);
      const local = book.local(k, z, cls);
      return {
        z,
        write: s.write[i] === 1,
        remote: local === undefined ? undefined : !local,
        sent: () => send(d, k, s.write[i] === 1, z, 'shoal-replay', o.level),
      };
    });
    await watch.stop();
    const atEnd = book.snapshot();
    // Every sent request scored on the placement before and after the replay.
    for (let i = 0; i < replay.sent; i++) {
      const k = s.key[i];
      const z = zoneOfOrigin[s.origin[i]];
      const remote = (h: Int32Array | undefined) => {
        const l = PlacementBook.localIn(h, z, cls);
        return l === undefined ? undefined : !l;
      };
      replay.zones[z].score(remote(atStart[k]), remote(atEnd[k]));
      replay.total.score(remote(atStart[k]), remote(atEnd[k]));
    }
    const zoneName = (p: string) => view.memberZones.get(p) ?? '?';
    return {
      trace: o.trace,
      level: o.level ?? 'quorum',
      speedup: o.speedup,
      cluster: { zones: view.zones, daemons: view.daemons.map((d) => ({ ...d, requests: sentTo.get(d.url) ?? 0 })) },
      originZones: Object.fromEntries(s.origins.map((origin, i) => [origin, view.zones[zoneOfOrigin[i]]])),
      rows: s.rows,
      skipped: s.skipped,
      keys: s.keys.length,
      sent: replay.sent,
      aborted: replay.aborted,
      stoppedBy: replay.stoppedBy ?? (s.stoppedBy === 'span' ? 'duration' : s.stoppedBy),
      durationMs: Math.round(replay.durationMs),
      traceSpanMs: s.ts[s.rows - 1] - s.ts[0],
      preload,
      placementUnknown,
      total: replay.total.summary(
        'all',
        view.daemons.map((d) => d.url),
      ),
      zones: view.zones.map((z, i) =>
        replay.zones[i].summary(
          z,
          byZone[i].map((d) => d.url),
        ),
      ),
      moves: movesSummary(watch.done, replay.startedAt, watch.inFlight, zoneName),
      lag: replay.lag,
      timeline: replay.timeline.summary(),
    };
  } finally {
    await watch.stop();
  }
}
