import type { FastifyInstance } from 'fastify';
import type { HeatmapEntry } from '../pae/index.ts';

/** What the PAE admin routes need. */
export interface PaeAdmin {
  heatmap(q: { limit: number; zone?: string }): HeatmapEntry[];
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

/** Rounded as a person reads them: expected accesses to 0.001, probabilities to 0.0001 (the engine's are floats). */
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const rounded = (r: HeatmapEntry): HeatmapEntry => ({
  key: r.key,
  expected: round(r.expected, 3),
  zones: r.zones.map((z) => ({ zone: z.zone, probability: round(z.probability, 4), expected: round(z.expected, 3) })),
});

const at = (ms: number | undefined) => (ms === undefined ? 'once the engine has started' : new Date(ms).toISOString());

/** Why a heatmap is empty: no cycle yet, or no record with accesses in a closed statistics bucket. */
function emptyNote(lastRunAt: number | undefined, nextRunAt: number | undefined, zone: string | undefined): string {
  if (lastRunAt === undefined) return `no forecast yet: the first one runs ${at(nextRunAt)} (every --pae-interval-ms)`;
  const from = zone === undefined ? '' : ` from zone ${zone}`;
  return (
    `no record was accessed${from} in a closed statistics bucket: accesses are forecast once their bucket ` +
    `(--stats-bucket-ms, default 1 min) has closed, at the next forecast (${at(nextRunAt)})`
  );
}

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
                note: { type: 'string', description: 'why the heatmap is empty, and when to look again' },
              },
            },
          },
        },
      },
      async (req) => {
        const { lastRunAt, nextRunAt } = pae.model();
        const records = pae.heatmap({ limit: req.query.limit, zone: req.query.zone }).map(rounded);
        // An empty heatmap says why and when to look again.
        const note = records.length === 0 ? emptyNote(lastRunAt, nextRunAt, req.query.zone) : undefined;
        return { records, lastRunAt, nextRunAt, note };
      },
    );
    app.get(
      '/admin/pae/model',
      { schema: { summary: 'The forecasting model in use, its eval metrics and last run' } },
      async () => pae.model(),
    );
  };
}
