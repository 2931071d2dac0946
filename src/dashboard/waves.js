/**
 * The waves timeline of the Migrations panel: every wave among the moves seen (the cluster's), newest
 * first, with its progress (each move's step: planned → copying → committed → ended), the bytes it moved,
 * and its outcome.
 */
import { fmtBytes, fmtMs, fmtTime, h, progressBar } from './dom.js';

/** How far a move is, in the mover's steps (an end state is the last, whatever it is). */
const STEP = { planned: 0, copying: 1, committed: 2, done: 3, failed: 3, undone: 3 };
const STEPS = 3;
const WAVES_SHOWN = 20;

/** 0..1 of a move's steps done. */
export const moveProgress = (m) => (STEP[m.state] ?? 0) / STEPS;

/** Per wave: its moves' counts by outcome, bytes, times and coordinators. */
export function summariseWaves(moves) {
  const by = new Map();
  for (const m of moves) {
    let w = by.get(m.wave);
    if (w === undefined) {
      w = {
        wave: m.wave,
        origin: m.origin,
        coordinators: new Set(),
        moves: 0,
        done: 0,
        failed: 0,
        undone: 0,
        inFlight: 0,
        steps: 0,
        bytes: 0,
        bytesMoved: 0,
        startedAt: m.startedAt,
        endedAt: 0,
      };
      by.set(m.wave, w);
    }
    w.moves++;
    w.steps += moveProgress(m);
    w.bytes += m.bytes;
    if (m.coordinator) w.coordinators.add(m.coordinator);
    w.startedAt = Math.min(w.startedAt, m.startedAt);
    if (m.state === 'done' || m.state === 'failed' || m.state === 'undone') {
      w[m.state]++;
      w.endedAt = Math.max(w.endedAt, m.endedAt ?? m.startedAt);
      if (m.state === 'done') w.bytesMoved += m.bytes;
    } else w.inFlight++;
  }
  return [...by.values()].sort((a, b) => b.startedAt - a.startedAt || (a.wave < b.wave ? -1 : 1));
}

/** `in flight`, `done`, `failed` (none done), `undone`, or `partly failed`. */
export function outcome(w) {
  if (w.inFlight > 0) return 'in flight';
  if (w.done === w.moves) return 'done';
  if (w.failed === w.moves) return 'failed';
  if (w.undone === w.moves) return 'undone';
  return 'partly failed';
}

const OUTCOME_CLASS = {
  'in flight': 'copying',
  done: 'done',
  failed: 'failed',
  undone: 'undone',
  'partly failed': 'failed',
};

const counts = (w) =>
  [
    w.done && `${w.done} done`,
    w.failed && `${w.failed} failed`,
    w.undone && `${w.undone} undone`,
    w.inFlight && `${w.inFlight} in flight`,
  ]
    .filter(Boolean)
    .join(', ');

/** The timeline table; `label` names a peer id (zone and short id). */
export function wavesTable(moves, label) {
  const rows = summariseWaves(moves).slice(0, WAVES_SHOWN);
  const now = Date.now();
  return h(
    'table',
    { class: 'waves' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['wave', 'origin', 'coordinator', 'started', 'took', 'moves', 'progress', 'bytes moved', 'outcome'].map((c) =>
          h('th', { class: c === 'bytes moved' || c === 'took' ? 'num' : undefined }, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((w) => {
        const o = outcome(w);
        const progress = w.moves === 0 ? 0 : w.steps / w.moves;
        return h(
          'tr',
          { 'data-wave': w.wave, 'data-outcome': o, 'data-moves': w.moves },
          h('td', { class: 'mono' }, w.wave),
          h('td', {}, w.origin),
          h('td', { class: 'mono' }, [...w.coordinators].map(label).join(', ') || '–'),
          h('td', {}, fmtTime(w.startedAt)),
          h('td', { class: 'num' }, fmtMs((w.inFlight > 0 ? now : w.endedAt) - w.startedAt)),
          h('td', {}, `${w.moves}: ${counts(w)}`),
          h('td', {}, progressBar(progress, `${Math.round(progress * 100)} % of the steps`)),
          h('td', { class: 'num' }, `${fmtBytes(w.bytesMoved)} of ${fmtBytes(w.bytes)}`),
          h('td', {}, h('span', { class: `state ${OUTCOME_CLASS[o]}` }, o)),
        );
      }),
    ),
  );
}
