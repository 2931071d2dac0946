/**
 * The heatmap: the hottest records (rows) × origin zones (columns). A cell's colour is the forecast
 * probability that the record's next accesses come from that zone (`/admin/heatmap`); the small figure
 * beneath is the share of its observed accesses from that zone over the last 15 minutes (`/admin/stats/top`).
 */
import { fill, h, pct } from './dom.js';

/** A sequential ramp (inferno-like: dark, purple, orange, yellow); style.css's legend uses the same stops. */
const STOPS = [
  [0, [29, 38, 48]],
  [0.35, [91, 58, 140]],
  [0.7, [217, 84, 30]],
  [1, [252, 226, 90]],
];

/** The colour of probability `p` (0..1). */
export function heatColour(p) {
  const x = Math.max(0, Math.min(1, p));
  let k = 1;
  while (k < STOPS.length - 1 && STOPS[k][0] < x) k++;
  const [x0, c0] = STOPS[k - 1];
  const [x1, c1] = STOPS[k];
  const t = (x - x0) / (x1 - x0);
  const [r, g, b] = c0.map((v, i) => Math.round(v + (c1[i] - v) * t));
  return `rgb(${r} ${g} ${b})`;
}

/**
 * @param data `{ heatmap, observed, zones }`: heatmap records, observed counts as
 *   `Map<zone, Map<key, total>>` plus `'*'` for all zones, and the cluster's zones
 */
export function renderHeatmap(body, { heatmap, observed, zones }) {
  const records = heatmap.records ?? [];
  if (records.length === 0) {
    fill(body, h('p', { class: 'muted' }, 'No forecast yet: the PAE scores records once accesses have been counted.'));
    return;
  }
  const cols = [...new Set([...zones, ...records.flatMap((r) => r.zones.map((z) => z.zone))])].sort();
  const total = observed.get('*') ?? new Map();
  const table = h(
    'table',
    { class: 'heat' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'record'),
        h('th', { class: 'num', title: 'accesses expected over the forecast horizon' }, 'expected'),
        h('th', { class: 'num', title: 'accesses counted over the last 15 min' }, 'observed'),
        cols.map((z) => h('th', { class: 'num' }, z)),
      ),
    ),
    h(
      'tbody',
      {},
      records.map((r) => {
        const byZone = new Map(r.zones.map((z) => [z.zone, z]));
        const seen = total.get(r.key);
        return h(
          'tr',
          { 'data-key': r.key },
          h('td', { class: 'mono' }, r.key),
          h('td', { class: 'num' }, r.expected.toFixed(1)),
          h('td', { class: 'num' }, seen === undefined ? '–' : String(seen)),
          cols.map((z) => {
            const f = byZone.get(z);
            const p = f?.probability ?? 0;
            const obs = observed.get(z)?.get(r.key);
            const share = seen && obs !== undefined ? obs / seen : undefined;
            return h(
              'td',
              {
                class: 'cell',
                'data-zone': z,
                'data-p': p.toFixed(3),
                style: { background: heatColour(p), color: p > 0.6 ? '#111' : '#e6edf3' },
                title: `${r.key} from ${z}: forecast ${pct(p)} (${(f?.expected ?? 0).toFixed(1)} accesses), observed ${share === undefined ? 'none' : pct(share)}`,
              },
              pct(p),
              h('span', { class: 'obs' }, share === undefined ? 'obs –' : `obs ${pct(share)}`),
            );
          }),
        );
      }),
    ),
  );
  const legend = h(
    'div',
    { class: 'legend' },
    '0%',
    h('span', { class: 'ramp' }),
    '100% forecast probability · "obs": share of observed accesses',
  );
  fill(body, h('div', { class: 'scroll' }, table), legend);
}
