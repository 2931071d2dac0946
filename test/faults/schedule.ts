/**
 * Seeded fault schedules: a schedule is data (a list of timed faults), derived from a seed alone (and the
 * options), so a failing run is replayed by its seed and the schedule is printed with the failure.
 *
 * Required kinds come first (in a seeded order), whatever the duration. Faults run one after another (each healed before the next starts), with gaps between them:
 * - `kill`: SIGKILL of a daemon, restarted after `downMs` (same data dir and ports);
 * - `pause`: SIGSTOP of a daemon, SIGCONT after `downMs` (longer than the failure detector's 10 s to `down`);
 * - `slow-disk`, `full-disk`: a daemon's store waits before every call, or fails every write with ENOSPC
 *   (src/store/faulty.ts, `PUT /admin/faults/store`); `skew`: its HLC's physical clock runs ahead or behind
 *   (`PUT /admin/faults/clock`); each undone after `downMs`;
 * - `partition`: the in-app link blocking cuts the daemons into `sides` (a minority and a majority) for `downMs`;
 *   with `member`, a membership change happens while the cut is in place: `join` starts a new daemon on the
 *   majority side, `leave` asks daemon `target` (either side) to decommission itself.
 *
 * Daemons are named by slot: 0..n-1 at the start, n, n+1, ... for joiners in the order they join; a slot that
 * left is never used again. The generator tracks the live slots, so every target is valid when its fault runs.
 */
import { mulberry32, shuffle as shuffleWith } from '../../src/pae/rng.ts';

/** The seeded PRNG (mulberry32, src/pae/rng.ts): the same seed gives the same sequence everywhere. */
export const prng = mulberry32;

export type FaultKind = 'kill' | 'pause' | 'partition' | 'join' | 'leave' | 'slow-disk' | 'full-disk' | 'skew';

interface Timed {
  /** Start, ms from the start of the schedule, and how long the fault lasts before it is undone. */
  at: number;
  downMs: number;
}
/** `slow-disk`: `amount` ms before every store call; `full-disk`: writes fail (ENOSPC); `skew`: HLC off by `amount` ms. */
type Degraded<K extends string> = Timed & { kind: K; target: number; amount: number };

export type Fault =
  | (Timed & { kind: 'kill'; target: number })
  | (Timed & { kind: 'pause'; target: number })
  | Degraded<'slow-disk'>
  | Degraded<'full-disk'>
  | Degraded<'skew'>
  | (Timed & { kind: 'partition'; sides: [number[], number[]]; member?: 'join' | 'leave'; target?: number });

export interface ScheduleOptions {
  /** Daemons at the start (slots 0..n-1), unless `live` names them. */
  n: number;
  /** The live slots at the start (a later round of a soak), and the slot the next joiner gets. */
  live?: number[];
  nextSlot?: number;
  /** Faults start within [0, durationMs); the last one may end a little after it. */
  durationMs: number;
  /** Kinds that must appear (in a seeded order), before random faults fill the rest. Default none. */
  require?: FaultKind[];
  /** Kinds the random fill draws from. Default every kind. */
  kinds?: FaultKind[];
  /** Live daemons never fall below this (a leave is skipped) nor rise above `maxDaemons` (a join is). */
  minDaemons?: number;
  maxDaemons?: number;
  /** Gap between two faults, ms. Default 1500–4000. */
  gapMs?: [number, number];
}

export const ALL_KINDS: readonly FaultKind[] = [
  'kill',
  'pause',
  'partition',
  'join',
  'leave',
  'slow-disk',
  'full-disk',
  'skew',
];

const DOWN_MS: Record<FaultKind, [number, number]> = {
  kill: [1_000, 5_000],
  pause: [11_000, 14_000], // > downAfterMs (10 s): the others mark it down, then it wakes up
  partition: [4_000, 10_000],
  join: [6_000, 10_000],
  leave: [6_000, 10_000],
  'slow-disk': [4_000, 8_000],
  'full-disk': [3_000, 6_000],
  skew: [5_000, 10_000],
};

export function makeSchedule(seed: number, opts: ScheduleOptions): Fault[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const shuffle = <T>(xs: T[]): T[] => shuffleWith(xs, rnd);
  const min = opts.minDaemons ?? Math.min(3, live0(opts));
  const max = opts.maxDaemons ?? live0(opts) + 2;
  const [gapLo, gapHi] = opts.gapMs ?? [1_500, 4_000];
  const kinds = opts.kinds ?? ALL_KINDS;
  const queue = shuffle([...(opts.require ?? [])]);
  let live = opts.live ? [...opts.live] : Array.from({ length: opts.n }, (_, i) => i);
  let nextSlot = opts.nextSlot ?? opts.n;
  const out: Fault[] = [];
  let at = int(gapLo, gapHi);
  for (let guard = 0; (queue.length > 0 || at < opts.durationMs) && guard < 1000; guard++) {
    let kind = queue.shift() ?? pick(kinds);
    if (kind === 'join' && live.length >= max) kind = 'partition';
    if (kind === 'leave' && live.length <= min) kind = 'partition';
    const downMs = int(...DOWN_MS[kind]);
    if (kind === 'kill' || kind === 'pause') {
      out.push({ at, kind, target: pick(live), downMs });
    } else if (kind === 'slow-disk' || kind === 'full-disk' || kind === 'skew') {
      // slow: 20–300 ms per call; skew: 1–5 s ahead or behind.
      const amount =
        kind === 'slow-disk' ? int(20, 300) : kind === 'skew' ? (rnd() < 0.5 ? -1 : 1) * int(1_000, 5_000) : 0;
      out.push({ at, kind, target: pick(live), downMs, amount });
    } else {
      // A minority of 1 .. floor((n-1)/2) daemons, cut off from the rest.
      const order = shuffle([...live]);
      const k = int(1, Math.max(1, Math.floor((live.length - 1) / 2)));
      const sides: [number[], number[]] = [order.slice(0, k).sort(byNum), order.slice(k).sort(byNum)];
      if (kind === 'join') {
        out.push({ at, kind: 'partition', sides, downMs, member: 'join', target: nextSlot });
        live = [...live, nextSlot++];
      } else if (kind === 'leave') {
        const target = pick(live);
        out.push({ at, kind: 'partition', sides, downMs, member: 'leave', target });
        live = live.filter((s) => s !== target);
      } else {
        out.push({ at, kind: 'partition', sides, downMs });
      }
    }
    at += downMs + int(gapLo, gapHi);
  }
  return out;
}

const byNum = (a: number, b: number) => a - b;
const live0 = (o: ScheduleOptions) => o.live?.length ?? o.n;

/** One line per fault, for logs and failure messages. */
export function formatSchedule(faults: readonly Fault[]): string {
  return faults
    .map((f) => {
      const when = `t=${(f.at / 1000).toFixed(1)}s for ${(f.downMs / 1000).toFixed(1)}s`;
      if (f.kind === 'kill' || f.kind === 'pause')
        return `${when}: ${f.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP'} daemon ${f.target}`;
      if (f.kind === 'slow-disk') return `${when}: slow store on daemon ${f.target} (${f.amount} ms per call)`;
      if (f.kind === 'full-disk') return `${when}: full store on daemon ${f.target} (writes fail, ENOSPC)`;
      if (f.kind === 'skew')
        return `${when}: HLC of daemon ${f.target} ${f.amount > 0 ? 'ahead' : 'behind'} by ${Math.abs(f.amount)} ms`;
      const cut = `partition {${f.sides[0].join(',')}}|{${f.sides[1].join(',')}}`;
      return `${when}: ${cut}${f.member ? `, ${f.member} of daemon ${f.target} during it` : ''}`;
    })
    .join('\n');
}

/** Milliseconds from the start until the last fault is healed. */
export const scheduleEnd = (faults: readonly Fault[]) => Math.max(0, ...faults.map((f) => f.at + f.downMs));
