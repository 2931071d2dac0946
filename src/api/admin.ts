import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { adminAuth } from './auth.ts';
import { errorSchema } from './errors.ts';
import { limitRequests, type RateLimitOptions } from './rate-limit.ts';

/** What `GET /admin/status` reports (the design's fixed interface names these fields). */
export interface AdminStatus {
  peerId: string;
  multiaddrs: string[];
  zone: string;
  store: string;
  epoch: number;
  /** Peers currently up, by peer id. */
  peers: string[];
  version: string;
  /** URL of the data API. */
  httpUrl: string;
  /** URL of the admin API (the data API's unless `--admin-port` gives it a listener of its own). */
  adminUrl?: string;
  uptimeMs: number;
  ready: boolean;
}

export interface AdminRoutesOptions {
  /** Bearer token; without one the admin API answers only on loopback. */
  token?: string;
  status: () => AdminStatus | Promise<AdminStatus>;
  /** Further admin routes (cluster, stats, pae), registered behind the same authentication. */
  extraRoutes?: FastifyPluginAsync[];
  /** Per-client limit of admin requests (checked before the token, so guessing it is limited too). */
  rateLimit?: RateLimitOptions;
}

const statusSchema = {
  type: 'object',
  properties: {
    peerId: { type: 'string' },
    multiaddrs: { type: 'array', items: { type: 'string' } },
    zone: { type: 'string' },
    store: { type: 'string' },
    epoch: { type: 'integer' },
    peers: { type: 'array', items: { type: 'string' } },
    version: { type: 'string' },
    httpUrl: { type: 'string' },
    adminUrl: { type: 'string' },
    uptimeMs: { type: 'integer' },
    ready: { type: 'boolean' },
  },
} as const;

/**
 * `/admin/*`: the per-client rate limit, then bearer-token or loopback-only authentication, status, and the
 * extra admin routes.
 */
export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  await limitRequests(app, 'admin', opts.rateLimit ?? {});
  app.addHook('onRequest', adminAuth(opts.token));
  app.get(
    '/admin/status',
    {
      schema: {
        summary: 'Daemon status',
        response: { 200: statusSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async () => opts.status(),
  );
  for (const routes of opts.extraRoutes ?? []) await app.register(routes);
}
