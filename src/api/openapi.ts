import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** The OpenAPI tags, in the order the docs UI lists them. */
export const API_TAGS = [
  { name: 'data', description: 'Records and batches (`/v1`)' },
  { name: 'admin', description: 'Health, readiness, metrics, status and the index of links' },
  { name: 'cluster', description: 'Members, ring, layout, placement overrides, join and leave' },
  { name: 'stats', description: 'Access statistics' },
  { name: 'pae', description: 'Predictive Access Engine: heatmap and model' },
  { name: 'dsm', description: 'Dynamic Sharding Manager and migrations' },
] as const;

/** The tag of a route that declares none, by its path (a route's own `schema.tags` wins). */
export function tagOf(url: string): string {
  if (url.startsWith('/v1/')) return 'data';
  if (url.startsWith('/admin/stats')) return 'stats';
  if (url.startsWith('/admin/pae') || url.startsWith('/admin/heatmap')) return 'pae';
  if (url.startsWith('/admin/dsm') || url.startsWith('/admin/migrations')) return 'dsm';
  if (url.startsWith('/admin/') && url !== '/admin/status') return 'cluster';
  return 'admin';
}

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  304: 'Not modified (the `If-None-Match` version is current)',
};

/** A response's description: what the status means here; errors are catalogue `{ code, message }` bodies. */
const describe = (status: string) =>
  STATUS_TEXT[status] ??
  (Number(status) >= 400 ? 'Error: `{ code, message }` (codes in the README catalogue)' : status);

type RouteSchema = { hide?: boolean; tags?: string[]; response?: Record<string, Record<string, unknown>> };

/**
 * The document's view of a route: its tag (by path, unless it declares its own) and a description for every
 * response (a route without a response schema is documented as `200 OK`). Only the OpenAPI document sees
 * this copy; the route's validation and serialisation keep the schema as declared.
 */
export function documented(url: string, declared: RouteSchema | undefined): RouteSchema {
  const schema: RouteSchema = { ...declared };
  if (schema.hide) return schema;
  schema.tags ??= [tagOf(url)];
  const response = schema.response ?? { 200: {} };
  schema.response = Object.fromEntries(
    Object.entries(response).map(([status, body]) => [status, { description: describe(status), ...body }]),
  );
  return schema;
}

/** Collects every route's schema into an OpenAPI 3 document at `/openapi.json`, with a docs UI at `/docs`. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'shoal',
        version,
        description:
          'Data and admin API of a shoal storage daemon. Errors are `{ code, message }`; see the README for the catalogue.',
      },
      tags: API_TAGS.map((t) => ({ ...t })),
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url }) => ({ schema: documented(url, schema as RouteSchema | undefined) as never, url }),
  });

  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
