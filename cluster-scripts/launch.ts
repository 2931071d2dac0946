/**
 * Start and stop a cluster of shoal daemons on loopback: what `npm run cluster` (`local-cluster.ts`) and
 * `npm run demo` (`demo.ts`) share. Prints nothing; failures are thrown as errors.
 *
 * Daemon i: HTTP on `basePort + i`, libp2p on `p2pBasePort + i`, data in `<dataRoot>/d<i>`, log in
 * `<dataRoot>/d<i>.log`, zone `zones[i]` (default `z<i>`), and `extraArgs` after the usual flags. The cluster
 * secret is `<dataRoot>/cluster.key`: created with `shoal init-cluster` when missing, reused otherwise (the data
 * dirs remember their cluster; `fresh` wipes the data root first). Daemon 0 starts first, the others join it.
 *
 * The daemons run in their own process groups, so a terminal's Ctrl-C reaches only the calling script, which
 * then stops them in order with {@link LocalCluster.stop} (SIGTERM, SIGKILL after `stopTimeoutMs`). A process
 * `exit` hook SIGKILLs whatever is still running when the script exits without stopping them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../node/node-flags.ts';

const CLI = resolve(import.meta.dirname, '../node/cli.ts');

/** One-way emulated delay in ms between zones (`PUT /admin/faults/latency`). */
export type LatencyMatrix = Record<string, Record<string, number>>;

export interface LocalClusterOptions {
  n: number;
  /** Zone of each daemon; default `z<i>`. */
  zones?: readonly string[];
  basePort: number;
  /** Default `basePort + 1000`. */
  p2pBasePort?: number;
  dataRoot: string;
  store?: string;
  durability?: string;
  logLevel?: string;
  /** More `shoal start` flags, given to every daemon. */
  extraArgs?: readonly string[];
  /** Emulated zone latency applied to every daemon once they see each other (enables `--fault-injection`). */
  wan?: LatencyMatrix;
  /** Wipe `dataRoot` first. */
  fresh?: boolean;
  /** Bound of the wait until every daemon sees every other one. Default 30 s. */
  convergeTimeoutMs?: number;
  /** Default 15 s. */
  stopTimeoutMs?: number;
  /** Aborts the start (the daemons already running are stopped). */
  signal?: AbortSignal;
}

export interface LocalNode {
  i: number;
  zone: string;
  url: string;
  dataDir: string;
  args: string[];
  proc?: ChildProcess;
  peerId?: string;
  multiaddrs?: string[];
  peers?: number;
}

export interface LocalCluster {
  readonly nodes: LocalNode[];
  readonly secretFile: string;
  readonly dataRoot: string;
  /** Whether every daemon saw every other one within the converge timeout. */
  readonly converged: boolean;
  /** Stops every daemon; idempotent (later calls return the same promise). */
  stop(): Promise<void>;
  /** True once {@link stop} was called. */
  readonly stopping: boolean;
}

/** Why the cluster could not start (the port, the secret, a daemon that exited or never answered). */
export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

/** The `matrix` of a `--wan` file (`cluster-scripts/wan-three-regions.json`): one-way ms between zones. */
export function readWanMatrix(file: string): LatencyMatrix {
  const m = (JSON.parse(readFileSync(file, 'utf8')) as { matrix?: unknown }).matrix;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error('no "matrix" object');
  return m as LatencyMatrix;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves when `p` settles or after `ms`, whichever is first; never leaves a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
export const exited = (p: ChildProcess | undefined) => !p || p.exitCode !== null || p.signalCode !== null;

export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** Sets the emulated one-way zone latency on every daemon (`PUT /admin/faults/latency`). */
export async function applyWan(nodes: readonly LocalNode[], matrix: LatencyMatrix): Promise<void> {
  for (const node of nodes) {
    const r = await fetch(`${node.url}/admin/faults/latency`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matrix }),
      signal: AbortSignal.timeout(5000),
    });
    if (!r.ok)
      throw new ClusterStartError(`daemon ${node.i} refused the latency matrix: ${r.status} ${await r.text()}`);
  }
}

async function status(url: string): Promise<{ peerId?: string; multiaddrs?: string[]; peers?: unknown } | undefined> {
  try {
    const r = await fetch(`${url}/admin/status`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? ((await r.json()) as { peerId?: string; multiaddrs?: string[]; peers?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

async function launch(node: LocalNode, signal: AbortSignal | undefined, timeoutMs = 30_000): Promise<void> {
  const log = openSync(join(node.dataDir, '..', `d${node.i}.log`), 'a');
  node.proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...node.args], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (exited(node.proc))
      throw new ClusterStartError(`daemon ${node.i} exited (${node.proc.exitCode}); see its log d${node.i}.log`);
    const ready = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    const s = ready ? await status(node.url) : undefined;
    if (s) {
      node.peerId = s.peerId;
      node.multiaddrs = s.multiaddrs ?? [];
      return;
    }
    await sleep(100);
  }
  if (signal?.aborted) throw new ClusterStartError('interrupted');
  throw new ClusterStartError(`daemon ${node.i} did not answer on ${node.url} within ${timeoutMs} ms`);
}

async function waitConverged(nodes: LocalNode[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!signal?.aborted) {
    for (const node of nodes) {
      const s = await status(node.url);
      node.peers = Array.isArray(s?.peers) ? s.peers.length : typeof s?.peers === 'number' ? s.peers : 0;
    }
    if (nodes.every((node) => (node.peers ?? 0) >= nodes.length - 1)) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return false;
}

/** SIGTERM every running daemon's process group, then SIGKILL whatever is left after `timeoutMs`. */
async function stopAll(nodes: LocalNode[], timeoutMs: number, warn: (s: string) => void): Promise<void> {
  const signalGroup = (p: ChildProcess, sig: NodeJS.Signals) => {
    try {
      if (p.pid !== undefined) process.kill(-p.pid, sig);
    } catch {
      // already gone
    }
  };
  const running = nodes.filter((node) => !exited(node.proc));
  await Promise.all(
    running.map(async (node) => {
      const p = node.proc as ChildProcess;
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      signalGroup(p, 'SIGTERM');
      await within(gone, timeoutMs);
      if (!exited(p)) {
        warn(`daemon ${node.i} did not stop within ${timeoutMs} ms: SIGKILL`);
        signalGroup(p, 'SIGKILL');
        await within(gone, 2000);
      }
    }),
  );
}

/** Writes the cluster secret with `shoal init-cluster` unless it exists. */
function ensureSecret(secretFile: string): void {
  if (existsSync(secretFile)) return;
  const r = spawnSync(process.execPath, [CLI, 'init-cluster', '--out', secretFile], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new ClusterStartError(`shoal init-cluster failed: ${r.stderr}`);
}

/**
 * Starts the daemons, joins them and waits (bounded) until they see each other; see the module doc.
 * `warn` hears what the caller may want to print: a daemon that needed SIGKILL to stop, a daemon 0 with no address.
 */
export async function startLocalCluster(
  o: LocalClusterOptions,
  warn: (s: string) => void = () => {},
): Promise<LocalCluster> {
  const dataRoot = resolve(o.dataRoot);
  const p2pBase = o.p2pBasePort ?? o.basePort + 1000;
  if (o.fresh) rmSync(dataRoot, { recursive: true, force: true });
  mkdirSync(dataRoot, { recursive: true });
  const secretFile = join(dataRoot, 'cluster.key');
  ensureSecret(secretFile);
  const nodes: LocalNode[] = Array.from({ length: o.n }, (_, i) => {
    const dataDir = join(dataRoot, `d${i}`);
    const zone = o.zones?.[i] ?? `z${i}`;
    const args = [
      'start',
      ...['--data-dir', dataDir, '--http-port', String(o.basePort + i)],
      ...['--listen', `/ip4/127.0.0.1/tcp/${p2pBase + i}`, '--zone', zone],
      ...['--store', o.store ?? 'level', '--durability', o.durability ?? 'fsync', '--log-level', o.logLevel ?? 'warn'],
      ...['--cluster-secret', secretFile],
      ...(o.wan ? ['--fault-injection', 'on'] : []),
      ...(o.extraArgs ?? []),
    ];
    return { i, zone, url: `http://127.0.0.1:${o.basePort + i}`, dataDir, args };
  });
  for (const node of nodes) {
    for (const port of [o.basePort + node.i, p2pBase + node.i]) {
      if (!(await portFree(port)))
        throw new ClusterStartError(
          `port ${port} (daemon ${node.i}) is in use; pick another --base-port/--p2p-base-port`,
        );
    }
    mkdirSync(node.dataDir, { recursive: true });
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopAll(nodes, o.stopTimeoutMs ?? 15_000, warn);
    return stopping;
  };
  process.once('exit', () => {
    for (const node of nodes) if (!exited(node.proc) && node.proc?.pid) process.kill(-node.proc.pid, 'SIGKILL');
  });
  let converged = false;
  try {
    await launch(nodes[0], o.signal);
    const seed = nodes[0].multiaddrs?.find((a) => a.includes('/tcp/'));
    if (o.n > 1 && !seed)
      warn('daemon 0 reports no multiaddrs; this build has no cluster yet, so the daemons run unjoined');
    for (const node of nodes.slice(1)) if (seed) node.args.push('--join', seed);
    await Promise.all(nodes.slice(1).map((node) => launch(node, o.signal)));
    converged = await waitConverged(nodes, o.convergeTimeoutMs ?? 30_000, o.signal);
    if (o.signal?.aborted) throw new ClusterStartError('interrupted');
    if (o.wan) await applyWan(nodes, o.wan);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    nodes,
    secretFile,
    dataRoot,
    converged,
    stop,
    get stopping() {
      return stopping !== undefined;
    },
  };
}
