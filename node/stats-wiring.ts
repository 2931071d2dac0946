import type { Logger } from 'pino';
import type { StatsAdmin } from '../src/api/stats-routes.ts';
import type { Net } from '../src/net/index.ts';
import { ClusterView, createStats, createStatsGossip, type Stats, type StatsGossip } from '../src/stats/index.ts';
import type { Store } from '../src/store/index.ts';

/** The daemon's access statistics: recorded on every data request, persisted, gossiped, aggregated. */
export interface DaemonStats {
  stats: Stats;
  view: ClusterView;
  admin: StatsAdmin;
  /** Starts gossip once libp2p runs. */
  startGossip(net: Net, zone: string): void;
  stop(): Promise<void>;
}

export async function startStats(
  store: Store,
  logger: Logger,
  options: { bucketMs: number; gossipIntervalMs: number },
): Promise<DaemonStats> {
  const stats = createStats({ logger: logger.child({ module: 'stats' }), store }, { bucketMs: options.bucketMs });
  await stats.start();
  // The view answers with this daemon's own counts read live (not its gossip echo): see ClusterViewOptions.local.
  const view = new ClusterView({ bucketMs: stats.bucketMs, local: stats });
  let gossip: StatsGossip | undefined;
  const admin: StatsAdmin = {
    top: (q) => (q.scope === 'local' ? stats.top(q) : view.top(q)),
    record: (key) => ({ key, local: stats.series(key), cluster: view.record(key) }),
    summary: () => ({
      local: stats.summary(),
      cluster: { totals: view.totals(), nodes: view.nodes() },
      gossipRejected: gossip?.rejected(),
    }),
  };
  return {
    stats,
    view,
    admin,
    startGossip(net, zone) {
      gossip = createStatsGossip(
        {
          stats,
          view,
          logger: logger.child({ module: 'stats-gossip' }),
          nodeId: net.peerId,
          zone,
          pubsub: {
            publish: (topic, data) => net.publish(topic, data),
            subscribe: (topic, handler, validate) => {
              net.subscribe(
                topic,
                (data, from) => handler(data, from.peerId),
                validate ? { validate: (data) => validate(data) } : {},
              );
            },
          },
        },
        { intervalMs: options.gossipIntervalMs },
      );
      gossip.start();
    },
    async stop() {
      gossip?.stop();
      await stats.stop();
    },
  };
}
