import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ShoalError } from '../errors/index.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** True when the request's TCP peer is this host (127.0.0.1, ::1 or its IPv4-mapped form). */
export const fromLoopback = (req: FastifyRequest) => LOOPBACK.has(req.socket.remoteAddress ?? '');

/** `Authorization: Bearer <token>` with exactly `token`, compared in constant time (no timing oracle on the token). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The admin rule: with a token, every request needs it (401 `UNAUTHORIZED`); without one, only loopback
 * clients are served (403 `FORBIDDEN`).
 */
export function adminAuth(token: string | undefined): onRequestAsyncHookHandler {
  return async (req) => {
    if (token !== undefined) {
      if (!tokenMatches(req.headers.authorization, token))
        throw new ShoalError('UNAUTHORIZED', 'admin API needs Authorization: Bearer <token>');
      return;
    }
    if (!fromLoopback(req))
      throw new ShoalError('FORBIDDEN', 'admin API without a configured token answers only on loopback');
  };
}

/** `--data-auth on`: every data request needs the admin bearer token (401 `UNAUTHORIZED`). */
export function dataAuth(token: string): onRequestAsyncHookHandler {
  return async (req) => {
    if (!tokenMatches(req.headers.authorization, token))
      throw new ShoalError('UNAUTHORIZED', 'data API needs Authorization: Bearer <token> (--data-auth on)');
  };
}
