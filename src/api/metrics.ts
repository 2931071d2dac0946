import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** A Prometheus registry of its own per daemon (several daemons may share a test process). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shoal_' });
  return registry;
}

/** Observes every request's duration per route, method and status (install on the root instance). */
export function installRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'shoal_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  // One labelled child per (route, method, status), looked up by a flat string: prom-client would
  // otherwise hash the label object on every request.
  const children = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const id = `${route} ${req.method} ${reply.statusCode}`;
    let child = children.get(id);
    if (!child) {
      child = duration.labels(route, req.method, String(reply.statusCode));
      children.set(id, child);
    }
    child.observe(reply.elapsedTime / 1000);
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
