/**
 * Applies a fault schedule to a multi-process cluster (test/support/cluster.ts): SIGKILL and restart,
 * SIGSTOP/SIGCONT, in-app link partitions (`/admin/faults/block`, daemons need `--fault-injection on`),
 * a join or a leave while a partition is in place, a slow or full store and a skewed HLC (`/admin/faults/store`,
 * `/admin/faults/clock`). Slots are indices of `cluster.daemons`; a joiner
 * is appended, so its slot is the next index, as the schedule generator assumed.
 */
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreatePeerKey } from '../../src/net/index.ts';
import { type Cluster, launchTracked, statusOf } from '../support/cluster.ts';
import { freePort } from '../support/daemon-process.ts';
import { sleep } from './load.ts';
import type { Fault } from './schedule.ts';

export interface Injector {
  /** Slots whose daemon runs, is not frozen and is not leaving: where clients may send requests. */
  up(): number[];
  /** Slots that are, or will be again, members: every slot but those that left. */
  members(): number[];
  url(slot: number): string;
  /** Runs every fault at its time (relative to now); resolves when the last one is healed. */
  run(faults: readonly Fault[], signal?: AbortSignal): Promise<void>;
  /** Undoes whatever a fault left (used in `finally`): unblocks every link, SIGCONTs, restarts the killed. */
  healAll(): Promise<void>;
  /** Faults applied so far, and a line per event (for logs). */
  readonly applied: number;
  readonly events: string[];
}

export interface InjectorOptions {
  /** Extra `shoal start` arguments of a joiner (the cluster's own, e.g. `--fault-injection on`). */
  joinArgs: string[];
  /** How long a leaving daemon may take to hand off its data and exit, after the heal. Default 90 s. */
  leaveTimeoutMs?: number;
  log?: (line: string) => void;
}

export function createInjector(c: Cluster, opts: InjectorOptions): Injector {
  const frozen = new Set<number>();
  const killed = new Set<number>();
  const left = new Set<number>();
  const blocked = new Map<number, Set<number>>(); // slot -> slots it blocks
  const degraded = new Map<number, [string, object]>(); // slot -> the fault route and the body that undoes it
  const ids = new Map<number, string>();
  const events: string[] = [];
  const t0 = Date.now();
  let applied = 0;
  const note = (line: string) => {
    const l = `[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`;
    events.push(l);
    opts.log?.(l);
  };
  const running = (s: number) => {
    const p = c.daemons[s]?.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  };
  const idOf = async (s: number) => {
    let id = ids.get(s);
    if (!id) {
      id = (await statusOf(c.daemons[s])).peerId;
      ids.set(s, id);
    }
    return id;
  };
  const members = () => c.daemons.map((_, s) => s).filter((s) => !left.has(s));

  /** Asks daemon `from` to block (or unblock) its links to `to`. */
  const post = async (from: number, action: 'block' | 'unblock', to: number[]) => {
    if (to.length === 0 || !running(from)) return;
    const peerIds = await Promise.all(to.map(idOf));
    const r = await fetch(`${c.daemons[from].url}/admin/faults/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ peerIds }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`${action} on daemon ${from}: ${r.status} ${await r.text()}`);
    const set = blocked.get(from) ?? new Set<number>();
    for (const t of to) action === 'block' ? set.add(t) : set.delete(t);
    blocked.set(from, set);
  };
  /** Blocks (or unblocks) every link between slot `a` and each of `others`, on both sides. */
  const cut = async (action: 'block' | 'unblock', a: number, others: number[]) => {
    await Promise.all([post(a, action, others), ...others.map((o) => post(o, action, [a]))]);
  };

  /**
   * Starts daemon `slot`, joining via `via`, cut off from `others` from its first packet on: its peer key is
   * made in its data directory first, so `others` refuse its peer id before it starts (a real partition
   * would never let it reach them, not even while it starts).
   */
  const joinOne = async (slot: number, via: number, others: number[]) => {
    if (slot !== c.daemons.length)
      throw new Error(`schedule expects joiner slot ${slot}, cluster has ${c.daemons.length}`);
    const port = await freePort();
    const dataDir = join(c.root, `j${slot}`);
    ids.set(slot, peerIdFromPrivateKey(await loadOrCreatePeerKey(dataDir)).toString());
    await Promise.all(others.map((o) => post(o, 'block', [slot])));
    const [multiaddr] = (await statusOf(c.daemons[via])).multiaddrs;
    const args = [
      ...['start', '--data-dir', dataDir, '--http-port', String(port), '--zone', `z${slot}`],
      ...['--durability', 'os', '--log-level', process.env.SHOAL_TEST_LOG ?? 'warn', '--move-grace-ms', '1000'],
      ...(c.secretFile ? ['--cluster-secret', c.secretFile] : []),
      ...['--join', multiaddr, ...opts.joinArgs],
    ];
    c.daemons.push(await launchTracked({ url: `http://127.0.0.1:${port}`, dataDir, args }));
  };

  const apply = async (f: Fault, signal?: AbortSignal) => {
    applied++;
    if (f.kind === 'kill' || f.kind === 'pause') return signalProcess(f);
    if (f.kind === 'partition') return partition(f, signal);
    return degrade(f);
  };

  /** A slow or full store, or a skewed HLC, on one daemon for `downMs`; undone even if the daemon was restarted. */
  const degrade = async (f: Extract<Fault, { kind: 'slow-disk' | 'full-disk' | 'skew' }>) => {
    if (!running(f.target)) return note(`skip ${f.kind} of ${f.target}: not running`);
    const [path, on, off] =
      f.kind === 'skew'
        ? ['clock', { offsetMs: f.amount }, { offsetMs: 0 }]
        : ['store', f.kind === 'slow-disk' ? { latencyMs: f.amount } : { full: true }, { latencyMs: 0, full: false }];
    note(`${f.kind} on daemon ${f.target} (${JSON.stringify(on)})`);
    degraded.set(f.target, [path, off]);
    await putFault(f.target, path, on);
    await sleep(f.downMs);
    if (running(f.target)) await putFault(f.target, path, off);
    degraded.delete(f.target);
    note(`${f.kind} on daemon ${f.target} undone`);
  };
  const putFault = async (slot: number, path: string, body: object) => {
    const r = await fetch(`${c.daemons[slot].url}/admin/faults/${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`PUT /admin/faults/${path} on daemon ${slot}: ${r.status} ${await r.text()}`);
  };

  const signalProcess = async (f: Extract<Fault, { kind: 'kill' | 'pause' }>) => {
    if (f.kind === 'kill') {
      if (!running(f.target)) return note(`skip SIGKILL of ${f.target}: not running`);
      note(`SIGKILL daemon ${f.target}`);
      killed.add(f.target);
      await c.kill9(f.target);
      await sleep(f.downMs);
      await c.restart(f.target);
      killed.delete(f.target);
      return note(`restarted daemon ${f.target}`);
    }
    if (!running(f.target)) return note(`skip SIGSTOP of ${f.target}: not running`);
    note(`SIGSTOP daemon ${f.target}`);
    frozen.add(f.target);
    c.daemons[f.target].proc.kill('SIGSTOP');
    await sleep(f.downMs);
    c.daemons[f.target].proc.kill('SIGCONT');
    frozen.delete(f.target);
    note(`SIGCONT daemon ${f.target}`);
  };

  const partition = async (f: Extract<Fault, { kind: 'partition' }>, signal?: AbortSignal) => {
    const [minority, majority] = f.sides.map((side) => side.filter((s) => !left.has(s)));
    note(`partition {${minority.join(',')}}|{${majority.join(',')}}`);
    for (const a of minority) await cut('block', a, majority);
    let leaving: number | undefined;
    if (f.member === 'join' && f.target !== undefined) {
      note(`join daemon ${f.target} via ${majority[0]} (majority side)`);
      await joinOne(f.target, majority[0], minority);
      await post(f.target, 'block', minority);
      majority.push(f.target);
      note(`daemon ${f.target} joined`);
    } else if (f.member === 'leave' && f.target !== undefined && running(f.target)) {
      leaving = f.target;
      left.add(leaving);
      note(`daemon ${leaving} leaves (${minority.includes(leaving) ? 'minority' : 'majority'} side)`);
      const r = await fetch(`${c.daemons[leaving].url}/admin/leave`, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
      });
      if (r.status !== 202) throw new Error(`leave of daemon ${leaving}: ${r.status} ${await r.text()}`);
    }
    await sleep(f.downMs);
    for (const a of minority) await cut('unblock', a, majority);
    note('healed');
    if (leaving !== undefined) {
      const deadline = Date.now() + (opts.leaveTimeoutMs ?? 90_000);
      while (running(leaving) && Date.now() < deadline && !signal?.aborted) await sleep(200);
      if (running(leaving))
        throw new Error(`daemon ${leaving} did not finish leaving within ${opts.leaveTimeoutMs ?? 90_000} ms`);
      note(`daemon ${leaving} left and exited (${c.daemons[leaving].proc.exitCode})`);
    }
  };

  return {
    up: () => members().filter((s) => running(s) && !frozen.has(s)),
    members,
    url: (s) => c.daemons[s].url,
    get applied() {
      return applied;
    },
    events,
    async run(faults, signal) {
      const start = Date.now();
      for (const f of faults) {
        if (signal?.aborted) return;
        const wait = start + f.at - Date.now();
        if (wait > 0) await sleep(wait);
        await apply(f, signal);
      }
    },
    async healAll() {
      for (const s of frozen) if (running(s)) c.daemons[s].proc.kill('SIGCONT');
      frozen.clear();
      for (const [from, to] of blocked)
        if (to.size > 0 && running(from)) await cut('unblock', from, [...to]).catch(() => {});
      for (const s of killed) if (!running(s)) await c.restart(s);
      killed.clear();
      for (const [s, [path, off]] of degraded) if (running(s)) await putFault(s, path, off).catch(() => {});
      degraded.clear();
    },
  };
}
