import type { Logger } from 'pino';
import type { PaeAdmin } from '../src/api/pae-routes.ts';
import {
  createPae,
  createZoneRtt,
  DEFAULT_MODEL_PATH,
  type LatencyMatrix,
  type Pae,
  type PaeSource,
  type RttMember,
} from '../src/pae/index.ts';

/** What the daemon's PAE reads: access series from the statistics, and the members with their ping RTTs. */
export interface PaeWiringComponents {
  logger: Logger;
  /** The daemon passes the cluster view's source (`ClusterView.paeSource`): the whole cluster's demand. */
  source: PaeSource;
  /** The net's members (smoothed ping RTTs); empty until the net is up, since the PAE starts first. */
  members: () => Iterable<RttMember>;
}

/**
 * The daemon's Predictive Access Engine: forecasts the cluster's demand (gossiped access statistics merged
 * with this daemon's own), off the request path,
 * with the shipped model unless `--pae-model` names another (falls back to the best baseline, logged).
 * Migration-score latency: `--latency-matrix` where it has the pair, else the measured RTT between this
 * daemon's zone and another (median over its up peers there), else the scores' default.
 */
export async function startPae(
  components: PaeWiringComponents,
  options: { modelPath?: string; intervalMs: number; zone: string; latencyMs?: LatencyMatrix },
): Promise<{ pae: Pae; admin: PaeAdmin }> {
  const rtt = createZoneRtt({ members: components.members }, { zone: options.zone });
  const pae = createPae(
    {
      logger: components.logger.child({ module: 'pae' }),
      source: components.source,
      rttMs: (from, to) => rtt.rttMs(from, to),
      rttZones: () => rtt.measuredZones(),
    },
    {
      modelPath: options.modelPath ?? DEFAULT_MODEL_PATH,
      intervalMs: options.intervalMs,
      latencyMs: options.latencyMs,
    },
  );
  await pae.start();
  return { pae, admin: { heatmap: (q) => pae.heatmap(q), model: () => pae.modelInfo() } };
}
