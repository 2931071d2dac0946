import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import type { Consistency, RecordEngine } from '../replication/engine.ts';
import { clientSignal } from './client-signal.ts';
import { validateKey } from './keys.ts';
import { consistencyParam, errorResponses, metaSchema } from './schemas.ts';

export interface ListRoutesOptions {
  engine: RecordEngine;
}

type ListRequest = FastifyRequest<{
  Querystring: { prefix?: string; cursor?: string; limit?: number; consistency?: Consistency };
}>;

const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(key) !== cursor) throw new ShoalError('INVALID_QUERY', 'cursor is not one this API returned');
  return validateKey(key);
}

/** `GET /v1/records?prefix=&cursor=&limit=`: keys in UTF-8 byte order, with metadata, paged. */
export async function listRoutes(app: FastifyInstance, opts: ListRoutesOptions): Promise<void> {
  app.get(
    '/v1/records',
    {
      schema: {
        summary: 'List records',
        description:
          'Records whose key starts with `prefix`, in byte order of their UTF-8 keys. Pass the returned `cursor` to get the next page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            prefix: { type: 'string', maxLength: 1024 },
            cursor: { type: 'string', maxLength: 2048 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            consistency: consistencyParam,
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', properties: { key: { type: 'string' }, ...metaSchema.properties } },
              },
              cursor: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req: ListRequest, reply) => {
      const { prefix, cursor, limit } = req.query;
      const page = await opts.engine.list({
        prefix,
        after: cursor === undefined ? undefined : decodeCursor(cursor),
        limit,
        consistency: req.query.consistency,
        signal: clientSignal(reply),
      });
      return {
        items: page.items.map((i) => ({ key: i.key, ...i.meta })),
        cursor: page.next === undefined ? undefined : encodeCursor(page.next),
      };
    },
  );
}
