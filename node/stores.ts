import { join } from 'node:path';
import { createLevelStore } from '../plugins/store-level/index.ts';
import { createPostgresStore } from '../plugins/store-postgres/index.ts';
import { createS3Store } from '../plugins/store-s3/index.ts';
import { createSqliteStore } from '../plugins/store-sqlite/index.ts';
import type { Store } from '../src/store/index.ts';
import { ConfigError, type DaemonConfig } from './config.ts';

/** Creates the configured storage backend (not yet opened). */
export function createConfiguredStore(cfg: DaemonConfig): Store {
  const durability = cfg.durability;
  switch (cfg.store) {
    case 'level':
      return createLevelStore({ location: join(cfg.dataDir, 'level'), durability });
    case 'sqlite':
      return createSqliteStore({ path: join(cfg.dataDir, 'shoal.sqlite'), durability });
    case 'postgres':
      if (!cfg.pgUrl) throw new ConfigError('--store postgres needs --pg-url (or SHOAL_PG_URL)');
      return createPostgresStore({ connectionString: cfg.pgUrl, table: cfg.pgTable, durability });
    case 's3':
      if (!cfg.s3Endpoint && !process.env.AWS_REGION && !cfg.s3Region)
        throw new ConfigError('--store s3 needs --s3-endpoint or a region');
      return createS3Store({
        endpoint: cfg.s3Endpoint,
        bucket: cfg.s3Bucket,
        prefix: cfg.s3Prefix,
        region: cfg.s3Region,
        forcePathStyle: cfg.s3Endpoint !== undefined,
        createBucket: true,
        credentials:
          cfg.s3AccessKeyId && cfg.s3SecretAccessKey
            ? { accessKeyId: cfg.s3AccessKeyId, secretAccessKey: cfg.s3SecretAccessKey }
            : undefined,
        durability,
      });
    default:
      throw new ConfigError(`unknown store ${String(cfg.store)}`);
  }
}
