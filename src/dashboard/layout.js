/**
 * Layout: the newest signed epochs of every chain (`/admin/layout/epochs?scope=all&limit=50`), newest
 * first, each with its diff, and a "Roll back" button on the newest epoch of each wave that was not
 * itself a rollback. The button asks for confirmation, then calls `POST /admin/layout/rollback {wave}`.
 * Beneath, the guard's judgements of this daemon's waves (`/admin/dsm` `guard`): each wave's latency cost
 * of the demand since, on the new placement and the old, and whether the guard rolled it back.
 */
import { fill, fmtMs, fmtTime, h, shortId } from './dom.js';

/** What an epoch changed, as short coloured fragments. */
function diffOf(change, label) {
  const parts = [];
  for (const m of change.membersAdded ?? [])
    parts.push(h('span', { class: 'add' }, `+member ${shortId(m.id)} (${m.zone}${m.state ? `, ${m.state}` : ''})`));
  for (const id of change.membersRemoved ?? []) parts.push(h('span', { class: 'rm' }, `−member ${shortId(id)}`));
  for (const o of change.overridesSet ?? [])
    parts.push(h('span', { class: 'add' }, `${o.key} → [${o.replicas.map(label).join(', ')}]`));
  for (const k of change.overridesRemoved ?? []) parts.push(h('span', { class: 'rm' }, `${k} → ring`));
  if (change.checkpoint?.length) parts.push(h('span', {}, `checkpoint of ${change.checkpoint.length} chains`));
  if (change.restoreOf !== undefined) parts.push(h('span', {}, `restores #${change.restoreOf}`));
  if (parts.length === 0) return h('span', {}, '(no change)');
  const shown = parts.slice(0, 6);
  if (parts.length > 6) shown.push(h('span', {}, `… ${parts.length - 6} more`));
  return shown.flatMap((p, i) => (i === 0 ? [p] : ['; ', p]));
}

const isRollback = (e) => e.reason?.startsWith('rollback ');

/** The guard's judgements (newest first), or why there are none. */
function guardEvents(guard) {
  if (guard === undefined) return null;
  const title = h('h3', {}, 'Guard events ', h('small', {}, "this daemon's waves"));
  if (!guard.enabled) return [title, h('p', { class: 'muted' }, 'The guard is off (--dsm-guard off).')];
  const waiting = `${guard.pending} wave${guard.pending === 1 ? '' : 's'} waiting for judgement (window ${fmtMs(guard.windowMs)}, margin ${Math.round(guard.margin * 100)} %).`;
  if (guard.events.length === 0) return [title, h('p', { class: 'muted' }, `No judgements yet; ${waiting}`)];
  return [
    title,
    h('p', { class: 'muted' }, waiting),
    h(
      'table',
      { class: 'guard' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['time', 'wave', 'records', 'cost new', 'cost old', 'verdict'].map((c) =>
            h('th', { class: c.startsWith('cost') || c === 'records' ? 'num' : undefined }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        guard.events.map((g) =>
          h(
            'tr',
            { 'data-wave': g.wave, 'data-rolled-back': String(g.rolledBack) },
            h('td', {}, fmtTime(g.at)),
            h('td', { class: 'mono' }, g.wave),
            h('td', { class: 'num' }, String(g.records)),
            h('td', { class: 'num' }, fmtMs(g.costNewMs)),
            h('td', { class: 'num' }, fmtMs(g.costOldMs)),
            h(
              'td',
              {},
              g.rolledBack
                ? h('span', { class: 'state failed' }, `rolled back${g.rollbackId ? ` (${g.rollbackId})` : ''}`)
                : h('span', { class: 'state done' }, 'kept'),
            ),
          ),
        ),
      ),
    ),
  ];
}

/**
 * @param data `{ epochs }` from the epochs route
 * @param label peer id → display label
 * @param onRollback called with a wave id once the operator clicked its button
 * @param guard `guard` of `/admin/dsm` (undefined when that route failed)
 */
export function renderLayout(body, { epochs }, label, onRollback, guard) {
  const newest = [...(epochs ?? [])].reverse();
  if (newest.length === 0) {
    fill(body, h('p', { class: 'muted' }, 'No epochs yet.'), guardEvents(guard));
    return;
  }
  const buttonFor = new Set();
  const seenWaves = new Set();
  // Waves a rollback already undid (its epochs' reason says `rollback <id>: undo wave <wave>`).
  const undone = new Map();
  for (const e of newest) {
    const m = /^rollback (\S+): undo wave (\S+)$/.exec(e.reason ?? '');
    if (m && !undone.has(m[2])) undone.set(m[2], m[1]);
  }
  for (const e of newest) {
    if (e.wave === undefined || seenWaves.has(e.wave)) continue;
    seenWaves.add(e.wave);
    if (!isRollback(e)) buttonFor.add(e);
  }
  const table = h(
    'table',
    { class: 'epochs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['time', 'scope', '#', 'reason', 'wave', 'change', 'signer', ''].map((c) => h('th', {}, c)),
      ),
    ),
    h(
      'tbody',
      {},
      newest.map((e) =>
        h(
          'tr',
          { 'data-scope': e.scope, 'data-wave': e.wave, title: `hash ${e.hash}\nparent ${e.parent}` },
          h('td', {}, fmtTime(e.ts)),
          h('td', { class: 'mono' }, e.scope),
          h('td', { class: 'num' }, String(e.number)),
          h('td', {}, e.reason),
          h('td', { class: 'mono' }, e.wave ?? ''),
          h('td', { class: 'diff' }, diffOf(e.change ?? {}, label)),
          h('td', { class: 'mono' }, shortId(e.signer)),
          h(
            'td',
            {},
            buttonFor.has(e) && undone.has(e.wave)
              ? h('span', { class: 'muted', title: `rolled back by ${undone.get(e.wave)}` }, 'rolled back')
              : buttonFor.has(e)
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'small danger rollback',
                      'data-wave': e.wave,
                      onclick: () => onRollback(e.wave),
                    },
                    'Roll back',
                  )
                : null,
          ),
        ),
      ),
    ),
  );
  fill(body, h('div', { class: 'scroll' }, table), guardEvents(guard));
}
