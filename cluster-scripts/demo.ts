#!/usr/bin/env node
/**
 * `npm run demo`: predictive migration, seen within about a minute.
 *
 * 1. Starts three daemons on loopback in zones eu, us and ap (`launch.ts`, as `npm run cluster` does), with the
 *    emulated zone latency of `wan-three-regions.json` (one way 40–110 ms) and settings that make the DSM act
 *    within seconds (those of `test/cluster/dsm.test.ts`): statistics buckets, gossip and PAE cycles of 1 s, a DSM
 *    cycle every 2 s, the same latency matrix (as round trips) for its scores, R = 2 so that each zone lacks a
 *    replica of about a third of the records. The DSM starts `off`.
 * 2. Prints the dashboard URL of every daemon.
 * 3. Replays the first rows of a shared trace (default: WorldCup98, whose three origins become the three zones:
 *    en → us, fr → eu, xx → ap) with `shoal replay`'s engine (`node/replay/`), reads at `one`: first the keys
 *    are written and their holders read (DSM still off, so that nothing moves for the preload's writes), then
 *    the DSM is switched on (`PUT /admin/dsm/policy`, default hybrid) on every daemon and the trace runs.
 * 4. Prints the replay's summary, what moved, and the remote-served share before and after: on the placement
 *    before the replay versus after it (the same requests), and as served in the first versus the last tenth.
 * 5. Keeps the cluster running for the dashboard until Ctrl-C (`--exit`: stops at once), then stops every daemon.
 *
 * Ctrl-C at any point stops the replay (its summary so far is printed) and every daemon.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminRequest } from '../node/admin-client.ts';
import { replayBars } from '../node/replay/bars.ts';
import { renderReplay } from '../node/replay/render.ts';
import { type ReplaySummary, runReplay } from '../node/replay/run.ts';
import { sharedTrace } from '../node/replay/shared-traces.ts';
import { pct } from '../node/replay/summary.ts';
import { zoneMapperFrom } from '../src/stats/trace.ts';
import { type LocalCluster, readWanMatrix, startLocalCluster } from './launch.ts';

const USAGE = `usage: npm run demo -- [--trace <csv>] [--limit 12000] [--speedup 200] [--duration 120]
         [--policy hybrid|reactive|proactive] [--base-port 7170] [--data-root ./data/demo] [--exit]`;
const WAN = resolve(import.meta.dirname, 'wan-three-regions.json');
const DEFAULT_TRACE = 'worldcup98_day6_even.csv.gz';
/** WorldCup98's origins are language sections; the demo puts each in a plausible region. */
const WORLDCUP_ZONES = { en: 'us', fr: 'eu', xx: 'ap' };

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function parse() {
  const { values } = parseArgs({
    options: {
      trace: { type: 'string' },
      limit: { type: 'string', default: '12000' },
      speedup: { type: 'string', default: '200' },
      duration: { type: 'string', default: '120' },
      policy: { type: 'string', default: 'hybrid' },
      'base-port': { type: 'string', default: '7170' },
      'data-root': { type: 'string', default: './data/demo' },
      exit: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(USAGE);
    process.exit(0);
  }
  const bad = (what: string): never => {
    err(`shoal demo: ${what}\n${USAGE}`);
    process.exit(2);
  };
  const positive = (name: 'limit' | 'speedup' | 'duration' | 'base-port') => {
    const n = Number(values[name]);
    return Number.isFinite(n) && n > 0 ? n : bad(`--${name} must be a positive number`);
  };
  const trace = values.trace ?? sharedTrace(DEFAULT_TRACE);
  if (!trace) bad(`no ${DEFAULT_TRACE} in a shared/traces folder above the checkout: give --trace <csv>`);
  if (!['hybrid', 'reactive', 'proactive'].includes(values.policy))
    bad('--policy must be hybrid, reactive or proactive');
  return {
    trace: trace as string,
    worldcup: values.trace === undefined,
    limit: Math.floor(positive('limit')),
    speedup: positive('speedup'),
    durationMs: positive('duration') * 1000,
    policy: values.policy,
    basePort: Math.floor(positive('base-port')),
    dataRoot: resolve(values['data-root']),
    exit: values.exit,
  };
}

/** The DSM's settings: every cycle short, so that moves follow demand within seconds. */
function daemonFlags(rtt: Record<string, Record<string, number>>): string[] {
  return [
    ...['--replicas', '2', '--survive', 'zone', '--dsm-policy', 'off', '--dsm-interval-ms', '2000'],
    ...['--stats-bucket-ms', '1000', '--stats-gossip-interval-ms', '1000', '--pae-interval-ms', '1000'],
    ...['--latency-matrix', JSON.stringify(rtt), '--move-grace-ms', '5000'],
  ];
}

function beforeAfter(s: ReplaySummary): string {
  const first = s.timeline[0];
  const last = s.timeline[s.timeline.length - 1];
  const lines = [
    `remote-served share (reads at ${s.level} that had to wait on another zone):`,
    `  placement before the replay → after it, same ${s.sent} requests: ${pct(s.total.remoteShare.start)} → ${pct(s.total.remoteShare.end)}`,
  ];
  if (first && last && s.timeline.length > 1)
    lines.push(
      `  as served, first tenth → last tenth of the replay: ${pct(first.remoteShare)} (mean ${first.meanMs} ms) → ${pct(last.remoteShare)} (mean ${last.meanMs} ms)`,
    );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const o = parse();
  const wan = readWanMatrix(WAN);
  const zones = Object.keys(wan);
  const rtt = Object.fromEntries(
    zones.map((a) => [a, Object.fromEntries(zones.map((b) => [b, a === b ? 0 : 2 * (wan[a]?.[b] ?? 0)]))]),
  );
  const interrupted = new AbortController();
  process.once('SIGINT', () => interrupted.abort());
  process.once('SIGTERM', () => interrupted.abort());
  out(`shoal demo: starting ${zones.length} daemons in zones ${zones.join(', ')} (emulated WAN: ${WAN})`);
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster(
      {
        n: zones.length,
        zones,
        basePort: o.basePort,
        dataRoot: o.dataRoot,
        fresh: true,
        durability: 'os',
        wan,
        extraArgs: daemonFlags(rtt),
        signal: interrupted.signal,
      },
      (s) => err(`shoal demo: ${s}`),
    );
  } catch (e) {
    err(`shoal demo: ${(e as Error).message}`);
    return interrupted.signal.aborted ? 130 : 1;
  }
  let code = 0;
  try {
    for (const n of cluster.nodes)
      out(`dashboard: ${n.url}/dashboard   (zone ${n.zone}, log ${o.dataRoot}/d${n.i}.log)`);
    out(`shoal demo: replaying up to ${o.limit} requests of ${o.trace} at ×${o.speedup}, reads at one`);
    const urls = cluster.nodes.map((n) => n.url);
    const summary = await runReplay({
      trace: o.trace,
      urls,
      speedup: o.speedup,
      limit: o.limit,
      durationMs: o.durationMs,
      concurrency: 64,
      level: 'one',
      zoneMapper: o.worldcup ? zoneMapperFrom(WORLDCUP_ZONES) : undefined,
      signal: interrupted.signal,
      hooks: {
        ...replayBars(),
        beforeReplay: async () => {
          for (const url of urls)
            await adminRequest({ url, headers: {} }, 'PUT', '/admin/dsm/policy', { body: { policy: o.policy } });
          err(`shoal demo: DSM policy ${o.policy} on every daemon (a cycle every 2 s)`);
        },
      },
    });
    out(`\n${renderReplay(summary)}\n${beforeAfter(summary)}`);
    out(
      `every move: npx shoal migrations --url ${urls[0]} (and the other daemons: each logs the moves it coordinated)`,
    );
    if (summary.stoppedBy === 'interrupted') code = 130;
    else if (!o.exit) {
      out('\nshoal demo: the cluster keeps running for the dashboard; Ctrl-C stops it');
      await new Promise<void>((r) => interrupted.signal.addEventListener('abort', () => r(), { once: true }));
      code = 0;
    }
  } catch (e) {
    err(`shoal demo: ${(e as Error).message}`);
    code = interrupted.signal.aborted ? 130 : 1;
  } finally {
    err(`shoal demo: stopping ${cluster.nodes.length} daemons`);
    await cluster.stop();
    err('shoal demo: all daemons stopped');
  }
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`shoal demo: ${(e as Error)?.stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
