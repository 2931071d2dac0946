/** `shoal replay`'s summary for people (the command's default output, and the demo's). */
import type { ReplaySummary } from './run.ts';
import { movesText, zoneTable } from './summary.ts';

/** The summary for people. */
export function renderReplay(s: ReplaySummary): string {
  const daemons = s.cluster.daemons.map((d) => `${d.url} (${d.zone}, ${d.requests} requests)`).join(', ');
  const origins = Object.entries(s.originZones);
  const shown = origins
    .slice(0, 8)
    .map(([o, z]) => `${o} → ${z}`)
    .join(', ');
  return (
    `replayed ${s.sent} of ${s.rows} rows of ${s.trace} (${s.keys} keys, ${(s.traceSpanMs / 1000).toFixed(0)} s of trace) ` +
    `in ${(s.durationMs / 1000).toFixed(1)} s at ×${s.speedup}, level ${s.level}; stopped by ${s.stoppedBy}\n` +
    `daemons: ${daemons}\norigins → zones: ${shown}${origins.length > 8 ? `, … (${origins.length} origins)` : ''}\n` +
    `preload: ${s.preload.keys} keys in ${(s.preload.ms / 1000).toFixed(1)} s, ${s.preload.errors} errors\n` +
    zoneTable(s.zones, s.total) +
    movesText(s.moves) +
    `schedule lag: p50 ${s.lag.p50Ms} ms, p99 ${s.lag.p99Ms} ms, max ${s.lag.maxMs} ms` +
    `${s.aborted ? `; ${s.aborted} requests cut off` : ''}${s.placementUnknown ? `; ${s.placementUnknown} keys of unknown placement` : ''}\n`
  );
}
