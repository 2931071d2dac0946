import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';

/** What the stats admin routes need: this daemon's statistics and the cluster-wide view. */
export interface StatsAdmin {
  top(q: { zone?: string; windowMs?: number; limit: number; scope: 'local' | 'cluster' }): unknown[];
  record(key: string): unknown;
  summary(): unknown;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `window=90s|15m|1h|7d` (or plain milliseconds) to milliseconds. */
export function parseWindow(w: string | undefined): number | undefined {
  if (w === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(w.trim());
  if (!m) throw new ShoalError('INVALID_QUERY', `window ${JSON.stringify(w)} is not a duration like 15m, 1h or 7d`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
}

const entry = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    reads: { type: 'number' },
    writes: { type: 'number' },
    total: { type: 'number' },
    zone: { type: 'string' },
  },
} as const;

/** `GET /admin/stats/top`, `GET /admin/stats/records/:key`, `GET /admin/stats/summary`. */
export function statsRoutes(stats: StatsAdmin) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { zone?: string; window?: string; limit: number; scope: 'local' | 'cluster' } }>(
      '/admin/stats/top',
      {
        schema: {
          summary: 'Hottest records, optionally from one origin zone, over a window',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              zone: { type: 'string' },
              window: { type: 'string', description: 'e.g. 15m, 1h, 7d (default 1h)' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
              scope: { type: 'string', enum: ['local', 'cluster'], default: 'cluster' },
            },
          },
          response: {
            200: { type: 'object', properties: { records: { type: 'array', items: entry } } },
            400: errorSchema,
          },
        },
      },
      async (req) => ({
        records: stats.top({
          zone: req.query.zone,
          windowMs: parseWindow(req.query.window),
          limit: req.query.limit,
          scope: req.query.scope,
        }),
      }),
    );
    app.get<{ Params: { key: string } }>(
      '/admin/stats/records/:key',
      {
        schema: {
          summary: "A record's access series per zone (this daemon), and its cluster-wide recent counts",
          params: { type: 'object', properties: { key: { type: 'string' } } },
        },
      },
      async (req) => stats.record(req.params.key),
    );
    app.get(
      '/admin/stats/summary',
      { schema: { summary: 'Tracked keys, memory, totals per zone, sketch parameters, gossip peers' } },
      async () => stats.summary(),
    );
  };
}
