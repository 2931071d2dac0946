#!/usr/bin/env -S node --single-threaded-gc
// The `shoal` command: dispatches to node/commands/<command>.ts.
import { ShoalError } from '../src/errors/index.ts';
import { VERSION } from './version.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> =
  {
    start: { summary: 'start a daemon (shoal start --help for its flags)', load: () => import('./commands/start.ts') },
    status: {
      summary: 'a running daemon: peer id, zone, store, version, epoch, peers up, addresses',
      load: () => import('./commands/status.ts'),
    },
    'init-cluster': {
      summary: 'write a new cluster secret: init-cluster --out <file>',
      load: () => import('./commands/init-cluster.ts'),
    },
    peers: {
      summary: 'cluster members: peer id, zone, state, address, store, used / limit',
      load: () => import('./commands/peers.ts'),
    },
    ring: {
      summary: 'partitions per member and zone, under-replicated partitions',
      load: () => import('./commands/ring.ts'),
    },
    heatmap: {
      summary: 'forecast heatmap: hottest records × zones (heatmap --top 20)',
      load: () => import('./commands/heatmap.ts'),
    },
    leave: {
      summary: 'decommission a running daemon: hand off its data, leave, exit',
      load: () => import('./commands/leave.ts'),
    },
    remove: {
      summary: 'remove a dead member for good (re-replicates its data): remove <peerId> [--force]',
      load: () => import('./commands/remove.ts'),
    },
    revoke: {
      summary: "revoke a member's key with the cluster admin key: revoke <peerId> --admin-key <file>",
      load: () => import('./commands/revoke.ts'),
    },
    placement: {
      summary: "a record's holders: placement show | set --replicas | reset | list",
      load: () => import('./commands/placement.ts'),
    },
    layout: {
      summary: 'signed layout: layout [status] | epochs | rollback --to-time <t> | --wave <id>',
      load: () => import('./commands/layout.ts'),
    },
    dsm: {
      summary: 'dynamic sharding manager: dsm status | plan | pause | resume | policy <p>',
      load: () => import('./commands/dsm.ts'),
    },
    migrations: {
      summary: 'moves in flight and recent ones (DSM, manual, rollback)',
      load: () => import('./commands/migrations.ts'),
    },
    stats: {
      summary: "access statistics: stats import --trace <csv> | stats top (a running daemon's, or --data-dir)",
      load: () => import('./commands/stats.ts'),
    },
    replay: {
      summary: 'replay a trace against a live cluster: replay --trace <csv> --cluster <url,...> --speedup <x>',
      load: () => import('./commands/replay.ts'),
    },
    pae: {
      summary: 'predictive access engine: pae train | eval | predict (see docs/pae.md)',
      load: () => import('./commands/pae.ts'),
    },
    errors: { summary: 'print the error catalogue (--markdown)', load: () => import('./commands/errors.ts') },
  };

/** A flag `util.parseArgs` refused (unknown, missing its value, unexpected argument). */
const isUsageError = (err: unknown): err is Error =>
  err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_');

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `shoal ${VERSION}: peer-to-peer storage daemon\n\nusage: shoal <command> [options]\n\n${rows.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`shoal: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  // ps and top show `shoal start --d…` (the first 15 bytes) instead of Node's `MainThread`; ps -f shows the
  // command line as typed, so several daemons stay apart.
  process.title = ['shoal', ...argv].join(' ');
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ShoalError) {
      process.stderr.write(`shoal: ${err.code}: ${err.message}\n`);
      process.exitCode = err.code === 'CONFIG_INVALID' ? 2 : 1;
    } else if (isUsageError(err)) {
      process.stderr.write(`shoal: ${err.message} (shoal --help)\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`shoal: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
