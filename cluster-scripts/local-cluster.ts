#!/usr/bin/env node
/**
 * `npm run cluster -- [N=3] [flags]`: starts N shoal daemons on loopback, joins them into one cluster,
 * prints their URLs, peer ids and zones, and runs until SIGINT/SIGTERM (or `--stop-after`), then
 * stops every daemon (SIGTERM, SIGKILL after `--stop-timeout`).
 *
 * Daemon i: HTTP on `--base-port + i`, libp2p on `--p2p-base-port + i`, data in `<data-root>/d<i>`,
 * log in `<data-root>/d<i>.log`, zone `zones[i]` (default `z<i>`). The cluster secret is
 * `<data-root>/cluster.key`: created fresh with `shoal init-cluster` when missing, reused otherwise
 * (the data dirs remember their cluster; pass `--fresh` to wipe the data root first).
 *
 * The daemons run in their own process groups, so a terminal's Ctrl-C reaches only this script,
 * which then stops them in order.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DAEMON_NODE_FLAGS } from '../node/node-flags.ts';

const CLI = resolve(import.meta.dirname, '../node/cli.ts');
const USAGE = `usage: node cluster-scripts/local-cluster.ts [N=3] [--zones a,b,c] [--base-port 7070]
         [--p2p-base-port 8070] [--data-root ./data/cluster] [--store level] [--durability fsync|os]
         [--log-level warn] [--stop-after <seconds>] [--stop-timeout <seconds>] [--fresh] [--json]
         [--wan cluster-scripts/wan-three-regions.json]  (emulated zone latency; enables --fault-injection)`;

interface Node {
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

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves when `p` settles or after `ms`, whichever is first; never leaves a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
const exited = (p: ChildProcess | undefined) => !p || p.exitCode !== null || p.signalCode !== null;

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      zones: { type: 'string' },
      'base-port': { type: 'string', default: '7070' },
      'p2p-base-port': { type: 'string' },
      'data-root': { type: 'string', default: './data/cluster' },
      store: { type: 'string', default: 'level' },
      durability: { type: 'string', default: 'fsync' },
      'log-level': { type: 'string', default: 'warn' },
      'stop-after': { type: 'string' },
      'stop-timeout': { type: 'string', default: '15' },
      fresh: { type: 'boolean', default: false },
      wan: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const n = Number(positionals[0] ?? 3);
  const basePort = Number(values['base-port']);
  const p2pBase = Number(values['p2p-base-port'] ?? basePort + 1000);
  const zones = values.zones ? values.zones.split(',').map((z) => z.trim()) : [];
  const bad = (what: string) => {
    err(`shoal cluster: ${what}\n${USAGE}`);
    process.exit(2);
  };
  if (values.help) {
    out(USAGE);
    process.exit(0);
  }
  if (!Number.isInteger(n) || n < 1 || n > 64) bad(`N must be an integer in 1..64, got ${positionals[0]}`);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + n > 65535) bad('bad --base-port');
  if (!Number.isInteger(p2pBase) || p2pBase < 1 || p2pBase + n > 65535) bad('bad --p2p-base-port');
  if (zones.length > 0 && zones.length !== n) bad(`--zones lists ${zones.length} zones for ${n} daemons`);
  const stopAfter = values['stop-after'] === undefined ? undefined : Number(values['stop-after']);
  if (stopAfter !== undefined && !(stopAfter > 0)) bad('--stop-after needs a positive number of seconds');
  let wan: Record<string, Record<string, number>> | undefined;
  if (values.wan !== undefined) {
    try {
      wan = (JSON.parse(readFileSync(values.wan, 'utf8')) as { matrix: typeof wan }).matrix;
    } catch (e) {
      bad(`--wan ${values.wan}: ${(e as Error).message}`);
    }
    if (wan === undefined || typeof wan !== 'object') bad(`--wan ${values.wan}: no "matrix" object`);
  }
  return {
    n,
    wan,
    basePort,
    p2pBase,
    zones,
    dataRoot: resolve(values['data-root']),
    store: values.store,
    durability: values.durability,
    logLevel: values['log-level'],
    stopAfterMs: stopAfter === undefined ? undefined : stopAfter * 1000,
    stopTimeoutMs: Number(values['stop-timeout']) * 1000,
    fresh: values.fresh,
    json: values.json,
  };
}

/** Sets the emulated one-way zone latency on every daemon (`PUT /admin/faults/latency`). */
async function applyWan(nodes: readonly Node[], matrix: Record<string, Record<string, number>>): Promise<void> {
  for (const node of nodes) {
    const r = await fetch(`${node.url}/admin/faults/latency`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matrix }),
      signal: AbortSignal.timeout(5000),
    });
    if (!r.ok) throw new Error(`daemon ${node.i} refused the latency matrix: ${r.status} ${await r.text()}`);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function status(url: string): Promise<{ peerId?: string; multiaddrs?: string[]; peers?: unknown } | undefined> {
  try {
    const r = await fetch(`${url}/admin/status`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? ((await r.json()) as { peerId?: string; multiaddrs?: string[]; peers?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

async function launch(node: Node, timeoutMs = 30_000): Promise<void> {
  const log = openSync(join(node.dataDir, '..', `d${node.i}.log`), 'a');
  node.proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, ...node.args], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(node.proc)) throw new Error(`daemon ${node.i} exited (${node.proc.exitCode}); see its log`);
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
  throw new Error(`daemon ${node.i} did not answer on ${node.url} within ${timeoutMs} ms`);
}

async function waitConverged(nodes: Node[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted) {
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
async function stopAll(nodes: Node[], timeoutMs: number): Promise<void> {
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
        err(`daemon ${node.i} did not stop within ${timeoutMs} ms: SIGKILL`);
        signalGroup(p, 'SIGKILL');
        await within(gone, 2000);
      }
    }),
  );
}

function printTable(nodes: Node[], secretFile: string, dataRoot: string): void {
  const rows = nodes.map((node) => [
    String(node.i),
    node.zone,
    node.url,
    node.peerId ?? '?',
    String(node.peers ?? 0),
    node.multiaddrs?.[0] ?? '(none)',
  ]);
  const head = ['#', 'zone', 'http', 'peer id', 'peers', 'libp2p'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  out(line(head));
  for (const r of rows) out(line(r));
  const [a, b] = [nodes[0], nodes[nodes.length - 1]];
  out(`\ncluster secret: ${secretFile}\nlogs:           ${dataRoot}/d<i>.log\n\ntry:`);
  out(`  curl -X PUT --data-binary hello '${a.url}/v1/records/greeting?consistency=quorum'`);
  out(`  curl '${b.url}/v1/records/greeting?consistency=quorum'`);
  out(`  curl '${b.url}/v1/records/greeting?consistency=linearizable'`);
  out(`  curl ${a.url}/admin/status`);
  out(`  curl ${a.url}/admin/peers`);
  out(`  curl ${a.url}/admin/ring`);
  out('\nCtrl-C stops every daemon.');
}

async function main(): Promise<number> {
  const o = parse();
  if (o.fresh) rmSync(o.dataRoot, { recursive: true, force: true });
  mkdirSync(o.dataRoot, { recursive: true });
  const secretFile = join(o.dataRoot, 'cluster.key');
  if (!existsSync(secretFile)) {
    const r = spawnSync(process.execPath, [CLI, 'init-cluster', '--out', secretFile], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0) {
      err(`shoal cluster: shoal init-cluster failed: ${r.stderr}`);
      return 1;
    }
  }
  const nodes: Node[] = Array.from({ length: o.n }, (_, i) => {
    const dataDir = join(o.dataRoot, `d${i}`);
    const zone = o.zones[i] ?? `z${i}`;
    const args = [
      'start',
      ...['--data-dir', dataDir, '--http-port', String(o.basePort + i)],
      ...['--listen', `/ip4/127.0.0.1/tcp/${o.p2pBase + i}`, '--zone', zone],
      ...['--store', o.store, '--durability', o.durability, '--log-level', o.logLevel],
      ...['--cluster-secret', secretFile],
      ...(o.wan ? ['--fault-injection', 'on'] : []),
    ];
    return { i, zone, url: `http://127.0.0.1:${o.basePort + i}`, dataDir, args };
  });
  for (const node of nodes) {
    for (const port of [o.basePort + node.i, o.p2pBase + node.i]) {
      if (!(await portFree(port))) {
        err(`shoal cluster: port ${port} (daemon ${node.i}) is in use; pick another --base-port/--p2p-base-port`);
        return 1;
      }
    }
    mkdirSync(node.dataDir, { recursive: true });
  }

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    if (!stopping) {
      err(`\nshoal cluster: ${why}: stopping ${o.n} daemon(s)`);
      stopping = stopAll(nodes, o.stopTimeoutMs);
    }
    return stopping;
  };
  let stopTimer: NodeJS.Timeout | undefined;
  const finished = new Promise<string>((res) => {
    process.once('SIGINT', () => res('SIGINT'));
    process.once('SIGTERM', () => res('SIGTERM'));
    const after = o.stopAfterMs;
    if (after !== undefined) stopTimer = setTimeout(() => res(`--stop-after ${after / 1000}s`), after);
  });
  process.once('exit', () => {
    for (const node of nodes) if (!exited(node.proc) && node.proc?.pid) process.kill(-node.proc.pid, 'SIGKILL');
  });

  try {
    await launch(nodes[0]);
    const seed = nodes[0].multiaddrs?.find((a) => a.includes('/tcp/'));
    if (o.n > 1 && !seed) {
      err('shoal cluster: daemon 0 reports no multiaddrs; this build has no cluster yet, so the daemons run unjoined');
    }
    for (const node of nodes.slice(1)) if (seed) node.args.push('--join', seed);
    await Promise.all(nodes.slice(1).map((node) => launch(node)));
    const interrupted = new AbortController();
    void finished.then(() => interrupted.abort());
    const converged = await waitConverged(nodes, 30_000, interrupted.signal);
    if (o.wan) await applyWan(nodes, o.wan);
    if (!converged && o.n > 1 && !interrupted.signal.aborted) {
      err('shoal cluster: the daemons do not all see each other after 30 s (see their logs)');
    }
  } catch (e) {
    err(`shoal cluster: ${(e as Error).message}`);
    clearTimeout(stopTimer);
    await stop('start failed');
    return 1;
  }

  if (o.json) {
    out(JSON.stringify({ secretFile, daemons: nodes.map(({ proc: _p, args: _a, ...rest }) => rest) }));
  } else {
    printTable(nodes, secretFile, o.dataRoot);
  }
  for (const node of nodes) {
    node.proc?.once('exit', (code, signal) => {
      if (!stopping) err(`shoal cluster: daemon ${node.i} exited on its own (${code ?? signal}); see d${node.i}.log`);
    });
  }
  const reason = await finished;
  clearTimeout(stopTimer);
  await stop(reason);
  err('shoal cluster: all daemons stopped');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`shoal cluster: ${(e as Error)?.stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
