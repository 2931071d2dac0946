/**
 * `shoal replay --trace <csv> [--cluster <url,...>] [--speedup <x>] ...`: replays a trace in the shared format
 * against a live cluster, each request through a daemon of its origin's zone, on the trace's clock divided by
 * `--speedup`, and reports latency (HDR histograms), errors, the remote-served share per zone and what the DSM
 * moved meanwhile. The engine is `node/replay/` (also used by `npm run demo`); this file parses and prints.
 */
import { existsSync, statSync } from 'node:fs';
import { ShoalError } from '../../src/errors/index.ts';
import type { Consistency } from '../../src/replication/engine.ts';
import { loadZoneMapping, type ZoneMapper } from '../../src/stats/trace.ts';
import { AdminRefusal, AdminUnreachable, adminTarget } from '../admin-client.ts';
import { replayBars } from '../replay/bars.ts';
import { renderReplay } from '../replay/render.ts';
import { ReplayInputError, type ReplaySummary, runReplay } from '../replay/run.ts';
import { parseCommand, UsageError } from './dsm.ts';

const USAGE = `usage:
  shoal replay --trace <csv[.gz]> [--cluster <url,...>] [--speedup 1] [--limit 10000] [--duration 600]
               [--concurrency 64] [--level one|quorum|all|linearizable] [--zones <mapping.json>]
               [--max-value-bytes 65536] [--json] [--admin-token-file <file>]
      replays a trace against a live cluster: each request to a daemon of its origin's zone, at the trace's
      timestamps divided by --speedup; at most --limit requests and --duration seconds.
      --cluster: the daemons (data and admin API on one listener); default --url, else SHOAL_URL, else
      127.0.0.1:7070. Origins map to the daemons' zones (sorted) by request count: the busiest origin to the
      first zone, ...; further origins by hash (or as --zones maps them). Every key is written once first.
exit codes: 0 done (failed requests are counted in the summary); 1 the cluster refused or cannot be reached,
  or the trace is malformed; 2 usage error (bad option, trace file missing or unreadable, --zones onto no
  daemon's zone); 130 interrupted (Ctrl-C: the summary so far is printed)
`;

const LEVELS: readonly string[] = ['one', 'quorum', 'all', 'linearizable'];

function num(v: string | undefined, name: string, dflt: number, min: number, max: number, int = true): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n)))
    throw new UsageError(
      `--${name} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  return n;
}

async function replay(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    trace: { type: 'string' },
    cluster: { type: 'string' },
    speedup: { type: 'string' },
    limit: { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    level: { type: 'string' },
    zones: { type: 'string' },
    'max-value-bytes': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  if (!values.trace) throw new UsageError('--trace is required');
  const numbers = {
    speedup: num(values.speedup, 'speedup', 1, 0.001, 1e9, false),
    limit: num(values.limit, 'limit', 10_000, 1, 10_000_000),
    durationMs: num(values.duration, 'duration', 600, 0.1, 86_400, false) * 1000,
    concurrency: num(values.concurrency, 'concurrency', 64, 1, 10_000),
    maxValueBytes: num(values['max-value-bytes'], 'max-value-bytes', 65_536, 1, 16 * 1024 * 1024),
  };
  if (!existsSync(values.trace) || !statSync(values.trace).isFile())
    throw new ReplayInputError(`cannot read trace ${values.trace}: no such file`);
  if (values.level !== undefined && !LEVELS.includes(values.level))
    throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(values.level)}`);
  const target = adminTarget(values);
  const urls = (values.cluster ?? target.url)
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (urls.length === 0) throw new UsageError('--cluster names no URL');
  for (const u of urls) if (!/^https?:\/\/[^/]+$/.test(u)) throw new UsageError(`--cluster: not a daemon URL: ${u}`);
  let zoneMapper: ZoneMapper | undefined;
  if (values.zones !== undefined) {
    try {
      zoneMapper = await loadZoneMapping(values.zones);
    } catch (err) {
      throw new ReplayInputError((err as Error).message);
    }
  }
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const progress = replayBars();
  let summary: ReplaySummary;
  try {
    summary = await runReplay({
      trace: values.trace,
      urls,
      headers: target.headers,
      ...numbers,
      level: values.level as Consistency | undefined,
      zoneMapper,
      signal: interrupt.signal,
      hooks: progress,
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : renderReplay(summary));
  return summary.stoppedBy === 'interrupted' ? 130 : 0;
}

/** `shoal replay`: every failure is one line `shoal replay: ...` on stderr. */
export async function run(argv: string[]): Promise<number> {
  const fail = (message: string, code: number) => {
    process.stderr.write(`shoal replay: ${message}\n`);
    return code;
  };
  try {
    return await replay(argv);
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message} (shoal replay --help)`, 2);
    if (err instanceof ReplayInputError) return fail(err.message, 2);
    if (err instanceof AdminUnreachable) return fail(err.message, 1);
    if (err instanceof ShoalError && err.code === 'ABORTED') return fail('interrupted before the replay began', 130);
    if (err instanceof AdminRefusal || err instanceof ShoalError) return fail(`${err.code}: ${err.message}`, 1);
    throw err;
  }
}
