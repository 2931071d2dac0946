import type { Logger } from 'pino';
import type { PaeAdmin } from '../src/api/pae-routes.ts';
import { createPae, DEFAULT_MODEL_PATH, type Pae } from '../src/pae/index.ts';
import type { Stats } from '../src/stats/index.ts';

/**
 * The daemon's Predictive Access Engine: forecasts from the access statistics, off the request path,
 * with the shipped model unless `--pae-model` names another (falls back to the best baseline, logged).
 */
export async function startPae(
  stats: Stats,
  logger: Logger,
  options: { modelPath?: string; intervalMs: number },
): Promise<{ pae: Pae; admin: PaeAdmin }> {
  const pae = createPae(
    { logger: logger.child({ module: 'pae' }), source: stats.paeSource() },
    { modelPath: options.modelPath ?? DEFAULT_MODEL_PATH, intervalMs: options.intervalMs },
  );
  await pae.start();
  return { pae, admin: { heatmap: (q) => pae.heatmap(q), model: () => pae.modelInfo() } };
}
