/**
 * `npm run soak -- --minutes <n> --seed <s>`: a 5-daemon loopback cluster (R = 3, a zone each, emulated WAN
 * latency, 10 ms between zones) under a mixed load at every consistency level, with the DSM on (`PUT /admin/dsm/policy`, hybrid)
 * and seeded fault rounds: each round's schedule (seed * 1000 + round) holds a SIGKILL, a SIGSTOP past the
 * failure detector, a partition and a join or a leave during a partition, plus random faults, and is
 * checked on its own keys (test/faults/history.ts) once healed and converged. Progress goes to stderr; the
 * last line on stdout is the design's
 * `{"ops","faults","lostWrites","linearizabilityViolations","maxLagMs","memoryGrowthPct"}`.
 * Exit code 1 when anything failed (a lost write, any other violation, a crash, no convergence).
 *
 * Faults of every kind of test/faults/schedule.ts, but HLC skew only with `--skew` (it reorders blind
 * quorum writes, a known open problem: README, reliability). Options: `--daemons <n>` (5), `--dsm hybrid|reactive|proactive|off` (hybrid), `--round-s <s>` (90),
 * `--warmup-s <s>` (60). memoryGrowthPct: the largest RSS growth (/proc/<pid>/status) of a daemon process
 * between its first sample (the first quiet point at least warm-up after it started) and the end; daemons
 * restarted in between are new processes and are measured from their own first sample.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from '../support/cluster.ts';
import { createInjector } from './injector.ts';
import { describeFailure, outcomes, type RoundResult, runRound } from './round.ts';
import { ALL_KINDS, type FaultKind, formatSchedule, makeSchedule } from './schedule.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    daemons: { type: 'string', default: '5' },
    dsm: { type: 'string', default: 'hybrid' },
    'round-s': { type: 'string', default: '90' },
    'warmup-s': { type: 'string', default: '60' },
    skew: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed);
const n = Number(values.daemons);
const roundMs = Number(values['round-s']) * 1000;
const warmupMs = Number(values['warmup-s']) * 1000;
if (!(minutes > 0) || !Number.isInteger(seed) || !(n >= 3)) {
  process.stderr.write('usage: npm run soak -- --minutes <n> --seed <int> [--daemons >=3] [--dsm hybrid|off]\n');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`${line}\n`);

const ZONES = Array.from({ length: n + 8 }, (_, i) => `z${i}`);
const latency = Object.fromEntries(ZONES.map((z) => [z, Object.fromEntries(ZONES.map((y) => [y, z === y ? 0 : 10]))]));
const ARGS = [
  ...['--fault-injection', 'on', '--anti-entropy-interval-ms', '2000', '--replicas', '3'],
  ...['--stats-bucket-ms', '2000', '--stats-gossip-interval-ms', '2000', '--pae-interval-ms', '5000'],
  // A low threshold: on loopback with 10 ms between zones, the default (200 ms saved) is rarely reached.
  ...['--dsm-interval-ms', '5000', '--dsm-threshold', '5', '--dsm-policy', values.dsm === 'off' ? 'off' : values.dsm],
  ...['--latency-matrix', JSON.stringify(latency)],
];

const started = Date.now();
const endAt = started + minutes * 60_000;
const hardStop = endAt + 5 * 60_000; // nothing may run past this
const c = await startCluster({ n, extra: Array(n).fill(ARGS) });
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await c.stopAll();
  process.exit(code);
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(130));
setTimeout(() => {
  log(`soak: hard deadline passed (${minutes} min + 5 min), stopping`);
  void stop(1);
}, hardStop - Date.now()).unref();

const inj = createInjector(c, { joinArgs: ARGS, leaveTimeoutMs: 120_000, log: (l) => log(`  ${l}`) });
if (values.dsm !== 'off')
  for (const d of c.daemons) {
    const r = await fetch(`${d.url}/admin/dsm/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policy: values.dsm }),
    });
    if (!r.ok) throw new Error(`PUT /admin/dsm/policy on ${d.url}: ${r.status} ${await r.text()}`);
  }
log(
  `soak: ${n} daemons up in ${Date.now() - started} ms, seed ${seed}, ${minutes} min, DSM ${values.dsm}, skew ${values.skew}`,
);

/** RSS in KiB of a running process, from /proc. */
const rssKiB = (pid: number | undefined): number | undefined => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};
const spawnedAt = new Map<number, number>(); // pid -> first seen
const firstRss = new Map<number, { slot: number; kib: number; at: number }>();
const sampleMemory = () => {
  for (const slot of inj.members()) {
    const pid = c.daemons[slot].proc.pid;
    if (pid === undefined) continue;
    if (!spawnedAt.has(pid)) spawnedAt.set(pid, Date.now());
    const kib = rssKiB(pid);
    if (kib !== undefined && !firstRss.has(pid) && Date.now() - (spawnedAt.get(pid) ?? 0) >= warmupMs)
      firstRss.set(pid, { slot, kib, at: Date.now() });
  }
};
sampleMemory();

const totals = { ops: 0, faults: 0, lostWrites: 0, linearizabilityViolations: 0, maxLagMs: 0, other: 0, crashes: 0 };
const failures: string[] = [];
const record = (name: string, r: RoundResult) => {
  totals.ops += r.history.length;
  totals.lostWrites += r.report.lostWrites;
  totals.linearizabilityViolations += r.report.linearizabilityViolations;
  totals.maxLagMs = Math.max(totals.maxLagMs, r.lagMs);
  totals.crashes += r.crashed.length;
  const other = r.report.violations.filter((v) => v.kind !== 'lost-write' && v.kind !== 'not-linearizable').length;
  totals.other += other;
  const failed = r.report.violations.length > 0 || r.crashed.length > 0 || !r.converged;
  log(
    `${name}: ${r.history.length} ops, ${r.report.ackedWrites} acked writes, ${r.report.linearizableKeys} linearizable keys` +
      ` (${r.report.undecided} undecided), lost ${r.report.lostWrites}, violations ${r.report.violations.length},` +
      ` crashes ${r.crashed.length}, converged ${r.converged} in ${r.lagMs} ms, ${(r.durationMs / 1000).toFixed(0)} s`,
  );
  log(`  outcomes: ${outcomes(r.history)}`);
  if (failed) {
    const file = join(tmpdir(), `shoal-soak-seed${seed}-${name.replace(/\W+/g, '-')}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ seed, round: name, events: inj.events, result: r }));
    failures.push(`${describeFailure(r, `soak --seed ${seed}, ${name}`)}\nfull history: ${file}`);
    log(failures.at(-1) ?? '');
  }
};

const common = {
  maxOps: 200_000,
  clients: 6,
  keys: 30,
  linearizableKeys: 6,
  affinity: 0.7,
  thinkMs: 10,
  convergeTimeoutMs: 60_000,
};
try {
  if (warmupMs > 0 && endAt - Date.now() > warmupMs * 2) {
    const r = await runRound(c, inj, { seed, prefix: 'warm', faults: [], tailMs: warmupMs, ...common });
    record('warm-up', r);
    sampleMemory();
  }
  for (let round = 1; Date.now() < endAt - 20_000; round++) {
    const live = inj.members();
    const membership: FaultKind = live.length > n ? 'leave' : 'join';
    const durationMs = Math.max(10_000, Math.min(roundMs, endAt - Date.now() - 60_000));
    const faults = makeSchedule(seed * 1000 + round, {
      n,
      live,
      nextSlot: c.daemons.length,
      durationMs,
      require: ['kill', 'pause', 'partition', membership],
      kinds: ALL_KINDS.filter((k) => values.skew || k !== 'skew'),
      minDaemons: n - 1,
      maxDaemons: n + 1,
    });
    log(`round ${round} (seed ${seed * 1000 + round}), members [${live.join(',')}]:\n${formatSchedule(faults)}`);
    const applied = inj.applied;
    const r = await runRound(c, inj, { seed: seed * 1000 + round, prefix: `r${round}`, faults, ...common });
    totals.faults += inj.applied - applied;
    record(`round ${round}`, r);
    sampleMemory();
    const elapsed = ((Date.now() - started) / 60_000).toFixed(1);
    log(`soak: ${elapsed} of ${minutes} min, ${totals.ops} ops, ${totals.faults} faults, ${totals.lostWrites} lost`);
  }
} catch (err) {
  failures.push(`soak aborted: ${(err as Error).stack ?? err}`);
  log(failures.at(-1) ?? '');
}

let memoryGrowthPct = 0;
for (const [pid, first] of firstRss) {
  const now = rssKiB(pid);
  if (now === undefined) continue; // that process was killed or left: its successor has its own sample
  const pct = ((now - first.kib) / first.kib) * 100;
  const span = ((Date.now() - first.at) / 60_000).toFixed(1);
  log(
    `memory: daemon ${first.slot} (pid ${pid}) ${(first.kib / 1024).toFixed(0)} → ${(now / 1024).toFixed(0)} MiB over ${span} min (${pct.toFixed(1)} %)`,
  );
  memoryGrowthPct = Math.max(memoryGrowthPct, pct);
}
try {
  const m = (await (await fetch(`${c.daemons[inj.up()[0]].url}/admin/migrations?scope=cluster`)).json()) as {
    history?: Array<{ state: string }>;
  };
  log(`DSM: ${m.history?.filter((x) => x.state === 'done').length ?? 0} moves done in the cluster's migration history`);
} catch (err) {
  log(`DSM: migrations unavailable (${(err as Error).message})`);
}
if (totals.other > 0 || totals.crashes > 0) log(`other violations ${totals.other}, crashes ${totals.crashes}`);
log(failures.length === 0 ? 'soak: no failure' : `soak: ${failures.length} failure(s), see above`);
const { ops, faults, lostWrites, linearizabilityViolations, maxLagMs } = totals;
process.stdout.write(
  `${JSON.stringify({ ops, faults, lostWrites, linearizabilityViolations, maxLagMs, memoryGrowthPct: Number(memoryGrowthPct.toFixed(1)) })}\n`,
);
await stop(failures.length === 0 ? 0 : 1);
