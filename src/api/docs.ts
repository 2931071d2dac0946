import type { FastifyRequest } from 'fastify';
import { docToJson } from '../crdt/doc.ts';
import { decodeDocValue } from '../crdt/doc-value.ts';
import { canonicalJson } from '../crdt/json.ts';
import type { DocWrite } from '../crdt/writes.ts';
import { ShoalError } from '../errors/index.ts';
import type { RecordView, WriteInput } from '../replication/engine.ts';

/** Body of a raw Yjs update (PUT or PATCH of a doc record). */
export const YJS_UPDATE_TYPE = 'application/vnd.shoal.yjs-update';
/** `Accept` value that reads a doc's full Yjs state instead of its JSON view. */
export const YJS_STATE_TYPE = 'application/vnd.shoal.yjs-state';

const baseType = (req: FastifyRequest) =>
  ((req.headers['content-type'] as string | undefined) ?? '').split(';')[0].trim().toLowerCase();

function parseJson(body: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new ShoalError('INVALID_BODY', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The write a `PUT` asks for: a blob (default), a doc (`?type=doc`) or a raw Yjs update. */
export function putInput(req: FastifyRequest, body: Uint8Array, type: 'blob' | 'doc' | undefined): WriteInput {
  const ct = baseType(req);
  if (ct === YJS_UPDATE_TYPE) return { kind: 'doc', write: { kind: 'yjs', update: body } };
  if (type !== 'doc')
    return {
      kind: 'blob',
      value: body,
      contentType: (req.headers['content-type'] as string | undefined) ?? 'application/octet-stream',
    };
  return { kind: 'doc', write: { kind: 'put', json: parseJson(body, 'doc body') } };
}

/** The edit a `PATCH` asks for: a JSON merge patch (RFC 7386) or a raw Yjs update. */
export function patchInput(req: FastifyRequest, body: Uint8Array): WriteInput {
  const ct = baseType(req);
  let write: DocWrite;
  if (ct === YJS_UPDATE_TYPE) write = { kind: 'yjs', update: body };
  else if (ct === 'application/merge-patch+json' || ct === 'application/json')
    write = { kind: 'patch', patch: parseJson(body, 'merge patch') };
  else
    throw new ShoalError(
      'UNSUPPORTED_MEDIA_TYPE',
      `PATCH takes application/merge-patch+json or ${YJS_UPDATE_TYPE}, not ${ct || 'no content type'}`,
    );
  return { kind: 'doc', write };
}

/** What a GET of a doc returns: its canonical JSON view, or the Yjs state when asked for it. */
export function renderDoc(req: FastifyRequest, rec: RecordView): { type: string; body: string | Buffer } {
  const { state } = decodeDocValue(rec.value);
  if ((req.headers.accept ?? '').includes(YJS_STATE_TYPE)) return { type: YJS_STATE_TYPE, body: Buffer.from(state) };
  return { type: 'application/json; charset=utf-8', body: canonicalJson(docToJson(state)) };
}
