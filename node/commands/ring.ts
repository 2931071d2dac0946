/**
 * `shoal ring`: the home placement of a running daemon's ring (`GET /admin/ring`): partitions and primaries
 * per member and per zone, and how many partitions have fewer than R replicas. Tables by default, `--json`
 * for the API's answer.
 */

import { adminRequest, adminTarget } from '../admin-client.ts';
import type { RingView } from '../cluster-admin.ts';
import { EXIT_CODES, parseCommand, print, runAdmin, table, UsageError } from './dsm.ts';

const USAGE = `usage:
  shoal ring                           partitions per member and zone, under-replicated partitions
options: [--json] [--url http://127.0.0.1:7070 | SHOAL_URL] [--admin-token-file <file>]
${EXIT_CODES}
`;

const share = (n: number, of: number) => (of === 0 ? '—' : `${((100 * n) / of).toFixed(1)} %`);

function render(r: RingView): string {
  // Of the replica slots placed (fewer than Q × R while partitions are under-replicated).
  const slots = r.members.reduce((n, m) => n + m.replicas, 0);
  const members = table(
    ['peer id', 'zone', 'state', 'capacity', 'partitions', 'primaries', 'share'],
    ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
  );
  for (const m of r.members)
    members.push([m.peerId, m.zone, m.state, m.capacity, m.replicas, m.primaries, share(m.replicas, slots)]);
  const zones = table(
    ['zone', 'members', 'partitions', 'primaries', 'share'],
    ['left', 'right', 'right', 'right', 'right'],
  );
  for (const z of r.zones) zones.push([z.zone, z.members, z.replicas, z.primaries, share(z.replicas, slots)]);
  const why = r.underReplicated === 0 ? '' : ' (fewer than R members up)';
  return (
    `${r.partitions} partitions × R=${r.replicas}; under-replicated: ${r.underReplicated}${why}; zone collisions: ${r.zoneCollisions}\n` +
    `${members.toString()}\n${zones.toString()}\n`
  );
}

async function dispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  return print(values.json, await adminRequest<RingView>(adminTarget(values), 'GET', '/admin/ring'), render);
}

/** `shoal ring`. */
export async function run(argv: string[]): Promise<number> {
  return runAdmin('ring', USAGE, () => dispatch(argv));
}
