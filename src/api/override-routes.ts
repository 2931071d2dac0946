import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';
import { validateKey } from './keys.ts';
import { keyParams } from './schemas.ts';

/** What the placement admin routes need from the daemon. */
export interface OverrideAdmin {
  /** Places one record on `replicas` (null: drops its override, back to the ring). */
  place(
    key: string,
    req: { replicas: string[] | null; reason: string; force: boolean; allowMissing?: boolean },
    signal: AbortSignal,
  ): Promise<unknown>;
  /** Places many records, one wave per partition coordinator; one result per record. */
  placeMany(
    reqs: Array<{ key: string; replicas: string[] | null; reason: string; force: boolean }>,
    signal: AbortSignal,
  ): Promise<unknown[]>;
  /** What the DHT holder directory says about `key`, after verifying it against the partition chain. */
  holders(key: string, signal: AbortSignal): Promise<unknown>;
  /** Every override this daemon holds. */
  overrides(): unknown[];
  /** This daemon's own copy of `key` (tombstones too), or undefined. */
  localCopy(
    key: string,
    signal: AbortSignal,
  ): Promise<{ version: string; tombstone: boolean; size: number } | undefined>;
}

/** A move may copy a 16 MiB record and wait for every new holder: generous, but bounded. */
const MOVE_DEADLINE_MS = 150_000;

const ids = { type: 'array', items: { type: 'string' } } as const;
const epochRef = {
  type: 'object',
  properties: { scope: { type: 'string' }, number: { type: 'integer' }, hash: { type: 'string' } },
} as const;
/** An override as it is held and published: the partition epoch that set it, and the holders. */
const overrideProperties = { ...epochRef.properties, replicas: ids } as const;
const placeResult = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    changed: { type: 'boolean' },
    source: { type: 'string', enum: ['ring', 'override'] },
    partition: { type: 'integer' },
    replicas: ids,
    previous: ids,
    epoch: epochRef,
    coordinator: { type: 'string' },
    distributed: { type: 'object', properties: { acked: { type: 'integer' }, of: { type: 'integer' } } },
    published: { type: 'integer' },
  },
} as const;
const moveErrors = { 400: errorSchema, 409: errorSchema, 503: errorSchema, 504: errorSchema } as const;

/**
 * `POST|DELETE /admin/records/:key/placement` (place one record explicitly / return it to the ring),
 * `GET /admin/holders/:key` (the DHT directory), `GET /admin/overrides`, `GET /admin/records/:key/local`.
 */
export function overrideRoutes(admin: OverrideAdmin) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{
      Params: { key: string };
      Body: { replicas: string[]; reason?: string; force?: boolean; allowMissing?: boolean };
    }>(
      '/admin/records/:key/placement',
      {
        schema: {
          summary: 'Place one record on these holders (an override), copying it there first',
          params: keyParams,
          body: {
            type: 'object',
            required: ['replicas'],
            additionalProperties: false,
            properties: {
              replicas: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 200 } },
              reason: { type: 'string', maxLength: 500 },
              force: { type: 'boolean', description: 'accept fewer holders than R' },
              allowMissing: {
                type: 'boolean',
                description: 'place a key that has no record (yet): its first write goes to these holders',
              },
            },
          },
          response: { 200: placeResult, 404: errorSchema, ...moveErrors },
        },
      },
      async (req) =>
        admin.place(
          validateKey(req.params.key),
          {
            replicas: req.body.replicas,
            reason: req.body.reason ?? 'manual placement',
            force: req.body.force ?? false,
            allowMissing: req.body.allowMissing ?? false,
          },
          AbortSignal.timeout(MOVE_DEADLINE_MS),
        ),
    );
    app.delete<{ Params: { key: string }; Querystring: { reason?: string } }>(
      '/admin/records/:key/placement',
      {
        schema: {
          summary: "Drop a record's override: move it back to its ring replicas",
          params: keyParams,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { reason: { type: 'string', maxLength: 500 } },
          },
          response: { 200: placeResult, ...moveErrors },
        },
      },
      async (req) =>
        admin.place(
          validateKey(req.params.key),
          { replicas: null, reason: req.query.reason ?? 'back to the ring', force: false },
          AbortSignal.timeout(MOVE_DEADLINE_MS),
        ),
    );
    app.post<{
      Body: { placements: Array<{ key: string; replicas: string[] | null }>; reason?: string; force?: boolean };
    }>(
      '/admin/placements',
      {
        // 20,000 placements of a few peer ids each (~150 bytes) are ~3 MB, over the server's 1 MiB default.
        bodyLimit: 8 * 1024 * 1024,
        schema: {
          summary: 'Place many records at once (each partition coordinator moves its share as one wave)',
          body: {
            type: 'object',
            required: ['placements'],
            additionalProperties: false,
            properties: {
              placements: {
                type: 'array',
                minItems: 1,
                maxItems: 20_000,
                items: {
                  type: 'object',
                  required: ['key', 'replicas'],
                  additionalProperties: false,
                  properties: {
                    key: { type: 'string', minLength: 1, maxLength: 4096 },
                    replicas: {
                      type: ['array', 'null'],
                      maxItems: 64,
                      items: { type: 'string', maxLength: 200 },
                      description: 'holders, or null: back to the ring',
                    },
                  },
                },
              },
              reason: { type: 'string', maxLength: 500 },
              force: { type: 'boolean', description: 'accept fewer holders than R' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      key: { type: 'string' },
                      changed: { type: 'boolean' },
                      replicas: ids,
                      wave: { type: 'string' },
                      error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
                    },
                  },
                },
              },
            },
            ...moveErrors,
          },
        },
      },
      async (req) => {
        const reason = req.body.reason ?? 'manual placement';
        const force = req.body.force ?? false;
        const reqs = req.body.placements.map((p) => ({ key: validateKey(p.key), replicas: p.replicas, reason, force }));
        if (new Set(reqs.map((r) => r.key)).size !== reqs.length) {
          throw new ShoalError('INVALID_BODY', 'a key is listed twice');
        }
        return { results: await admin.placeMany(reqs, AbortSignal.timeout(MOVE_DEADLINE_MS)) };
      },
    );
    app.get<{ Params: { key: string } }>(
      '/admin/holders/:key',
      {
        schema: {
          summary: "The DHT holder directory's entry for a key, verified against the partition chain",
          params: keyParams,
          response: {
            200: {
              type: 'object',
              properties: {
                key: { type: 'string' },
                directory: {
                  type: ['object', 'null'],
                  properties: { ...overrideProperties, overridden: { type: 'boolean' }, publisher: { type: 'string' } },
                },
                status: { type: 'string', enum: ['none', 'current', 'learned', 'unverified', 'conflict'] },
                placement: { type: 'object', additionalProperties: true },
              },
            },
            400: errorSchema,
          },
        },
      },
      async (req) => admin.holders(validateKey(req.params.key), AbortSignal.timeout(10_000)),
    );
    app.get(
      '/admin/overrides',
      {
        schema: {
          summary: 'Every per-record override this daemon holds',
          response: {
            200: {
              type: 'object',
              properties: {
                overrides: {
                  type: 'array',
                  items: { type: 'object', properties: { key: { type: 'string' }, ...overrideProperties } },
                },
              },
            },
          },
        },
      },
      async () => ({ overrides: admin.overrides() }),
    );
    app.get<{ Params: { key: string } }>(
      '/admin/records/:key/local',
      {
        schema: {
          summary: "This daemon's own copy of a key (whether or not it should hold one)",
          params: keyParams,
          response: {
            200: {
              type: 'object',
              properties: {
                key: { type: 'string' },
                present: { type: 'boolean' },
                version: { type: 'string' },
                tombstone: { type: 'boolean' },
                size: { type: 'integer' },
              },
            },
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const key = validateKey(req.params.key);
        const copy = await admin.localCopy(key, AbortSignal.timeout(10_000));
        return { key, present: copy !== undefined, ...copy };
      },
    );
  };
}
