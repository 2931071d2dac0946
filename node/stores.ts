import { join } from 'node:path';
import { createLevelStore } from '../plugins/store-level/index.ts';
import type { Store } from '../src/store/index.ts';
import { ConfigError, type DaemonConfig } from './config.ts';

/** Creates the configured storage backend (not yet opened). */
export function createConfiguredStore(cfg: DaemonConfig): Store {
  switch (cfg.store) {
    case 'level':
      return createLevelStore({ location: join(cfg.dataDir, 'level'), durability: cfg.durability });
    default:
      throw new ConfigError(`store ${cfg.store} is not available in this build`);
  }
}
