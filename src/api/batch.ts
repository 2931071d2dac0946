import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import type { BatchRequestOp, Consistency, RecordEngine } from '../replication/engine.ts';
import { clientSignal } from './client-signal.ts';
import { validateKey } from './keys.ts';
import { type Access, accessClass } from './records.ts';
import { consistencyParam, errorResponses } from './schemas.ts';

export interface BatchRoutesOptions {
  engine: RecordEngine;
  maxValueBytes: number;
  /** Most operations in one batch. */
  maxBatchOps: number;
  /** Longest accepted key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Zone of this daemon: the origin of requests without `x-shoal-origin`. */
  zone?: string;
  /** Called once per operation of an applied batch (stats), like the records routes do per request. */
  onAccess?: (access: Access) => void;
}

interface BatchBodyOp {
  op: 'put' | 'delete' | 'get';
  key: string;
  value?: string;
  encoding?: 'utf8' | 'base64';
  contentType?: string;
}

type BatchRequest = FastifyRequest<{ Body: { ops: BatchBodyOp[] }; Querystring: { consistency?: Consistency } }>;

const opSchema = {
  type: 'object',
  required: ['op', 'key'],
  additionalProperties: false,
  properties: {
    op: { type: 'string', enum: ['put', 'delete', 'get'] },
    key: { type: 'string', minLength: 1 },
    value: { type: 'string', description: 'Value of a put, as text (`encoding: utf8`, default) or base64.' },
    encoding: { type: 'string', enum: ['utf8', 'base64'] },
    contentType: { type: 'string' },
  },
} as const;

const resultSchema = {
  type: 'object',
  properties: {
    op: { type: 'string' },
    key: { type: 'string' },
    version: { type: 'string' },
    deleted: { type: 'boolean' },
    found: { type: 'boolean' },
    value: { type: 'string', description: 'Value of a get, base64-encoded (as `encoding` says).' },
    encoding: {
      type: 'string',
      enum: ['base64'],
      description: 'How `value` is encoded: always base64 (values are bytes); a put takes the same field.',
    },
    contentType: { type: 'string' },
  },
} as const;

function toRequestOp(o: BatchBodyOp, maxValueBytes: number, maxKeyBytes: number): BatchRequestOp {
  const key = validateKey(o.key, maxKeyBytes);
  if (o.op !== 'put') return { op: o.op, key };
  if (o.value === undefined) throw new ShoalError('INVALID_BODY', `put of ${JSON.stringify(key)} has no value`);
  const value = Buffer.from(o.value, o.encoding === 'base64' ? 'base64' : 'utf8');
  if (value.length > maxValueBytes)
    throw new ShoalError('PAYLOAD_TOO_LARGE', `value of ${JSON.stringify(key)} is over ${maxValueBytes} bytes`);
  return { op: 'put', key, input: { kind: 'blob', value, contentType: o.contentType ?? 'application/octet-stream' } };
}

/** `POST /v1/batch`: several puts, deletes and gets in one request, applied atomically on one daemon. */
export async function batchRoutes(app: FastifyInstance, opts: BatchRoutesOptions): Promise<void> {
  app.post(
    '/v1/batch',
    {
      // base64 grows values by a third; leave room for the JSON around them.
      bodyLimit: Math.ceil(opts.maxValueBytes * 1.4) + 1024 * 1024,
      schema: {
        summary: 'Apply a batch of operations',
        description: `Up to ${opts.maxBatchOps} operations. On one daemon they apply atomically; gets see the state before the batch.`,
        querystring: { type: 'object', additionalProperties: false, properties: { consistency: consistencyParam } },
        body: {
          type: 'object',
          required: ['ops'],
          additionalProperties: false,
          properties: { ops: { type: 'array', items: opSchema } },
        },
        response: {
          200: { type: 'object', properties: { results: { type: 'array', items: resultSchema } } },
          ...errorResponses,
        },
      },
    },
    async (req: BatchRequest, reply) => {
      const { ops } = req.body;
      if (ops.length > opts.maxBatchOps)
        throw new ShoalError('TOO_MANY_OPS', `batch has ${ops.length} operations; the limit is ${opts.maxBatchOps}`);
      const requestOps = ops.map((o) => toRequestOp(o, opts.maxValueBytes, opts.maxKeyBytes));
      const results = await opts.engine.batch(requestOps, {
        consistency: req.query.consistency,
        signal: clientSignal(reply),
      });
      const onAccess = opts.onAccess;
      if (onAccess) {
        const origin = (req.headers['x-shoal-origin'] as string | undefined) ?? opts.zone ?? '';
        const app = (req.headers['x-shoal-app'] as string | undefined) ?? '';
        const cls = accessClass(req.query.consistency);
        for (const [i, o] of requestOps.entries()) {
          const r = results[i];
          const bytes =
            o.op === 'put' && o.input.kind === 'blob'
              ? o.input.value.length
              : r?.op === 'get'
                ? (r.record?.value.length ?? 0)
                : 0;
          onAccess({ key: o.key, op: o.op === 'get' ? 'r' : 'w', origin, app, bytes, cls });
        }
      }
      return {
        results: results.map((r) => {
          if (r.op === 'put') return { op: 'put', key: r.key, version: r.meta.version };
          if (r.op === 'delete') return { op: 'delete', key: r.key, deleted: r.deleted };
          if (!r.record) return { op: 'get', key: r.key, found: false };
          return {
            op: 'get',
            key: r.key,
            found: true,
            version: r.record.meta.version,
            contentType: r.record.meta.contentType,
            value: Buffer.from(r.record.value).toString('base64'),
            encoding: 'base64',
          };
        }),
      };
    },
  );
}
