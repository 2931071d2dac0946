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
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LatencyMatrix, type LocalCluster, type LocalNode, readWanMatrix, startLocalCluster } from './launch.ts';

const USAGE = `usage: node cluster-scripts/local-cluster.ts [N=3] [--zones a,b,c] [--base-port 7070]
         [--p2p-base-port 8070] [--data-root ./data/cluster] [--store level] [--durability fsync|os]
         [--log-level warn] [--stop-after <seconds>] [--stop-timeout <seconds>] [--fresh] [--json]
         [--wan cluster-scripts/wan-three-regions.json]  (emulated zone latency; enables --fault-injection)`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

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
  let wan: LatencyMatrix | undefined;
  if (values.wan !== undefined) {
    try {
      wan = readWanMatrix(values.wan);
    } catch (e) {
      bad(`--wan ${values.wan}: ${(e as Error).message}`);
    }
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

function printTable(nodes: LocalNode[], secretFile: string, dataRoot: string): void {
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
  const interrupted = new AbortController();
  let stopTimer: NodeJS.Timeout | undefined;
  const finished = new Promise<string>((res) => {
    process.once('SIGINT', () => res('SIGINT'));
    process.once('SIGTERM', () => res('SIGTERM'));
    const after = o.stopAfterMs;
    if (after !== undefined) stopTimer = setTimeout(() => res(`--stop-after ${after / 1000}s`), after);
  });
  void finished.then(() => interrupted.abort());
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster(
      {
        n: o.n,
        zones: o.zones,
        basePort: o.basePort,
        p2pBasePort: o.p2pBase,
        dataRoot: o.dataRoot,
        store: o.store,
        durability: o.durability,
        logLevel: o.logLevel,
        wan: o.wan,
        fresh: o.fresh,
        stopTimeoutMs: o.stopTimeoutMs,
        signal: interrupted.signal,
      },
      (s) => err(`shoal cluster: ${s}`),
    );
  } catch (e) {
    err(`shoal cluster: ${(e as Error).message}`);
    clearTimeout(stopTimer);
    return 1;
  }
  const { nodes, secretFile } = cluster;
  if (!cluster.converged && o.n > 1)
    err('shoal cluster: the daemons do not all see each other after 30 s (see their logs)');
  if (o.json) {
    out(JSON.stringify({ secretFile, daemons: nodes.map(({ proc: _p, args: _a, ...rest }) => rest) }));
  } else {
    printTable(nodes, secretFile, o.dataRoot);
  }
  for (const node of nodes) {
    node.proc?.once('exit', (code, signal) => {
      if (!cluster.stopping)
        err(`shoal cluster: daemon ${node.i} exited on its own (${code ?? signal}); see d${node.i}.log`);
    });
  }
  const reason = await finished;
  clearTimeout(stopTimer);
  err(`\nshoal cluster: ${reason}: stopping ${o.n} daemon(s)`);
  await cluster.stop();
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
