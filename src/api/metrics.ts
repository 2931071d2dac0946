import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { RequestHistogram } from './request-histogram.ts';

/** A Prometheus registry of its own per daemon (several daemons may share a test process). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shoal_' });
  return registry;
}

const REQUEST_DURATION = 'shoal_http_request_duration_seconds';

/**
 * Observes every request's duration per route, method and status (install on the root instance). Apps that
 * share a registry (the data and the admin listener of one daemon) share the histogram.
 */
export function installRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const known = registry.getSingleMetric(REQUEST_DURATION);
  const duration =
    known instanceof RequestHistogram
      ? known
      : new RequestHistogram({
          name: REQUEST_DURATION,
          help: 'HTTP request duration by route, method and status',
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
          registers: [registry],
        });
  // One observer per route, bound when the route is added: `request.routeOptions` builds a fresh object
  // on every read, and the route's URL is known up front.
  app.addHook('onRoute', (route) => {
    const observe = duration.forRoute(route.url);
    const hook: onResponseHookHandler = (req, reply, done) => {
      observe(req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse === undefined ? [hook] : [route.onResponse, hook].flat();
  });
  const unmatched = duration.forRoute('unmatched');
  app.addHook('onResponse', (req, reply, done) => {
    if (req.is404) unmatched(req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** `GET /metrics` in Prometheus text format. */
export async function metricsRoutes(app: FastifyInstance, opts: { registry: Registry }): Promise<void> {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', response: { 200: { type: 'string' } } } },
    async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()),
  );
}
