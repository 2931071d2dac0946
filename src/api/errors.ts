import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode, ShoalError, toShoalError } from '../errors/index.ts';

/** JSON schema of every error body: `{ code, message }`. */
export const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

const VALIDATION_CODES: Record<string, ErrorCode> = {
  querystring: 'INVALID_QUERY',
  body: 'INVALID_BODY',
  params: 'INVALID_KEY',
  headers: 'INVALID_HEADER',
};

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_HEADER',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
  FST_ERR_BAD_URL: 'INVALID_KEY',
};

/** Node's errors for a connection the client closed or reset (a body upload cut short, say). */
const DISCONNECT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Maps anything thrown in a route to a catalogue error. */
export function classify(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const fe = err as FastifyError;
  if (fe?.validation) {
    const code = VALIDATION_CODES[fe.validationContext ?? 'body'] ?? 'INVALID_BODY';
    return new ShoalError(code, fe.message);
  }
  if (fe?.code && FASTIFY_CODES[fe.code]) return new ShoalError(FASTIFY_CODES[fe.code], fe.message);
  if (DISCONNECT_CODES.has(String(fe?.code)))
    return new ShoalError('ABORTED', `client closed the connection (${fe.code})`, { cause: err });
  // JSON.parse errors of the body parser carry a 400 status but no fastify code.
  if (err instanceof SyntaxError && fe.statusCode === 400)
    return new ShoalError('INVALID_BODY', `malformed JSON: ${err.message}`);
  return toShoalError(err);
}

/** Sends a catalogue error as `{ code, message }` with its HTTP status. */
export function sendError(reply: FastifyReply, err: ShoalError): FastifyReply {
  return reply
    .code(err.status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ code: err.code, message: err.message }));
}

/** The client went away before its answer: its socket is gone, or the error says so. */
function clientGone(err: unknown, req: FastifyRequest): boolean {
  return DISCONNECT_CODES.has(String((err as NodeJS.ErrnoException)?.code)) || req.raw.socket?.destroyed === true;
}

/**
 * The level a failed request is logged at: `error` (with the stack) only for a 500, which is a bug or a store
 * failure; `warn` for 502-504 (a peer or a remote store is slow or down); `debug` for answers that are part of
 * normal operation (every 4xx, 503 NOT_READY while starting or stopping, which readiness probes poll for) and
 * for a client that disconnected (nobody is left to answer).
 */
export function logLevelOf(e: ShoalError, disconnected = false): 'error' | 'warn' | 'debug' {
  if (disconnected || e.code === 'ABORTED' || e.code === 'NOT_READY' || e.status < 500) return 'debug';
  return e.status === 500 ? 'error' : 'warn';
}

/**
 * Installs the error handler (catalogue errors as `{ code, message }`), the not-found handler and the
 * 405 answer for a known path with an unknown method.
 */
export function installErrorHandling(app: FastifyInstance): void {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const source = `^${route.url
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[^/]+/g, '[^/]+')
      .replace(/\*/g, '.*')}$`;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let entry = routes.get(source);
    if (!entry) {
      entry = { pattern: new RegExp(source), methods: new Set() };
      routes.set(source, entry);
    }
    for (const m of methods) entry.methods.add(m);
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = classify(err);
    const level = logLevelOf(e, clientGone(err, req));
    // The stack only for what may be a bug; the rest is an answer the daemon meant to give.
    if (level === 'error') req.log.error({ err, code: e.code, reqId: req.id }, 'request failed');
    else req.log[level]({ code: e.code, reason: e.message, reqId: req.id, url: req.url }, 'request refused');
    return sendError(reply, e);
  });

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    const match = [...routes.values()].find((r) => r.pattern.test(path));
    if (match) {
      reply.header('allow', [...match.methods].join(', '));
      return sendError(reply, new ShoalError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`));
    }
    return sendError(reply, new ShoalError('ROUTE_NOT_FOUND', `no route ${req.method} ${path}`));
  });
}

/** The catalogue as a markdown table (README). */
export function errorCatalogueMarkdown(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.description} |`);
  return ['| code | HTTP | meaning |', '|---|---|---|', ...rows].join('\n');
}
