import type { FastifyInstance } from 'fastify';

/** Where to go from `GET /`: every path a person or a tool looks for first. */
export const ROOT_LINKS = {
  docs: '/docs',
  dashboard: '/dashboard',
  openapi: '/openapi.json',
  metrics: '/metrics',
  health: '/healthz',
  ready: '/readyz',
  status: '/admin/status',
  records: '/v1/records',
} as const;

const linksSchema = {
  type: 'object',
  required: ['name', 'version', 'links'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    links: {
      type: 'object',
      properties: Object.fromEntries(Object.keys(ROOT_LINKS).map((k) => [k, { type: 'string' }])),
    },
  },
} as const;

/** The links of a listener that serves only the data API or only the admin API (`--admin-port`). */
export function linksOf(surface: 'data' | 'admin'): Partial<typeof ROOT_LINKS> {
  const { dashboard, metrics, status, records, ...both } = ROOT_LINKS;
  return surface === 'data' ? { ...both, records } : { ...both, dashboard, metrics, status };
}

/**
 * `GET /`: the daemon's name and version, and links to its docs, OpenAPI document, metrics and health (those
 * this listener serves: `links`, default all).
 */
export async function rootRoutes(
  app: FastifyInstance,
  opts: { version: string; links?: Partial<typeof ROOT_LINKS> },
): Promise<void> {
  const body = { name: 'shoal', version: opts.version, links: opts.links ?? ROOT_LINKS };
  app.get(
    '/',
    {
      schema: { summary: 'Links to the docs, dashboard, OpenAPI document and metrics', response: { 200: linksSchema } },
    },
    async () => body,
  );
}
