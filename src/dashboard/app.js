/**
 * The dashboard's entry point: asks for the admin token if the API wants one, then polls the admin API
 * every 2 s (one request per panel, in parallel; the next poll starts when this one ended) and renders
 * each panel from its own answer, so one failing route leaves the others live.
 */
import { ApiError, AuthError, api, token } from './api.js';
import { renderCluster } from './cluster.js';
import { renderDsm, renderPae } from './controls.js';
import { fill, fmtTime, h, shortId } from './dom.js';
import { renderHeatmap } from './heatmap.js';
import { renderLayout } from './layout.js';
import { MigrationsPanel } from './migrations.js';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
const panel = (id) => $(id).querySelector('.body');

let timer;
let zones = [];
let zoneOf = new Map();
const migrations = new MigrationsPanel($('moves-chart'), panel('migrations'));

const label = (peerId) => (zoneOf.has(peerId) ? `${zoneOf.get(peerId)}:${shortId(peerId)}` : shortId(peerId));

function showError(body, err) {
  fill(body, h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
}

function setConn(state, text) {
  $('conn').dataset.state = state;
  $('conn').textContent = text;
}

function showLogin(err) {
  clearTimeout(timer);
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-why').textContent =
    err.status === 403 && !token.get()
      ? 'This daemon has no admin token configured and answers its admin API only on loopback. If it has one, enter it:'
      : token.get()
        ? 'The stored admin token was refused. Enter it again:'
        : "This daemon's admin API needs its token.";
  setConn('error', err.code ?? 'unauthorized');
  $('token').focus();
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token.set($('token').value.trim());
  $('token').value = '';
  void start();
});

/** Observed accesses per zone (`'*'`: all zones) over 15 min, as `Map<zone, Map<key, total>>`. */
async function observed() {
  const q = (zone) => api(`/admin/stats/top?limit=100&window=15m${zone ? `&zone=${encodeURIComponent(zone)}` : ''}`);
  const [all, ...perZone] = await Promise.all([q(), ...zones.map(q)]);
  const out = new Map([['*', new Map(all.records.map((r) => [r.key, r.total]))]]);
  zones.forEach((z, i) => {
    out.set(z, new Map(perZone[i].records.map((r) => [r.key, r.total])));
  });
  return out;
}

async function tick() {
  const calls = {
    status: api('/admin/status'),
    peers: api('/admin/peers'),
    ring: api('/admin/ring'),
    heatmap: api('/admin/heatmap?limit=20'),
    observed: observed(),
    model: api('/admin/pae/model'),
    dsm: api('/admin/dsm'),
    // Every member's moves: each daemon records only those it coordinated (node/cluster-migrations.ts).
    migrations: api('/admin/migrations?scope=cluster&limit=100'),
    epochs: api('/admin/layout/epochs?scope=all&limit=50'),
  };
  const names = Object.keys(calls);
  const settled = await Promise.allSettled(Object.values(calls));
  const r = Object.fromEntries(names.map((n, i) => [n, settled[i]]));
  const auth = settled.find((s) => s.status === 'rejected' && s.reason instanceof AuthError);
  if (auth) return showLogin(auth.reason);
  const ok = (n) => r[n].status === 'fulfilled';
  const val = (n) => r[n].value;

  if (ok('peers')) {
    const members = val('peers').members ?? [];
    zoneOf = new Map(members.map((m) => [m.peerId, m.zone]));
    zones = [...new Set(members.map((m) => m.zone))].sort();
  }
  if (ok('status')) {
    const s = val('status');
    fill(
      $('summary'),
      `daemon ${shortId(s.peerId)} · zone ${s.zone} · ${s.store} store · v${s.version} · epoch ${s.epoch}`,
    );
  }
  if (ok('status') && ok('peers'))
    renderCluster(panel('cluster'), {
      status: val('status'),
      peers: val('peers'),
      ring: ok('ring') ? val('ring') : undefined,
    });
  else showError(panel('cluster'), r.status.reason ?? r.peers.reason);
  if (ok('heatmap'))
    renderHeatmap(panel('heatmap'), {
      heatmap: val('heatmap'),
      observed: ok('observed') ? val('observed') : new Map(),
      zones,
    });
  else showError(panel('heatmap'), r.heatmap.reason);
  if (ok('migrations')) migrations.render(val('migrations'), label);
  else showError(panel('migrations'), r.migrations.reason);
  if (ok('epochs'))
    renderLayout(panel('layout'), val('epochs'), label, confirmRollback, ok('dsm') ? val('dsm').guard : undefined);
  else showError(panel('layout'), r.epochs.reason);
  if (ok('model')) renderPae(panel('pae'), val('model'));
  else showError(panel('pae'), r.model.reason);
  if (ok('dsm')) dsmState(val('dsm'));
  else showError(panel('dsm'), r.dsm.reason);

  const failed = settled.filter((s) => s.status === 'rejected').length;
  setConn(
    failed === 0 ? 'ok' : 'error',
    `${failed === 0 ? 'live' : `${failed} requests failed`} · ${fmtTime(Date.now())}`,
  );
  document.body.dataset.ticks = String(Number(document.body.dataset.ticks ?? 0) + 1);
}

async function loop() {
  try {
    await tick();
  } catch (err) {
    setConn('error', err.message);
  }
  if (!$('main').hidden) timer = setTimeout(loop, POLL_MS);
}

async function start() {
  clearTimeout(timer);
  try {
    await api('/admin/status');
  } catch (err) {
    if (err instanceof AuthError) return showLogin(err);
    setConn('error', `daemon unreachable: ${err.message}`);
    timer = setTimeout(start, POLL_MS);
    return;
  }
  // The zones first: the heatmap's observed shares are asked per zone from the first poll on.
  await api('/admin/peers')
    .then((p) => {
      zones = [...new Set((p.members ?? []).map((m) => m.zone))].sort();
    })
    .catch(() => undefined);
  $('login').hidden = true;
  $('main').hidden = false;
  await loop();
}

// DSM controls: the select follows the daemon unless the operator is using it.
function dsmState(s) {
  renderDsm(panel('dsm'), s);
  if (document.activeElement !== $('dsm-policy')) $('dsm-policy').value = s.policy;
  $('dsm-toggle').textContent = s.paused ? 'Resume' : 'Pause';
  $('dsm-toggle').dataset.paused = String(s.paused);
}

async function act(fn) {
  try {
    dsmState(await fn());
  } catch (err) {
    if (err instanceof AuthError) return showLogin(err);
    showError(panel('dsm'), err);
  }
}

$('dsm-policy').addEventListener('change', () =>
  act(() => api('/admin/dsm/policy?scope=cluster', { method: 'PUT', body: { policy: $('dsm-policy').value } })),
);
$('dsm-toggle').addEventListener('click', () =>
  act(() =>
    api(`/admin/dsm/${$('dsm-toggle').dataset.paused === 'true' ? 'resume' : 'pause'}?scope=cluster`, {
      method: 'POST',
    }),
  ),
);

// Rollback of one wave, after a confirmation dialog.
function confirmRollback(wave) {
  const dialog = $('confirm');
  $('confirm-wave').textContent = wave;
  const moves = [...document.querySelectorAll('#migrations table.moves tr[data-wave]')].filter(
    (tr) => tr.dataset.wave === wave,
  );
  $('confirm-text').textContent =
    moves.length > 0
      ? `${moves.length} of its moves ${moves.length === 1 ? 'is' : 'are'} listed under Migrations.`
      : 'None of its moves is listed under Migrations any more (older than the history kept).';
  dialog.returnValue = '';
  dialog.onclose = () => {
    if (dialog.returnValue === 'ok') void rollback(wave);
  };
  dialog.showModal();
}

async function rollback(wave) {
  const note = $('rollback-result');
  note.hidden = false;
  note.className = 'notice';
  note.textContent = `Rolling back wave ${wave}…`;
  try {
    const res = await api('/admin/layout/rollback', { method: 'POST', body: { wave }, timeoutMs: 35_000 });
    note.dataset.rollbackId = res.rollbackId;
    note.textContent = `Rollback ${res.rollbackId} started: ${res.records} record${res.records === 1 ? '' : 's'} moving back to where wave ${wave} found them. The DSM is paused.`;
  } catch (err) {
    if (err instanceof AuthError) return showLogin(err);
    note.className = 'notice error';
    note.textContent = `Rollback of ${wave} failed: ${err instanceof ApiError ? err.message : String(err)}`;
  }
}

void start();
