/**
 * Migrations: the cluster's moves (`/admin/migrations?scope=cluster`: every member's, each with the daemon
 * that coordinated it), as a timeline of waves (waves.js), the moves in flight and the recent history, and
 * a uPlot chart of moves started (and failed) per 10 s over the last 10 minutes. Moves are remembered
 * across polls, so the chart and the waves keep what has fallen out of the route's history window. uPlot
 * is imported when first needed, so a daemon without it (a partial install) still shows the rest of the page.
 */

import { fill, fmtBytes, fmtMs, fmtTime, h, progressBar } from './dom.js';
import { moveProgress, wavesTable } from './waves.js';

/** The uPlot class once loaded; null when this daemon does not serve it. */
let uPlot;
let loading;
const loadUplot = () => {
  loading ??= import('./vendor/uplot/uPlot.esm.js').then(
    (m) => {
      uPlot = m.default;
    },
    () => {
      uPlot = null;
    },
  );
  return loading;
};

const BUCKET_S = 10;
const SPAN_S = 600;
const REMEMBER = 5000;

/** `12:03` (or `12:03:30` off the minute): axis ticks without uPlot's date line. */
const fmtClock = (ms) => {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return d.getSeconds() === 0 ? hm : `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
};

/** Whose moves these are: `moves of 3 of 3 daemons`, naming any that did not answer. */
function daemonsNote(daemons, label) {
  if (daemons === undefined) return h('p', { class: 'muted' }, "This daemon's moves.");
  const missing = daemons.filter((d) => !d.answered);
  return h(
    'p',
    {
      class: missing.length ? 'error' : 'muted',
      'data-answered': daemons.length - missing.length,
      'data-daemons': daemons.length,
    },
    `Moves of ${daemons.length - missing.length} of ${daemons.length} daemons`,
    missing.length
      ? `; missing: ${missing.map((d) => `${label(d.peerId)} (${d.error ?? 'no answer'})`).join(', ')}`
      : '',
    '.',
  );
}

export class MigrationsPanel {
  /** Every move seen, by id (latest state wins). */
  #seen = new Map();
  #plot;
  #chartEl;
  #body;

  constructor(chartEl, body) {
    this.#chartEl = chartEl;
    this.#body = body;
  }

  /**
   * @param answer `/admin/migrations?scope=cluster` (or a daemon's own, without `daemons`)
   * @param label turns a peer id into what the table shows (zone and short id)
   */
  render({ inFlight, history, daemons }, label) {
    for (const m of [...history, ...inFlight]) this.#seen.set(m.id, m);
    if (this.#seen.size > REMEMBER) {
      const oldest = [...this.#seen.values()].sort((a, b) => a.startedAt - b.startedAt);
      for (const m of oldest.slice(0, this.#seen.size - REMEMBER)) this.#seen.delete(m.id);
    }
    this.#chart();
    const rows = [...inFlight, ...history];
    const sources = daemonsNote(daemons, label);
    if (rows.length === 0) {
      fill(this.#body, sources, h('p', { class: 'muted' }, 'No moves yet.'));
      return;
    }
    const ids = (xs) => xs.map(label).join(', ');
    const table = h(
      'table',
      { class: 'moves' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['key', 'kind', 'from → to', 'state', 'origin', 'bytes', 'wave', 'coordinator', 'started', 'took'].map((c) =>
            h('th', { class: c === 'bytes' || c === 'took' ? 'num' : undefined }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((m) =>
          h(
            'tr',
            {
              'data-key': m.key,
              'data-state': m.state,
              'data-wave': m.wave,
              'data-coordinator': m.coordinator,
              title: m.error ?? m.reason,
            },
            h('td', { class: 'mono' }, m.key),
            h('td', {}, m.kind),
            h('td', { class: 'mono' }, `${ids(m.from)} → ${ids(m.to)}`),
            h(
              'td',
              {},
              h('span', { class: `state ${m.state}` }, m.state),
              m.endedAt ? null : progressBar(moveProgress(m), 'planned → copying → committed → done'),
            ),
            h('td', {}, m.origin),
            h('td', { class: 'num' }, fmtBytes(m.bytes)),
            h('td', { class: 'mono' }, m.wave),
            h('td', { class: 'mono' }, m.coordinator ? label(m.coordinator) : '–'),
            h('td', {}, fmtTime(m.startedAt)),
            h('td', { class: 'num' }, m.endedAt ? fmtMs(m.endedAt - m.startedAt) : 'in flight'),
          ),
        ),
      ),
    );
    fill(
      this.#body,
      sources,
      h('h3', {}, 'Waves'),
      h('div', { class: 'scroll short' }, wavesTable([...this.#seen.values()], label)),
      h('h3', {}, `Moves: ${inFlight.length} in flight · ${history.length} recent`),
      h('div', { class: 'scroll' }, table),
    );
  }

  #chart() {
    const now = Math.floor(Date.now() / 1000);
    const end = now - (now % BUCKET_S) + BUCKET_S;
    const start = end - SPAN_S;
    const n = SPAN_S / BUCKET_S;
    const xs = Array.from({ length: n }, (_, i) => start + i * BUCKET_S);
    const started = new Array(n).fill(0);
    const failed = new Array(n).fill(0);
    for (const m of this.#seen.values()) {
      const i = Math.floor((m.startedAt / 1000 - start) / BUCKET_S);
      if (i < 0 || i >= n) continue;
      started[i]++;
      if (m.state === 'failed') failed[i]++;
    }
    const data = [xs, started, failed];
    if (uPlot === undefined) {
      void loadUplot().then(() => this.#chart());
      return;
    }
    if (uPlot === null) {
      fill(this.#chartEl, h('p', { class: 'muted' }, 'Chart unavailable: this daemon does not serve uPlot.'));
      return;
    }
    if (this.#plot === undefined) {
      const bars = uPlot.paths.bars({ size: [0.8, 40] });
      this.#plot = new uPlot(
        {
          width: Math.max(300, this.#chartEl.clientWidth),
          height: 180,
          cursor: { drag: { x: false, y: false } },
          scales: {
            // Half a bucket of room on each side, so the first and the current bucket's bars show whole.
            x: { time: true, range: (u) => [u.data[0][0] - BUCKET_S / 2, u.data[0][n - 1] + BUCKET_S / 2] },
            y: { range: (_u, _min, max) => [0, Math.max(2, max + 1)] },
          },
          axes: [
            {
              stroke: '#8a96a3',
              grid: { stroke: '#2a3440' },
              space: 70,
              values: (_u, splits) => splits.map((s) => fmtClock(s * 1000)),
            },
            { stroke: '#8a96a3', grid: { stroke: '#2a3440' }, label: 'moves / 10 s' },
          ],
          series: [
            {},
            {
              label: 'started',
              stroke: '#58a6ff',
              fill: 'rgba(88,166,255,0.45)',
              paths: bars,
              points: { show: false },
            },
            { label: 'failed', stroke: '#f85149', fill: 'rgba(248,81,73,0.7)', paths: bars, points: { show: false } },
          ],
        },
        data,
        this.#chartEl,
      );
      new ResizeObserver(() => {
        const w = this.#chartEl.clientWidth;
        if (w > 0) this.#plot.setSize({ width: w, height: 180 });
      }).observe(this.#chartEl);
    } else {
      this.#plot.setData(data);
    }
  }
}
