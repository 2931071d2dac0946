/**
 * The crash matrix of a wave: a SIGKILL of the coordinator, of a source (an old holder that is not the
 * coordinator) or of a destination (a new holder) at each step boundary of a wave (MOVE_STEPS) loses no
 * acknowledged write, drops no copy without a receipt, ends every move (done, failed or undone) and
 * leaves every daemon routing the records the same way.
 *
 * One 4-daemon cluster with R = 2 is shared by every case; each case moves a fresh batch of records of
 * partitions whose ring replicas are [C, S] (C, the ring primary, coordinates their waves) to the two
 * other daemons [D1, D2], while a writer keeps writing them through D2 (never killed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOVE_STEPS, type MoveStepKind } from '../../src/overrides/plan.ts';
import { createRing, type Ring } from '../../src/ring/index.ts';
import { type Cluster, startCluster, statusOf, stopAllClusters } from '../support/cluster.ts';
import { eventually, FAST_REPAIR, get, layoutAgreed, put } from './helpers.ts';

const R = 2;
const ARGS = [...FAST_REPAIR, '--replicas', String(R), '--fault-injection', 'on', '--dsm-policy', 'off'];
const BATCH = 20;
/** How long the coordinator waits at the step boundary while the test kills a source or destination. */
const PAUSE_MS = 1500;
/** The harness's `--move-grace-ms`, and a margin for the drop to happen. */
const GRACE_MS = 1000;
const MARGIN_MS = 1500;

type D = { url: string };
type Placement = { source: 'ring' | 'override'; replicas: string[]; ringReplicas: string[]; moving?: unknown };
type Migration = { wave: string; key: string; state: string; error?: string };
type Role = 'coordinator' | 'source' | 'destination';

const enc = encodeURIComponent;
const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const placementOf = async (d: D, key: string) =>
  (
    await json<{ placement: Placement }>(
      await fetch(`${d.url}/admin/records/${enc(key)}`, { signal: AbortSignal.timeout(10_000) }),
    )
  ).placement;
const present = async (d: D, key: string) =>
  (
    await json<{ present: boolean }>(
      await fetch(`${d.url}/admin/records/${enc(key)}/local`, { signal: AbortSignal.timeout(10_000) }),
    )
  ).present;
const setFaults = async (d: D, body: { crashBefore?: MoveStepKind; pauseBefore?: MoveStepKind; pauseMs?: number }) => {
  const r = await fetch(`${d.url}/admin/faults/wave`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status, await r.text()).toBe(200);
};
const pausedAt = async (d: D) =>
  (await json<{ paused?: { step: string } }>(await fetch(`${d.url}/admin/faults/wave`))).paused?.step;
const migrationsOf = async (d: D) =>
  json<{ inFlight: Migration[]; history: Migration[] }>(
    await fetch(`${d.url}/admin/migrations?limit=10000`, { signal: AbortSignal.timeout(5_000) }),
  );

let c: Cluster;
let ids: string[];
let ring: Ring;
/** Indices of the roles: coordinator, source, the destination that is killed, the one that is not. */
let C: number;
let S: number;
let D1: number;
let D2: number;
let nextKey = 0;
let seq = 0;
const summary: string[] = [];

/** A fresh batch of keys whose ring replicas are [C, S]. */
function batch(tag: string): string[] {
  const want = [ids[C], ids[S]].join();
  const out: string[] = [];
  while (out.length < BATCH) {
    const key = `crash/${tag}/${nextKey++}`;
    if (ring.replicasFor(ring.partitionOf(key)).join() === want) out.push(key);
  }
  return out;
}

beforeAll(async () => {
  c = await startCluster({ n: 4, extra: [ARGS, ARGS, ARGS, ARGS] });
  ids = await Promise.all(c.daemons.map(async (d) => (await statusOf(d)).peerId));
  expect(await layoutAgreed(c.daemons)).toBe(true);
  // The ring as the daemons compute it (zones z0..z3 from the harness), checked against theirs.
  ring = createRing({ replicas: R, members: ids.map((id, i) => ({ id, zone: `z${i}` })) });
  for (let i = 0; i < 5; i++) {
    const key = `probe/${i}`;
    expect((await placementOf(c.daemons[0], key)).ringReplicas).toEqual([...ring.replicasFor(ring.partitionOf(key))]);
  }
  const [c0, s0] = ring.replicasFor(0);
  C = ids.indexOf(c0);
  S = ids.indexOf(s0);
  [D1, D2] = [0, 1, 2, 3].filter((i) => i !== C && i !== S);
}, 60_000);
afterAll(async () => {
  console.log(`wave crash matrix:\n${summary.join('\n')}`);
  await stopAllClusters();
});

/** Restarts daemon i; once more if it was not ready in the harness's 20 s (the 2 cores are shared). */
async function restart(i: number): Promise<void> {
  try {
    await c.restart(i);
  } catch (err) {
    if (!/not ready within/.test(String(err))) throw err;
    console.warn(`daemon ${i} slow to restart, retrying: ${String(err).slice(0, 200)}`);
    await c.restart(i);
  }
}

/** Recent log lines of every daemon, for failure messages. */
const logs = () =>
  c.daemons
    .map(
      (d, i) =>
        `--- #${i}\n${d
          .output()
          .split('\n')
          .filter((l) => /wave|release|overrides|move/.test(l))
          .slice(-8)
          .join('\n')}`,
    )
    .join('\n');

async function runCase(role: Role, step: MoveStepKind): Promise<void> {
  // A daemon an earlier case restarted may still be held down (its partitions coordinated by the next
  // replica) until the cluster chain marks it up again: C must coordinate the batch.
  expect(await layoutAgreed(c.daemons), 'the cluster chain did not settle').toBe(true);
  const t0 = Date.now();
  const keys = batch(`${role}-${step}`);
  const target = [ids[D1], ids[D2]];
  const writeVia = c.daemons[D2];
  const acked = new Map<string, number>();
  for (const key of keys) {
    const n = ++seq;
    expect(await put(writeVia, key, String(n))).toBe(201);
    acked.set(key, n);
  }
  // The writer keeps writing the records during the wave; it records every acknowledged value.
  let writing = true;
  let writes = 0;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = keys[i % keys.length];
      const n = ++seq;
      const status = await put(c.daemons[D2], key, String(n), 'quorum').catch(() => 0);
      if (status === 200 || status === 201) {
        acked.set(key, n);
        writes++;
      }
      await sleep(5); // leave the 2 cores some room: restarts must stay within the harness's 20 s
    }
  })();

  const victim = role === 'coordinator' ? C : role === 'source' ? S : D1;
  await setFaults(
    c.daemons[C],
    role === 'coordinator' ? { crashBefore: step } : { pauseBefore: step, pauseMs: PAUSE_MS },
  );
  const placing = fetch(`${c.daemons[D2].url}/admin/placements`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      placements: keys.map((key) => ({ key, replicas: target })),
      reason: `crash ${role} ${step}`,
    }),
    signal: AbortSignal.timeout(120_000),
  }).then(
    async (r) => ({ status: r.status, body: await r.text() }),
    (err: unknown) => ({ status: 0, body: String(err) }),
  );
  if (role === 'coordinator') {
    const killed = await eventually(async () => !c.alive().includes(C), 30_000, 50);
    expect(killed, `the coordinator did not crash before ${step}\n${logs()}`).toBe(true);
    await restart(C);
  } else {
    const paused = await eventually(async () => (await pausedAt(c.daemons[C])) === step, 30_000, 50);
    expect(paused, `the wave did not pause before ${step}\n${logs()}`).toBe(true);
    await c.kill9(victim);
  }
  const placed = await placing;
  const tPlaced = Date.now();
  await setFaults(c.daemons[C], {});
  if (role !== 'coordinator') await restart(victim);
  await c.waitConverged(20_000);
  writing = false;
  await writer;
  const tUp = Date.now();

  // Every move ended at the coordinator (recovered after its restart), and every daemon routes each
  // key the same way, with no move in flight.
  const states = new Map<string, Migration>();
  const ended = await eventually(async () => {
    const m = await migrationsOf(c.daemons[C]);
    if (m.inFlight.some((x) => keys.includes(x.key))) return false;
    states.clear();
    for (const x of [...m.history].reverse()) if (keys.includes(x.key)) states.set(x.key, x);
    return keys.every((k) => states.has(k));
  }, 30_000);
  expect(ended, `moves still in flight or unknown after ${role} ${step}: ${JSON.stringify(placed)}\n${logs()}`).toBe(
    true,
  );
  for (const [k, m] of states) expect(['done', 'failed', 'undone'], `${k}: ${JSON.stringify(m)}`).toContain(m.state);
  const expected = (k: string) => (states.get(k)!.state === 'done' ? target.join() : [ids[C], ids[S]].join());
  const tEnded = Date.now();
  const mismatches: string[] = [];
  const settled = await eventually(async () => {
    mismatches.length = 0;
    await Promise.all(
      keys.map(async (k) => {
        const views = await Promise.all(c.daemons.map((d) => placementOf(d, k)));
        views.forEach((p, i) => {
          if (p.replicas.join() !== expected(k) || p.moving !== undefined)
            mismatches.push(`#${i} ${k}: ${p.source} [${p.replicas.join()}] moving=${JSON.stringify(p.moving)}`);
        });
      }),
    );
    return mismatches.length === 0;
  }, 30_000);
  expect(settled, `placements disagree after ${role} ${step}:\n${mismatches.slice(0, 8).join('\n')}\n${logs()}`).toBe(
    true,
  );

  // Never fewer than R copies, now and after the grace period of the releases.
  const tSettled = Date.now();
  const checkCopies = async (when: string) => {
    await Promise.all(
      keys.map(async (k) => {
        const has = await Promise.all(c.daemons.map((d) => present(d, k)));
        const where = `${k} ${when} (${role} ${step}): copies on [${has.map(Number)}]`;
        expect(has.filter(Boolean).length, where).toBeGreaterThanOrEqual(R);
        // The holders the cluster routes to have theirs (a stale copy elsewhere does not count).
        for (const h of expected(k).split(',')) expect(has[ids.indexOf(h)], where).toBe(true);
      }),
    );
  };
  await checkCopies('after recovery');
  // Every acknowledged write is readable at quorum, through every daemon.
  const checkReads = async () => {
    await Promise.all(
      keys.map(async (k) => {
        for (const [i, d] of c.daemons.entries()) {
          const r = await get(d, k, 'quorum');
          expect(r.status, `${k} via #${i} (${role} ${step}): ${r.body}`).toBe(200);
          expect(Number(r.body), `${k} via #${i} (${role} ${step})`).toBeGreaterThanOrEqual(acked.get(k)!);
        }
      }),
    );
  };
  await checkReads();
  await sleep(GRACE_MS + MARGIN_MS);
  await checkCopies('after the grace period');
  await checkReads();

  const s = (t: number) => ((t - t0) / 1000).toFixed(1);
  const count = (st: string) => [...states.values()].filter((m) => m.state === st).length;
  summary.push(
    `${role.padEnd(11)} ${step.padEnd(10)} done ${count('done')} failed ${count('failed')} undone ${count('undone')}` +
      ` writes ${writes} | s: placed ${s(tPlaced)} up ${s(tUp)} ended ${s(tEnded)} settled ${s(tSettled)} all ${s(Date.now())}`,
  );
}

/**
 * Every step for the coordinator; the boundary steps for a source and a destination (a daemon restart
 * takes seconds on a loaded machine). `SHOAL_CRASH_MATRIX=full` runs every step for every role.
 */
const FULL = process.env.SHOAL_CRASH_MATRIX === 'full';
const CASES: Record<Role, readonly MoveStepKind[]> = {
  coordinator: MOVE_STEPS,
  source: FULL ? MOVE_STEPS : ['copy', 'commit', 'release'],
  destination: FULL ? MOVE_STEPS : ['copy', 'commit', 'release'],
};

describe('wave crash matrix (4 daemons, R = 2)', () => {
  for (const role of ['coordinator', 'source', 'destination'] as const) {
    for (const step of CASES[role]) {
      it(`SIGKILL of the ${role} before ${step} loses nothing`, { timeout: 90_000 }, () => runCase(role, step));
    }
  }
});
