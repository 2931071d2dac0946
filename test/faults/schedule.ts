/**
 * Seeded fault schedules: a schedule is data (a list of timed faults), derived from a seed alone (and the
 * options), so a failing run is replayed by its seed and the schedule is printed with the failure.
 *
 * Required kinds come first (in a seeded order), whatever the duration. Faults run one after another (each healed before the next starts), with gaps between them:
 * - `kill`: SIGKILL of a daemon, restarted after `downMs` (same data dir and ports);
 * - `pause`: SIGSTOP of a daemon, SIGCONT after `downMs` (longer than the failure detector's 10 s to `down`);
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

export type FaultKind = 'kill' | 'pause' | 'partition' | 'join' | 'leave';

export type Fault =
  | { at: number; kind: 'kill' | 'pause'; target: number; downMs: number }
  | {
      at: number;
      kind: 'partition';
      sides: [number[], number[]];
      downMs: number;
      member?: 'join' | 'leave';
      target?: number;
    };

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

const DOWN_MS: Record<FaultKind, [number, number]> = {
  kill: [1_000, 5_000],
  pause: [11_000, 14_000], // > downAfterMs (10 s): the others mark it down, then it wakes up
  partition: [4_000, 10_000],
  join: [6_000, 10_000],
  leave: [6_000, 10_000],
};

export function makeSchedule(seed: number, opts: ScheduleOptions): Fault[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const shuffle = <T>(xs: T[]): T[] => shuffleWith(xs, rnd);
  const min = opts.minDaemons ?? Math.min(3, live0(opts));
  const max = opts.maxDaemons ?? live0(opts) + 2;
  const [gapLo, gapHi] = opts.gapMs ?? [1_500, 4_000];
  const kinds = opts.kinds ?? ['kill', 'pause', 'partition', 'join', 'leave'];
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
      if (f.kind !== 'partition') return `${when}: ${f.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP'} daemon ${f.target}`;
      const cut = `partition {${f.sides[0].join(',')}}|{${f.sides[1].join(',')}}`;
      return `${when}: ${cut}${f.member ? `, ${f.member} of daemon ${f.target} during it` : ''}`;
    })
    .join('\n');
}

/** Milliseconds from the start until the last fault is healed. */
export const scheduleEnd = (faults: readonly Fault[]) => Math.max(0, ...faults.map((f) => f.at + f.downMs));
