import type { FastifyInstance } from 'fastify';
import type { RecordEngine } from '../replication/engine.ts';
import { checkAccessTags } from './access-tags.ts';
import { dataAuth } from './auth.ts';
import { batchRoutes } from './batch.ts';
import { listRoutes } from './list.ts';
import { limitRequests, type RateLimitOptions } from './rate-limit.ts';
import { type Access, recordsRoutes } from './records.ts';

export interface DataRoutesOptions {
  engine: RecordEngine;
  zone: string;
  maxValueBytes: number;
  maxKeyBytes: number;
  maxBatchOps: number;
  onAccess?: (access: Access) => void;
  /** Per-client limit of data requests (default: none). */
  rateLimit?: RateLimitOptions;
  /** `--data-auth on`: the bearer token every data request must carry (default: none needed). */
  token?: string;
}

/** `/v1/*`: records, listing and batches, behind the data rate limit and, with `--data-auth`, the token. */
export async function dataRoutes(app: FastifyInstance, o: DataRoutesOptions): Promise<void> {
  await limitRequests(app, 'data', o.rateLimit ?? {});
  if (o.token !== undefined) app.addHook('onRequest', dataAuth(o.token));
  app.addHook('onRequest', checkAccessTags);
  const limits = { maxValueBytes: o.maxValueBytes, maxKeyBytes: o.maxKeyBytes, zone: o.zone, onAccess: o.onAccess };
  await app.register(recordsRoutes, { engine: o.engine, ...limits });
  await app.register(listRoutes, { engine: o.engine });
  await app.register(batchRoutes, { engine: o.engine, maxBatchOps: o.maxBatchOps, ...limits });
}
