import type { FastifyInstance } from 'fastify';

/** What the PAE admin routes need. */
export interface PaeAdmin {
  heatmap(q: { limit: number; zone?: string }): unknown[];
  /** The model in use and its cycle (shown whole by `/admin/pae/model`). */
  model(): { lastRunAt?: number; nextRunAt?: number };
}

const heatmapEntry = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    expected: { type: 'number' },
    zones: {
      type: 'array',
      items: {
        type: 'object',
        properties: { zone: { type: 'string' }, probability: { type: 'number' }, expected: { type: 'number' } },
      },
    },
  },
} as const;

/** `GET /admin/heatmap?limit=&zone=` and `GET /admin/pae/model`. */
export function paeRoutes(pae: PaeAdmin) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { limit: number; zone?: string } }>(
      '/admin/heatmap',
      {
        schema: {
          summary: 'Forecast heatmap: per record, expected accesses over the horizon and the probability of each zone',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
              zone: { type: 'string' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                records: { type: 'array', items: heatmapEntry },
                lastRunAt: {
                  type: 'integer',
                  description: 'when the forecast shown was made (absent before the first cycle)',
                },
                nextRunAt: { type: 'integer', description: 'when the next forecast starts' },
              },
            },
          },
        },
      },
      async (req) => {
        // An empty heatmap before the first cycle says when to look again.
        const { lastRunAt, nextRunAt } = pae.model();
        return { records: pae.heatmap({ limit: req.query.limit, zone: req.query.zone }), lastRunAt, nextRunAt };
      },
    );
    app.get(
      '/admin/pae/model',
      { schema: { summary: 'The forecasting model in use, its eval metrics and last run' } },
      async () => pae.model(),
    );
  };
}
