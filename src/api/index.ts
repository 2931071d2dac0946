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
import { dataRoutes } from './data-routes.ts';
import { classify, installErrorHandling, sendError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { MAX_KEY_BYTES } from './keys.ts';
import { installRequestMetrics, metricsRoutes } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import type { Access } from './records.ts';
import { linksOf, rootRoutes } from './root.ts';
import { indexRoutes } from './route-index.ts';

export type { AdminStatus } from './admin.ts';
export { errorCatalogueMarkdown } from './errors.ts';
export { MAX_KEY_BYTES, validateKey } from './keys.ts';
export { createMetricsRegistry } from './metrics.ts';
export type { RateLimitOptions } from './rate-limit.ts';
export { type Access, type AccessClass, accessClass } from './records.ts';
export { type RouteEntry, routesOf } from './route-index.ts';

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
  /**
   * Longest a request may take to arrive, headers and body, ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS}): a
   * client that declares a large body and stalls is cut off instead of holding its buffers forever.
   */
  requestTimeoutMs?: number;
  version?: string;
  /** More admin routes (cluster, stats, PAE), behind the admin authentication. */
  adminRoutes?: FastifyPluginAsync[];
  /** `--data-auth on`: data routes need the admin token too (requires `adminToken`). */
  dataAuth?: boolean;
  /** Per-client limit of admin requests (default: none). */
  adminRateLimit?: RateLimitOptions;
  /** Per-client limit of data requests (default: none). */
  dataRateLimit?: RateLimitOptions;
}

export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;
/** A 16 MiB value at 1 Mbit/s takes ~130 s to upload. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 180_000;
/** Open connections per listener; past it the kernel queue holds new ones (Node refuses beyond `maxConnections`). */
const MAX_CONNECTIONS = 4096;

/** A fastify app with what every listener has: errors, request metrics, OpenAPI and docs, health, `GET /`. */
async function baseApp(
  components: ApiComponents,
  version: string,
  links?: ReturnType<typeof linksOf>,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<FastifyInstance> {
  const app = Fastify({
    // A whole request must arrive within the timeout (Node checks it every 30 s), and a connection that sends
    // nothing for that long is closed at once: a client that declares a large body and stalls frees its buffers.
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
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
  app.server.maxConnections = MAX_CONNECTIONS;
  indexRoutes(app);
  installErrorHandling(app);
  installRequestMetrics(app, components.registry);
  await registerOpenApi(app, version);
  await app.register(healthRoutes, { ready: components.ready });
  await app.register(rootRoutes, { version, links });
  return app;
}

async function addData(app: FastifyInstance, components: ApiComponents, options: ApiOptions): Promise<void> {
  if (options.dataAuth && options.adminToken === undefined) throw new Error('dataAuth needs an adminToken');
  await app.register(dataRoutes, {
    engine: components.engine,
    zone: options.zone,
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    maxKeyBytes: options.maxKeyBytes ?? MAX_KEY_BYTES,
    maxBatchOps: options.maxBatchOps ?? 1000,
    onAccess: components.onAccess,
    rateLimit: options.dataRateLimit,
    token: options.dataAuth ? options.adminToken : undefined,
  });
}

async function addAdmin(app: FastifyInstance, components: ApiComponents, options: ApiOptions): Promise<void> {
  await app.register(metricsRoutes, { registry: components.registry });
  await app.register(adminRoutes, {
    token: options.adminToken,
    status: components.status,
    extraRoutes: options.adminRoutes,
    rateLimit: options.adminRateLimit,
  });
}

/** Builds the fastify app with the data and the admin API (not listening: call `listen()` or `inject()`). */
export async function createApi(components: ApiComponents, options: ApiOptions): Promise<FastifyInstance> {
  const app = await baseApp(components, options.version ?? '0.0.0', undefined, options.requestTimeoutMs);
  await addData(app, components, options);
  await addAdmin(app, components, options);
  return app;
}

/**
 * Two apps for two listeners (`--admin-port`): `data` serves `/v1/*`, `admin` serves `/admin/*` and
 * `/metrics`; each answers 404 `ROUTE_NOT_FOUND` for the other's routes and has its own OpenAPI document.
 * Both serve health, docs and `GET /`, and count their requests in the one registry.
 */
export async function createSplitApi(
  components: ApiComponents,
  options: ApiOptions,
): Promise<{ data: FastifyInstance; admin: FastifyInstance }> {
  const version = options.version ?? '0.0.0';
  const data = await baseApp(components, version, linksOf('data'), options.requestTimeoutMs);
  await addData(data, components, options);
  const admin = await baseApp(components, version, linksOf('admin'), options.requestTimeoutMs);
  await addAdmin(admin, components, options);
  return { data, admin };
}
