import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';

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
  httpUrl: string;
  uptimeMs: number;
  ready: boolean;
}

export interface AdminRoutesOptions {
  /** Bearer token; without one the admin API answers only on loopback. */
  token?: string;
  status: () => AdminStatus | Promise<AdminStatus>;
  /** Further admin routes (cluster, stats, pae), registered behind the same authentication. */
  extraRoutes?: FastifyPluginAsync[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function authenticate(req: FastifyRequest, token: string | undefined): void {
  if (token !== undefined) {
    if (!tokenMatches(req.headers.authorization, token))
      throw new ShoalError('UNAUTHORIZED', 'admin API needs Authorization: Bearer <token>');
    return;
  }
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
    throw new ShoalError('FORBIDDEN', 'admin API without a configured token answers only on loopback');
  }
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
    uptimeMs: { type: 'integer' },
    ready: { type: 'boolean' },
  },
} as const;

/** `/admin/*`: bearer-token or loopback-only authentication, status, and the extra admin routes. */
export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  app.addHook('onRequest', async (req) => authenticate(req, opts.token));
  app.get(
    '/admin/status',
    { schema: { summary: 'Daemon status', response: { 200: statusSchema, 401: errorSchema, 403: errorSchema } } },
    async () => opts.status(),
  );
  for (const routes of opts.extraRoutes ?? []) await app.register(routes);
}
