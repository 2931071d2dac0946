/** The PAE's model and accuracy, and this daemon's DSM status (its policy and pause controls live in index.html). */
import { fill, fmtAgo, fmtMs, h, pct } from './dom.js';

const kv = (pairs) =>
  h(
    'dl',
    { class: 'kv' },
    pairs.filter(([, v]) => v !== undefined && v !== null).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );

/** A few of the model's eval metrics: the numeric ones, at most six. */
function metricsOf(metrics) {
  return Object.entries(metrics ?? {})
    .filter(([, v]) => typeof v === 'number')
    .slice(0, 6)
    .map(([k, v]) => [k, Number.isInteger(v) ? String(v) : v.toFixed(3)]);
}

const wape = (x) => (typeof x === 'number' ? x.toFixed(3) : '–');

/**
 * The model's offline evaluation against the baselines (`metrics.traces` of its eval file, written by
 * `shoal pae eval`): WAPE of the model, of EWMA and of the best baseline per trace (lower is better), and
 * precision@1 %. The daemon measures only the model it runs live (the accuracy table beneath).
 */
function evalTable(metrics) {
  const traces = Object.entries(metrics?.traces ?? {}).filter(([, t]) => typeof t?.wape === 'number');
  if (traces.length === 0) return null;
  return [
    h('h3', { title: metrics.evaluatedWith ?? '' }, 'Offline accuracy against the baselines (WAPE, lower is better)'),
    h(
      'table',
      { class: 'eval' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['trace', 'this model', 'EWMA', 'best baseline', 'precision@1%'].map((c, i) =>
            h('th', { class: i > 0 ? 'num' : undefined }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        traces.map(([name, t]) =>
          h(
            'tr',
            { 'data-trace': name },
            h('td', { class: 'mono' }, name),
            h('td', { class: 'num' }, h('strong', {}, wape(t.wape))),
            h('td', { class: 'num' }, wape(t.ewmaWape)),
            h('td', { class: 'num' }, `${wape(t.bestBaselineWape)}${t.bestBaseline ? ` (${t.bestBaseline})` : ''}`),
            h('td', { class: 'num' }, pct(t.precisionAtK)),
          ),
        ),
      ),
    ),
  ];
}

export function renderPae(body, model) {
  const zones = Object.entries(model.accuracy?.zones ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  fill(
    body,
    kv([
      ['model', h('span', {}, h('strong', {}, model.name), ` (${model.kind})`)],
      ['fallback', model.fallbackReason ? h('span', { class: 'error' }, model.fallbackReason) : undefined],
      ['horizon', `${model.horizonBuckets} buckets${model.bucketMs ? ` of ${fmtMs(model.bucketMs)}` : ''}`],
      ['last run', model.lastRunAt ? `${fmtAgo(model.lastRunAt)} (${fmtMs(model.lastRunMs)})` : 'not yet'],
      ['rows scored', String(model.rowsScored)],
      [
        'latency',
        model.latency?.configured
          ? 'configured matrix'
          : `measured: ${model.latency?.measuredZones?.join(', ') || 'none'}`,
      ],
      ...metricsOf(model.metrics),
    ]),
    evalTable(model.metrics),
    h(
      'h3',
      { title: '1 − WAPE of the recent forecasts against what was then observed' },
      'Measured accuracy by origin zone (1 − WAPE)',
    ),
    zones.length === 0
      ? h('p', { class: 'muted' }, 'Not scored yet (needs a closed forecast window).')
      : h(
          'table',
          { class: 'accuracy' },
          h(
            'tbody',
            {},
            zones.map(([z, a]) =>
              h(
                'tr',
                {},
                h('td', {}, z),
                h('td', {}, h('span', { class: 'bar', style: { width: `${Math.round(a * 8)}rem` } }), pct(a)),
              ),
            ),
          ),
        ),
    h('p', { class: 'muted' }, `${model.accuracy?.windows ?? 0} windows scored over ${model.accuracy?.keys ?? 0} keys`),
  );
}

export function renderDsm(body, s) {
  const c = s.lastCycle;
  fill(
    body,
    kv([
      [
        'state',
        s.paused ? h('span', { class: 'badge suspect' }, 'paused') : h('span', { class: 'badge up' }, 'running'),
      ],
      ['policy', s.policy],
      ['interval', fmtMs(s.intervalMs)],
      ['survive', s.survive],
      ['limits', `${s.maxMoves} moves/cycle, ${s.maxMbps} MB/s, threshold ${fmtMs(s.thresholdMs)}`],
      ['partitions', `${s.partitionsPlanned} planned here · ${s.overridesHeld} overrides held`],
      [
        'last cycle',
        c
          ? `${fmtAgo(c.startedAt)}: ${c.considered} considered, ${c.planned} planned${c.wave ? `, wave ${c.wave} (${c.done ?? 0} done, ${c.failed ?? 0} failed)` : ''}${c.error ? ` — ${c.error}` : ''}`
          : 'none yet',
      ],
      ['next cycle', s.nextCycleAt ? `in ${fmtMs(Math.max(0, s.nextCycleAt - Date.now()))}` : '–'],
    ]),
  );
}
