import type { ClusterAdmin } from '../src/api/cluster-routes.ts';
import { ShoalError } from '../src/errors/index.ts';
import type { Net } from '../src/net/index.ts';
import type { Replication } from '../src/replication/index.ts';

/** The cluster admin operations over the daemon's net and replication (either may still be starting). */
export function clusterAdmin(
  net: () => Net | undefined,
  replication: () => Replication | undefined,
  leave: () => void,
): ClusterAdmin {
  const need = <T>(x: T | undefined): T => {
    if (x === undefined) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return x;
  };
  return {
    peers: () => need(net()).members(),
    ring: () => need(replication()).ring.ring.summary(),
    join: async (multiaddr, signal) => {
      const member = await need(net()).join(multiaddr, { signal });
      replication()?.maintenance.kick();
      return member;
    },
    leave,
  };
}
