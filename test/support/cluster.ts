/**
 * Multi-process cluster harness for vitest: starts N `shoal start` daemons on loopback, joins them
 * with a fresh cluster secret and waits until every daemon sees every other one in `/admin/status`.
 *
 * ```ts
 * const c = await startCluster({ n: 3 });
 * afterAll(() => c.stopAll());   // or stopAllClusters() once for the whole file
 * await c.kill9(1);
 * await c.restart(1);
 * await c.waitConverged(15_000);
 * ```
 *
 * Every daemon gets its own HTTP port, a fixed libp2p port (so a restarted daemon keeps its
 * multiaddr), a data dir under one temp dir, and a zone (`z0`, `z1`, ... unless `zones` is given).
 * Every child process is tracked from the moment it is spawned: `stopAll()` ends them (SIGTERM,
 * then SIGKILL after 5 s), and a process `exit` hook SIGKILLs whatever is left (and removes the temp
 * dirs) if a test run dies. `SHOAL_KEEP_CLUSTER=1` keeps the temp dirs for a post-mortem.
 * Every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../node/node-flags.ts';
import { type DaemonProcess, freePort, runCli, tempDir } from './daemon-process.ts';

export type { DaemonProcess } from './daemon-process.ts';

const CLI = resolve(import.meta.dirname, '../../node/cli.ts');
const HEALTH_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL = 64 * 1024;

export interface ClusterOptions {
  /** Number of daemons (>= 1). */
  n: number;
  /** Zone per daemon; default `z0`, `z1`, ... */
  zones?: string[];
  /** Run `shoal init-cluster` into a temp file and pass `--cluster-secret` to every daemon. Default true. */
  secret?: boolean;
  /** Store backend for all daemons, or one per daemon. Default `level`. */
  store?: string | string[];
  /** Extra `shoal start` arguments per daemon (index i goes to daemon i). */
  extra?: string[][];
  /** `--durability`. Default `os` (SIGKILL loses nothing the OS has; only power loss would). */
  durability?: 'fsync' | 'os';
  /** `--log-level` of the daemons. Default `warn` (`SHOAL_TEST_LOG` overrides). */
  logLevel?: string;
  /** Wait for convergence before resolving. Default true. */
  converge?: boolean;
  /** Bound of the initial convergence wait. Default 20 000 ms. */
  convergeTimeoutMs?: number;
}

/** The subset of `/admin/status` the harness reads. */
export interface StatusView {
  peerId: string;
  multiaddrs: string[];
  zone: string;
  peers: unknown;
  epoch?: number;
}

export interface Cluster {
  /** The daemons, by index; `restart(i)` replaces entry i. */
  readonly daemons: DaemonProcess[];
  /** The cluster secret file, or undefined with `secret: false`. */
  readonly secretFile: string | undefined;
  /** Temp dir holding every data dir and the secret; removed by stopAll(). */
  readonly root: string;
  /** Indices of daemons whose process is running. */
  alive(): number[];
  /** Resolves once every running daemon lists every other running daemon as a peer; throws after `timeoutMs`. */
  waitConverged(timeoutMs?: number): Promise<void>;
  /** SIGKILLs daemon i and waits until its process is gone. */
  kill9(i: number): Promise<void>;
  /** Starts daemon i again with the same arguments (data dir, ports, zone, join address); waits for /readyz. */
  restart(i: number): Promise<DaemonProcess>;
  /** Stops every daemon (SIGTERM, SIGKILL after 5 s) and removes the temp dir. Idempotent. */
  stopAll(): Promise<void>;
}

const live = new Set<ChildProcess>();
const clusters = new Set<Cluster>();
const roots = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!process.env.SHOAL_KEEP_CLUSTER) for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
}

const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns `node node/cli.ts <args>`, tracks it at once, and waits until /readyz answers 200 (store open, net started). */
export async function launchTracked(d: { url: string; dataDir: string; args: string[] }): Promise<DaemonProcess> {
  installExitHook();
  let out = '';
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...d.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const append = (b: Buffer) => {
    out += b;
    if (out.length > OUTPUT_TAIL * 2) out = out.slice(-OUTPUT_TAIL);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  const started: DaemonProcess = { ...d, proc, output: () => out };
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(proc))
      throw new Error(`daemon ${d.url} exited (${proc.exitCode ?? proc.signalCode}): ${out.slice(-800)}`);
    try {
      const r = await fetch(`${d.url}/readyz`, { signal: AbortSignal.timeout(500) });
      if (r.ok) return started;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  await killProcess(proc, 'SIGKILL', 2_000);
  throw new Error(`daemon ${d.url} not ready within ${HEALTH_TIMEOUT_MS} ms: ${out.slice(-800)}`);
}

/** Sends `signal` and waits (at most `waitMs`) for the process to exit; true if it did. */
async function killProcess(p: ChildProcess, signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
  if (exited(p)) return true;
  const gone = new Promise<boolean>((r) => p.once('exit', () => r(true)));
  try {
    p.kill(signal);
  } catch {
    // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(exited(p)), waitMs);
  });
  const result = await Promise.race([gone, late]);
  clearTimeout(timer);
  return result;
}

/** `GET /admin/status` of a daemon (1 s deadline). */
export async function statusOf(d: { url: string }): Promise<StatusView> {
  const r = await fetch(`${d.url}/admin/status`, { signal: AbortSignal.timeout(1_000) });
  if (!r.ok) throw new Error(`${d.url}/admin/status answered ${r.status}`);
  return (await r.json()) as StatusView;
}

/** Peer ids in a status's `peers` (strings, or objects with `peerId`/`id`). */
export function peerIdsOf(peers: unknown): string[] {
  if (!Array.isArray(peers)) return [];
  return peers.flatMap((p: unknown) => {
    if (typeof p === 'string') return [p];
    if (p && typeof p === 'object') {
      const o = p as { peerId?: unknown; id?: unknown };
      const id = o.peerId ?? o.id;
      return typeof id === 'string' ? [id] : [];
    }
    return [];
  });
}

/** URL of a record on a daemon, with an optional consistency level. */
export const recordUrl = (d: { url: string }, key: string, consistency?: string) =>
  `${d.url}/v1/records/${encodeURIComponent(key)}${consistency ? `?consistency=${consistency}` : ''}`;

/** Stops every cluster started by this process (for a file-wide afterAll). */
export async function stopAllClusters(): Promise<void> {
  await Promise.allSettled([...clusters].map((c) => c.stopAll()));
}

/** Starts `n` daemons, joins daemons 1..n-1 to daemon 0 (in parallel) and waits for convergence. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new Error(`startCluster: n must be >= 1, got ${opts.n}`);
  installExitHook();
  const root = tempDir('shoal-cluster-');
  roots.add(root);
  const daemons: DaemonProcess[] = [];
  const peerIds: string[] = [];
  let secretFile: string | undefined;
  let stopped = false;

  const cluster: Cluster = {
    daemons,
    root,
    get secretFile() {
      return secretFile;
    },
    alive: () => daemons.flatMap((d, i) => (d && !exited(d.proc) ? [i] : [])),
    waitConverged: (timeoutMs = 20_000) => waitConverged(cluster, peerIds, timeoutMs),
    async kill9(i) {
      const d = daemons[i];
      if (!d) throw new Error(`no daemon ${i}`);
      if (!(await killProcess(d.proc, 'SIGKILL', 5_000))) throw new Error(`daemon ${i} survived SIGKILL for 5 s`);
    },
    async restart(i) {
      const d = daemons[i];
      if (!d) throw new Error(`no daemon ${i}`);
      if (!exited(d.proc)) throw new Error(`daemon ${i} is still running; kill9(${i}) first`);
      daemons[i] = await launchTracked({ url: d.url, dataDir: d.dataDir, args: d.args });
      return daemons[i];
    },
    async stopAll() {
      if (stopped) return;
      stopped = true;
      clusters.delete(cluster);
      await Promise.all(
        daemons.map(async (d) => {
          if (d && !(await killProcess(d.proc, 'SIGTERM', STOP_GRACE_MS))) await killProcess(d.proc, 'SIGKILL', 2_000);
        }),
      );
      roots.delete(root);
      if (!process.env.SHOAL_KEEP_CLUSTER) rmSync(root, { recursive: true, force: true });
    },
  };
  clusters.add(cluster);

  try {
    if (opts.secret ?? true) {
      secretFile = join(root, 'cluster.key');
      const r = await runCli(['init-cluster', '--out', secretFile], 20_000);
      if (r.code !== 0) throw new Error(`shoal init-cluster failed (${r.code}): ${r.out}`);
    }
    const argsFor = async (i: number, join0: string[]) => {
      const httpPort = await freePort();
      const p2pPort = await freePort();
      const store = Array.isArray(opts.store) ? opts.store[i] : opts.store;
      const args = [
        'start',
        ...['--data-dir', join(root, `d${i}`), '--http-port', String(httpPort)],
        ...['--listen', `/ip4/127.0.0.1/tcp/${p2pPort}`, '--zone', opts.zones?.[i] ?? `z${i}`],
        ...['--store', store ?? 'level', '--durability', opts.durability ?? 'os'],
        ...['--log-level', process.env.SHOAL_TEST_LOG ?? opts.logLevel ?? 'warn'],
        ...(secretFile ? ['--cluster-secret', secretFile] : []),
        // Tests wait for old copies to go: a short grace period after a move's release.
        ...['--move-grace-ms', '1000'],
        ...join0.flatMap((a) => ['--join', a]),
        ...(opts.extra?.[i] ?? []),
      ];
      return { url: `http://127.0.0.1:${httpPort}`, dataDir: join(root, `d${i}`), args };
    };
    // freePort() only finds ports free at that moment: a daemon starting beside this one may take one as
    // an ephemeral port (an outbound dial, its bulk listener) before this daemon binds it. Retry with new ports.
    const launch = async (i: number, join0: string[]): Promise<DaemonProcess> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await launchTracked(await argsFor(i, join0));
        } catch (err) {
          if (attempt >= 3 || !/EADDRINUSE|ADDRESS_IN_USE|cannot start libp2p/.test(String(err))) throw err;
        }
      }
    };
    daemons[0] = await launch(0, []);
    const s0 = await statusOf(daemons[0]);
    peerIds[0] = s0.peerId;
    if (opts.n > 1) {
      const addr0 = s0.multiaddrs?.find((a) => a.includes('/tcp/')) ?? s0.multiaddrs?.[0];
      if (!addr0) {
        throw new Error(`daemon 0 reports no multiaddrs in /admin/status (is the cluster wired into the daemon?)`);
      }
      const rest = await Promise.allSettled(
        Array.from({ length: opts.n - 1 }, async (_, k) => {
          daemons[k + 1] = await launch(k + 1, [addr0]);
        }),
      );
      const failed = rest.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (let i = 1; i < opts.n; i++) peerIds[i] = (await statusOf(daemons[i])).peerId;
    }
    if (opts.converge ?? true) await cluster.waitConverged(opts.convergeTimeoutMs ?? 20_000);
    return cluster;
  } catch (err) {
    await cluster.stopAll();
    throw err;
  }
}

async function waitConverged(cluster: Cluster, peerIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const alive = cluster.alive();
    const views = await Promise.all(
      alive.map(async (i) => {
        try {
          const s = await statusOf(cluster.daemons[i]);
          peerIds[i] = s.peerId;
          return { i, peers: peerIdsOf(s.peers) };
        } catch (err) {
          return { i, peers: [] as string[], err: (err as Error).message };
        }
      }),
    );
    const missing = views.map((v) => ({
      i: v.i,
      err: 'err' in v ? v.err : undefined,
      lacks: alive.filter((j) => j !== v.i && !v.peers.includes(peerIds[j])),
      sees: v.peers.length,
    }));
    if (missing.every((m) => !m.err && m.lacks.length === 0)) return;
    last = missing
      .filter((m) => m.err || m.lacks.length)
      .map((m) => `daemon ${m.i} sees ${m.sees} peers, lacks [${m.lacks.join(',')}]${m.err ? ` (${m.err})` : ''}`)
      .join('; ');
    if (Date.now() > deadline) {
      const tails = alive.map((i) => `--- daemon ${i}:\n${cluster.daemons[i].output().slice(-600)}`).join('\n');
      throw new Error(`cluster did not converge within ${timeoutMs} ms: ${last}\n${tails}`);
    }
    await sleep(100);
  }
}
