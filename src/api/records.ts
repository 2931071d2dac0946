import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeHlc } from '../crdt/hlc.ts';
import { ShoalError } from '../errors/index.ts';
import type { Consistency, RecordEngine, RecordView, WriteConditions, WriteInput } from '../replication/engine.ts';
import type { RecordMeta } from '../store/index.ts';
import { acceptRawBodies } from './body.ts';
import { clientSignal } from './client-signal.ts';
import { patchInput, putInput, renderDoc } from './docs.ts';
import { errorSchema } from './errors.ts';
import { validateKey } from './keys.ts';
import { consistencyParam, errorResponses, etagOf, keyParams, metaSchema, parseEtag } from './schemas.ts';

export interface RecordsRoutesOptions {
  engine: RecordEngine;
  /** Largest accepted value in bytes. */
  maxValueBytes: number;
  /** Longest accepted key in UTF-8 bytes (1024, or less when the store cannot take that). */
  maxKeyBytes: number;
  /** Zone of this daemon: the origin of requests without `x-shoal-origin`. */
  zone: string;
  /** Called once per data access (stats); must be cheap. */
  onAccess?: (access: Access) => void;
}

export interface Access {
  key: string;
  op: 'r' | 'w';
  origin: string;
  app: string;
  bytes: number;
  /** What the request's consistency level needs to be served locally (see {@link accessClass}). */
  cls: AccessClass;
}

/** `one`: the nearest replica; `majority`: the nearest majority; `all`: every replica. */
export type AccessClass = 'one' | 'majority' | 'all';

/** The class of a `?consistency=` level: `one` → one, `quorum` (the default) and `linearizable` → majority, `all` → all. */
export function accessClass(consistency: Consistency | undefined): AccessClass {
  return consistency === 'one' ? 'one' : consistency === 'all' ? 'all' : 'majority';
}

type KeyRequest = FastifyRequest<{
  Params: { key: string };
  Querystring: { consistency?: Consistency; meta?: string; type?: 'blob' | 'doc' };
}>;

const writeResponse = {
  type: 'object',
  properties: { key: { type: 'string' }, created: { type: 'boolean' }, ...metaSchema.properties },
} as const;

function conditions(req: FastifyRequest): WriteConditions | undefined {
  const ifMatch = parseEtag(req.headers['if-match'] as string | undefined);
  const noneMatch = parseEtag(req.headers['if-none-match'] as string | undefined);
  if (noneMatch !== undefined && noneMatch !== '*') {
    throw new ShoalError('INVALID_HEADER', 'If-None-Match on writes supports only "*" (create if absent)');
  }
  if (ifMatch === undefined && noneMatch === undefined) return undefined;
  return { ifMatch, ifNoneMatch: noneMatch === '*' ? '*' : undefined };
}

/**
 * ETag and Last-Modified per record version. Formatting the date alone costs ~0.35 µs, and the read
 * cache hands out the same metadata object for every read of a hot record until it changes.
 */
const versionHeaders = new WeakMap<RecordMeta, { etag: string; lastModified: string }>();

/** A read's metadata headers: the version as ETag, the write time, and the value's SHA-256. */
function metaHeaders(reply: FastifyReply, meta: RecordMeta): FastifyReply {
  let h = versionHeaders.get(meta);
  if (h === undefined) {
    h = { etag: etagOf(meta.version), lastModified: new Date(meta.updatedAt).toUTCString() };
    versionHeaders.set(meta, h);
  }
  return reply.header('etag', h.etag).header('last-modified', h.lastModified).header('x-shoal-checksum', meta.checksum);
}

/** `PUT|GET|DELETE /v1/records/:key`: binary-safe values, content type kept, ETag and `If-Match`. */
export async function recordsRoutes(app: FastifyInstance, opts: RecordsRoutesOptions): Promise<void> {
  const { engine, zone, onAccess } = opts;
  const access = (req: FastifyRequest, key: string, op: 'r' | 'w', bytes: number) => {
    if (!onAccess) return;
    const origin = (req.headers['x-shoal-origin'] as string | undefined) ?? zone;
    const appTag = (req.headers['x-shoal-app'] as string | undefined) ?? '';
    const cls = accessClass((req.query as { consistency?: Consistency }).consistency);
    onAccess({ key, op, origin, app: appTag, bytes, cls });
  };

  /** PUT and PATCH: the body becomes a write (a blob, a doc replacement or a doc edit) at the requested level. */
  const write = async (req: KeyRequest, reply: FastifyReply, input: (body: Uint8Array) => WriteInput) => {
    const key = validateKey(req.params.key, opts.maxKeyBytes);
    const body = (req.body as Buffer | undefined) ?? new Uint8Array(0);
    const result = await engine.put(key, input(body), conditions(req), {
      consistency: req.query.consistency,
      signal: clientSignal(reply),
    });
    access(req, key, 'w', body.length);
    // The JSON body carries the rest of the metadata.
    reply.header('etag', etagOf(result.meta.version));
    return reply.code(result.created ? 201 : 200).send({ key, created: result.created, ...result.meta });
  };

  /** Answers a GET with the record's value (or 304 / 404). */
  const sendRecord = (req: KeyRequest, reply: FastifyReply, key: string, rec: RecordView | undefined): void => {
    access(req, key, 'r', rec?.value.length ?? 0);
    if (!rec) throw new ShoalError('NOT_FOUND', `no record ${JSON.stringify(key)}`);
    metaHeaders(reply, rec.meta);
    const inm = req.headers['if-none-match'];
    if (inm !== undefined) {
      const tag = parseEtag(inm);
      if (tag === '*' || tag === rec.meta.version) {
        reply.code(304).send();
        return;
      }
    }
    if (rec.meta.type === 'doc') {
      const doc = renderDoc(req, rec);
      reply.type(doc.type).send(doc.body);
      return;
    }
    reply.type(rec.meta.contentType).send(Buffer.from(rec.value.buffer, rec.value.byteOffset, rec.value.byteLength));
  };

  /** GET through the engine's coordinated read (remote replicas, or a store without synchronous reads). */
  const readAsync = async (req: KeyRequest, reply: FastifyReply, key: string, metaOnly: boolean) => {
    const signal = clientSignal(reply);
    const rec = await engine.get(key, { consistency: req.query.consistency, signal });
    if (!metaOnly) return sendRecord(req, reply, key, rec);
    access(req, key, 'r', rec?.value.length ?? 0);
    if (!rec) throw new ShoalError('NOT_FOUND', `no record ${JSON.stringify(key)}`);
    metaHeaders(reply, rec.meta);
    const replicas = engine.inspect ? await engine.inspect(key, { signal }) : undefined;
    return reply
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ key, ...rec.meta, hlc: decodeHlc(rec.meta.version), replicas }));
  };

  // Values are opaque bytes whatever their content type: no JSON or form parsing on these routes.
  acceptRawBodies(app, opts.maxValueBytes);

  app.get(
    '/v1/records/:key',
    {
      schema: {
        summary: 'Read a record',
        description:
          'Returns the value bytes with the content type given at write time. `?meta=1` returns the metadata as JSON instead.',
        params: keyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { consistency: consistencyParam, meta: { type: 'string', enum: ['0', '1', 'true', 'false'] } },
        },
        response: { 200: { description: 'The value bytes (or metadata JSON with ?meta=1).' }, ...errorResponses },
      },
    },
    (req: KeyRequest, reply: FastifyReply) => {
      const key = validateKey(req.params.key, opts.maxKeyBytes);
      const metaOnly = req.query.meta === '1' || req.query.meta === 'true';
      // Fast path: this daemon's own copy answers the read, synchronously (no promise, no abort signal).
      const now = metaOnly ? undefined : engine.getNow?.(key, req.query.consistency);
      if (now === undefined) return readAsync(req, reply, key, metaOnly);
      sendRecord(req, reply, key, now.record);
    },
  );

  app.put(
    '/v1/records/:key',
    {
      schema: {
        summary: 'Write a record',
        description:
          'Stores the body bytes as the value, keeping its content type. `If-Match: "<version>"` makes the write conditional; `If-None-Match: *` creates only.',
        params: keyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { consistency: consistencyParam, type: { type: 'string', enum: ['blob', 'doc'] } },
        },
        response: { 200: writeResponse, 201: writeResponse, ...errorResponses },
      },
    },
    (req: KeyRequest, reply) => write(req, reply, (body) => putInput(req, body, req.query.type)),
  );

  app.patch(
    '/v1/records/:key',
    {
      schema: {
        summary: 'Edit a doc record',
        description:
          'Applies a JSON merge patch (RFC 7386, application/merge-patch+json) or a raw Yjs update (application/vnd.shoal.yjs-update) to a doc record; concurrent edits of different fields all survive. Creates the doc when the key is empty.',
        params: keyParams,
        querystring: { type: 'object', additionalProperties: false, properties: { consistency: consistencyParam } },
        response: { 200: writeResponse, 201: writeResponse, 409: errorSchema, 415: errorSchema, ...errorResponses },
      },
    },
    (req: KeyRequest, reply) => write(req, reply, (body) => patchInput(req, body)),
  );

  app.delete(
    '/v1/records/:key',
    {
      schema: {
        summary: 'Delete a record',
        description:
          'Deletes the record (a tombstone is kept so replicas cannot bring it back). Idempotent: 204 whether or not it existed.',
        params: keyParams,
        querystring: { type: 'object', additionalProperties: false, properties: { consistency: consistencyParam } },
        response: { 204: { description: 'Deleted (or absent).', type: 'null' }, ...errorResponses },
      },
    },
    async (req: KeyRequest, reply) => {
      const key = validateKey(req.params.key, opts.maxKeyBytes);
      const meta = await engine.delete(key, conditions(req), {
        consistency: req.query.consistency,
        signal: clientSignal(reply),
      });
      access(req, key, 'w', 0);
      if (meta) reply.header('x-shoal-version', meta.version);
      return reply.code(204).send();
    },
  );
}
