/**
 * The HTTP face of a daemon (fastify 5): the data API (`/v1/records`, `/v1/batch`), health, metrics,
 * OpenAPI, and the authenticated admin API. Every route has JSON schemas; every error is
 * `{ code, message }` from the catalogue in src/errors. Tests drive it with `app.inject()`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RecordEngine } from '../replication/engine.ts';
import { type AdminStatus, adminRoutes } from './admin.ts';
import { batchRoutes } from './batch.ts';
import { classify, installErrorHandling, sendError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { MAX_KEY_BYTES } from './keys.ts';
import { listRoutes } from './list.ts';
import { installRequestMetrics, metricsRoutes } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { type Access, recordsRoutes } from './records.ts';
import { rootRoutes } from './root.ts';

export type { AdminStatus } from './admin.ts';
export { errorCatalogueMarkdown } from './errors.ts';
export { MAX_KEY_BYTES, validateKey } from './keys.ts';
export { createMetricsRegistry } from './metrics.ts';
export { type Access, type AccessClass, accessClass } from './records.ts';

export interface ApiComponents {
  logger: Logger;
  engine: RecordEngine;
  registry: Registry;
  /** Current daemon status for `GET /admin/status`. */
  status: () => AdminStatus | Promise<AdminStatus>;
  /** True once the daemon serves data. */
  ready: () => boolean;
  /** Called once per data access (stats): every record request and every operation of a batch. */
  onAccess?: (access: Access) => void;
}

export interface ApiOptions {
  /** This daemon's zone: the origin of requests without `x-shoal-origin`. */
  zone: string;
  /** Largest value in bytes (default 16 MiB). */
  maxValueBytes?: number;
  /** Longest key in UTF-8 bytes (default 1024; lower when the store cannot take that). */
  maxKeyBytes?: number;
  /** Most operations in one `POST /v1/batch` (default 1000). */
  maxBatchOps?: number;
  /** Admin bearer token; without one the admin API answers only on loopback. */
  adminToken?: string;
  version?: string;
  /** More admin routes (cluster, stats, PAE), behind the admin authentication. */
  adminRoutes?: FastifyPluginAsync[];
}

export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** Builds the fastify app (not listening: call `listen()` or `inject()`). */
export async function createApi(components: ApiComponents, options: ApiOptions): Promise<FastifyInstance> {
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const maxKeyBytes = options.maxKeyBytes ?? MAX_KEY_BYTES;
  const version = options.version ?? '0.0.0';
  const app = Fastify({
    loggerInstance: components.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (it costs a few µs on every GET): request logging is off, and the
    // error handler names the request id itself.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    bodyLimit: 1024 * 1024,
    // Keys are validated by the routes (INVALID_KEY), so let up to 1024 percent-encoded bytes through.
    routerOptions: { maxParamLength: 8192 },
    // Errors raised before routing (a URL that is not valid percent-encoded UTF-8) use the catalogue too.
    frameworkErrors: (err, _req, reply) => {
      sendError(reply, classify(err));
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
  });
  installErrorHandling(app);
  installRequestMetrics(app, components.registry);
  await registerOpenApi(app, version);
  await app.register(metricsRoutes, { registry: components.registry });
  await app.register(healthRoutes, { ready: components.ready });
  await app.register(rootRoutes, { version });
  await app.register(recordsRoutes, {
    engine: components.engine,
    maxValueBytes,
    maxKeyBytes,
    zone: options.zone,
    onAccess: components.onAccess,
  });
  await app.register(listRoutes, { engine: components.engine });
  await app.register(batchRoutes, {
    engine: components.engine,
    maxValueBytes,
    maxBatchOps: options.maxBatchOps ?? 1000,
    maxKeyBytes,
    zone: options.zone,
    onAccess: components.onAccess,
  });
  await app.register(adminRoutes, {
    token: options.adminToken,
    status: components.status,
    extraRoutes: options.adminRoutes,
  });
  return app;
}
