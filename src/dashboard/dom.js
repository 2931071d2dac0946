/**
 * Small DOM helpers: elements are built with `h()` (text is always set as text, never parsed as HTML, so
 * record keys and peer ids cannot inject markup), and formatters for ids, bytes and times.
 */

/**
 * `h('td', { class: 'x', title: 't' }, 'text', child)`: attributes starting with `on` become listeners,
 * `null`/`undefined`/`false` children and attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces every child of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** The last 6 characters of a libp2p peer id: enough to tell a cluster's daemons apart. */
export const shortId = (id) => (typeof id === 'string' && id.length > 8 ? `…${id.slice(-6)}` : String(id ?? ''));

export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** `12:03:04` local time of a ms timestamp. */
export const fmtTime = (ms) => (typeof ms === 'number' ? new Date(ms).toLocaleTimeString([], { hour12: false }) : '–');

/** `3 s ago`, `5 min ago`. */
export function fmtAgo(ms, now = Date.now()) {
  if (typeof ms !== 'number') return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function fmtMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');

/** A bar filled to `fraction` (0..1); `data-progress` carries the number for tests and tools. */
export const progressBar = (fraction, title) =>
  h(
    'span',
    { class: 'progress', title, 'data-progress': fraction.toFixed(2) },
    h('span', { class: 'fill', style: { width: `${Math.round(fraction * 100)}%` } }),
  );
