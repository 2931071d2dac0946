/** The cluster map: daemons grouped by zone, with health, store kind, ring share, storage used and round trip. */
import { fill, fmtAgo, fmtBytes, fmtMs, h, progressBar, shortId } from './dom.js';

/**
 * @param body the panel's body element
 * @param data `{ status, peers, ring }` from `/admin/status`, `/admin/peers`, `/admin/ring`
 */
export function renderCluster(body, { status, peers, ring }) {
  const members = peers.members ?? [];
  const share = new Map((ring?.members ?? []).map((m) => [m.id, m]));
  const byZone = new Map();
  for (const m of members) {
    if (!byZone.has(m.zone)) byZone.set(m.zone, []);
    byZone.get(m.zone).push(m);
  }
  const zones = [...byZone.keys()].sort();
  const counts = { up: 0, suspect: 0, down: 0 };
  for (const m of members) counts[m.status] = (counts[m.status] ?? 0) + 1;

  const facts = h(
    'p',
    { class: 'muted' },
    `${members.length} daemon${members.length === 1 ? '' : 's'} in ${zones.length} zone${zones.length === 1 ? '' : 's'} · `,
    h('span', { class: 'badge up' }, `${counts.up} up`),
    ' ',
    counts.suspect ? h('span', { class: 'badge suspect' }, `${counts.suspect} suspect`) : null,
    ' ',
    counts.down ? h('span', { class: 'badge down' }, `${counts.down} down`) : null,
    ` · cluster epoch ${status.epoch}`,
    ring ? ` · ${ring.partitions} partitions, R=${ring.replicas}` : null,
    ring?.underReplicated ? h('span', { class: 'badge down' }, ` ${ring.underReplicated} under-replicated`) : null,
    ring?.zoneCollisions ? h('span', { class: 'badge suspect' }, ` ${ring.zoneCollisions} zone collisions`) : null,
  );

  const grid = h(
    'div',
    { class: 'zones' },
    zones.map((z) =>
      h(
        'div',
        { class: 'zone', 'data-zone': z },
        h('h3', {}, `zone ${z}`),
        byZone
          .get(z)
          .sort((a, b) => (a.peerId < b.peerId ? -1 : 1))
          .map((m) => daemonTile(m, share.get(m.peerId), status.epoch)),
      ),
    ),
  );
  fill(body, facts, grid);
}

/**
 * Where a member serves its dashboard: its admin URL (its `--admin-port` listener), else, for a daemon
 * that predates that field, its API URL. Only http(s): a member's record must not put a `javascript:`
 * link on the page.
 */
export function dashboardUrl(m) {
  const base = m.adminUrl ?? m.apiUrl;
  if (typeof base !== 'string') return undefined;
  try {
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  } catch {
    return undefined;
  }
  return `${base.replace(/\/+$/, '')}/dashboard/`;
}

/**
 * Storage used of the limit the member announces (`usedBytes`, `limitBytes`), with a bar when it has a
 * limit; `null` when it announces neither (a backend that cannot tell, no limit).
 */
function capacity(m) {
  if (m.usedBytes === undefined && m.limitBytes === undefined) return null;
  const used = m.usedBytes === undefined ? '?' : fmtBytes(m.usedBytes);
  if (m.limitBytes === undefined)
    return h('div', { class: 'meta', 'data-used': m.usedBytes }, `${used} used · no limit`);
  const share = m.usedBytes === undefined || m.limitBytes === 0 ? 0 : Math.min(1, m.usedBytes / m.limitBytes);
  return h(
    'div',
    { class: `meta${share >= 0.9 ? ' error' : ''}`, 'data-used': m.usedBytes, 'data-limit': m.limitBytes },
    `${used} of ${fmtBytes(m.limitBytes)} used `,
    progressBar(share, `${Math.round(share * 100)} % of its --storage-limit-mb`),
  );
}

const host = (url) => url.replace(/^https?:\/\//, '');

function daemonTile(m, share, epoch) {
  // Each daemon serves its own dashboard (its own DSM controls); the token is asked there again.
  const href = m.self ? undefined : dashboardUrl(m);
  return h(
    href ? 'a' : 'div',
    { class: 'daemon', 'data-peer': m.peerId, 'data-status': m.status, href, title: m.peerId },
    h(
      'div',
      {},
      h('span', { class: 'id' }, shortId(m.peerId)),
      ' ',
      h('span', { class: `badge ${m.status}` }, m.status),
      m.self ? h('span', { class: 'badge' }, 'this daemon') : null,
      m.leaving ? h('span', { class: 'badge suspect' }, 'leaving') : null,
    ),
    h(
      'div',
      { class: 'meta' },
      `${m.storeKind ?? '?'} store`,
      m.self ? ` · epoch ${epoch}` : null,
      share ? ` · ${share.primaries} primaries, ${share.replicas} replicas` : null,
    ),
    capacity(m),
    h(
      'div',
      { class: 'meta' },
      m.self ? 'self' : `rtt ${fmtMs(m.rttMs)} · seen ${fmtAgo(m.lastSeen)}`,
      m.apiUrl ? ` · ${host(m.apiUrl)}` : null,
      m.adminUrl && m.adminUrl !== m.apiUrl ? ` · admin ${host(m.adminUrl)}` : null,
    ),
  );
}
