/**
 * One fault round on a running cluster: a seeded schedule of faults under a seeded mixed load, then the
 * heal, the wait for convergence, the final reads and the history check. The CI test and the soak both
 * run rounds; a round's keys live under their own prefix, so rounds are checked independently.
 */
import type { Cluster } from '../support/cluster.ts';
import { type CheckReport, checkHistory, type FinalRead, minimalHistory, type Op } from './history.ts';
import type { Injector } from './injector.ts';
import { keysOf, runLoad, sleep } from './load.ts';
import { type Fault, formatSchedule, scheduleEnd } from './schedule.ts';

export interface RoundOptions {
  seed: number;
  prefix: string;
  faults: Fault[];
  clients?: number;
  keys?: number;
  linearizableKeys?: number;
  maxOps?: number;
  affinity?: number;
  thinkMs?: number;
  /** Load keeps running this long after the last fault is healed. Default 2 000 ms. */
  tailMs?: number;
  /** Bound of the wait for membership and for replica agreement after the heal. Default 45 000 ms. */
  convergeTimeoutMs?: number;
}

export interface RoundResult {
  seed: number;
  schedule: Fault[];
  history: Op[];
  report: CheckReport;
  /** From the end of the load (every fault healed) until every daemon and replica agreed on every key. */
  lagMs: number;
  converged: boolean;
  /** Slots whose daemon exited on its own (not killed, not left), with the tail of its output; restarted. */
  crashed: Array<{ slot: number; exit: string; output: string }>;
  durationMs: number;
}

export async function runRound(c: Cluster, inj: Injector, o: RoundOptions): Promise<RoundResult> {
  const t0 = Date.now();
  const loadOpts = { prefix: o.prefix, keys: o.keys ?? 24, linearizableKeys: o.linearizableKeys ?? 3 };
  const stop = new AbortController();
  const faults = inj.run(o.faults, stop.signal).finally(() => stop.abort());
  const until = t0 + scheduleEnd(o.faults) + 120_000; // a bound; the load stops when the faults are done
  const load = runLoad({
    seed: o.seed,
    ...loadOpts,
    clients: o.clients ?? 6,
    maxOps: o.maxOps ?? 40_000,
    until,
    url: inj.url,
    up: inj.up,
    affinity: o.affinity,
    thinkMs: o.thinkMs,
    stop: stop.signal,
    tailMs: o.tailMs ?? 2_000,
  });
  let history: Op[];
  try {
    [, history] = await Promise.all([faults, load]);
  } finally {
    stop.abort();
    await inj.healAll();
  }
  const crashed: RoundResult['crashed'] = [];
  for (const slot of inj.members()) {
    const d = c.daemons[slot];
    if (d.proc.exitCode === null && d.proc.signalCode === null) continue;
    crashed.push({ slot, exit: String(d.proc.exitCode ?? d.proc.signalCode), output: d.output().slice(-2_000) });
    await c.restart(slot);
  }
  const healedAt = Date.now();
  await c.waitConverged(o.convergeTimeoutMs ?? 45_000);
  const { mixed, linearizable } = keysOf(loadOpts);
  const written = new Set(history.filter((op) => op.type === 'write').map((op) => op.key));
  const keys = [...mixed, ...linearizable].filter((k) => written.has(k));
  const deadline = Date.now() + (o.convergeTimeoutMs ?? 45_000);
  let finals: FinalRead[] = [];
  let converged = false;
  while (!converged) {
    finals = await Promise.all(keys.map((k) => finalRead(inj, k)));
    converged = finals.every(agrees);
    if (converged || Date.now() > deadline) break;
    await sleep(500);
  }
  const lagMs = Date.now() - healedAt;
  const report = checkHistory(history, finals);
  return { seed: o.seed, schedule: o.faults, history, report, lagMs, converged, crashed, durationMs: Date.now() - t0 };
}

function agrees(f: FinalRead): boolean {
  const seen = new Set(f.reads.map((r) => (r.error ? 'error' : `${r.value}@${r.version}`)));
  const replicas = new Set(f.replicaVersions ?? []);
  return (
    seen.size === 1 &&
    !f.reads[0].error &&
    replicas.size <= 1 &&
    (replicas.size === 0 || replicas.has(f.reads[0].version))
  );
}

/** Reads `key` at `one` on every member, and its replicas' versions (`?meta=1`) on the first. */
async function finalRead(inj: Injector, key: string): Promise<FinalRead> {
  const members = inj.up();
  const reads = await Promise.all(
    members.map(async (daemon) => {
      try {
        const r = await fetch(`${inj.url(daemon)}/v1/records/${encodeURIComponent(key)}?consistency=one`, {
          signal: AbortSignal.timeout(5_000),
        });
        const text = await r.text();
        if (r.status === 404) return { daemon };
        if (!r.ok) return { daemon, error: `${r.status} ${text.slice(0, 80)}` };
        return { daemon, value: text, version: r.headers.get('etag')?.replaceAll('"', '') };
      } catch (err) {
        return { daemon, error: (err as Error).message };
      }
    }),
  );
  let replicaVersions: Array<string | undefined> | undefined;
  try {
    const r = await fetch(`${inj.url(members[0])}/v1/records/${encodeURIComponent(key)}?meta=1`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (r.ok) {
      const m = (await r.json()) as { replicas: Array<{ version?: string; error?: string }> };
      replicaVersions = m.replicas.map((x) => x.version ?? (x.error ? `error: ${x.error}` : undefined));
    }
  } catch {
    // left undefined: the agreement check falls back to the reads
  }
  return { key, reads, replicaVersions };
}

/** How many operations ended how: `ok`, and per status and code otherwise (e.g. `503 QUORUM_NOT_REACHED: 41`). */
export function outcomes(history: readonly Op[]): string {
  const counts = new Map<string, number>();
  for (const o of history) {
    const k = o.outcome === 'ok' ? 'ok' : `${o.outcome} ${o.status ?? ''} ${o.code ?? ''}`.replace(/ +/g, ' ').trim();
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
}

/** A failure message: the seed, the schedule, what went wrong and the history of the keys concerned. */
export function describeFailure(r: RoundResult, extra = ''): string {
  const v = r.report.violations.slice(0, 10).map((x) => `  ${x.kind} ${x.key}: ${x.detail}`);
  return [
    `fault round failed: seed ${r.seed}${extra ? ` (${extra})` : ''}; converged ${r.converged} after ${r.lagMs} ms`,
    'schedule:',
    formatSchedule(r.schedule),
    ...r.crashed.map((x) => `daemon ${x.slot} crashed (${x.exit}):\n${x.output}`),
    `violations (${r.report.violations.length}):`,
    ...v,
    'history of the keys concerned (times from the first operation):',
    minimalHistory(r.history, r.report),
  ].join('\n');
}
