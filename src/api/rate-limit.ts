/**
 * Per-client request limits (`--rate-limit-admin`, `--rate-limit-data`) with @fastify/rate-limit: a fixed
 * window of one second per client IP (IPv6 clients by their /64, the plugin's default), kept in memory.
 * Over the limit a request answers 429 `RATE_LIMITED` in the catalogue's `{ code, message }` body, with
 * `retry-after` (seconds) and the `x-ratelimit-*` headers.
 *
 * Loopback clients are exempt unless `limitLoopback` is set: on loopback the clients are this host's own
 * tools, tests and benchmarks (which hammer it on purpose), and behind a reverse proxy on this host every
 * client has the proxy's loopback address, so one bucket per IP would let one abusive client throttle
 * everyone: the proxy is the place to limit per real client there.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { fromLoopback } from './auth.ts';

export interface RateLimitOptions {
  /** Requests per second per client IP; 0 (or undefined): no limit, no hook on the request path. */
  perSecond?: number;
  /** Limit loopback clients too (default false: they are exempt). */
  limitLoopback?: boolean;
}

/**
 * Limits every route of `app`'s encapsulation context (call it inside the plugin that registers them, before
 * its authentication hook, so that guessing tokens is limited as well).
 */
export async function limitRequests(app: FastifyInstance, what: string, o: RateLimitOptions): Promise<void> {
  const max = o.perSecond ?? 0;
  if (max <= 0) return;
  await app.register(rateLimit, {
    global: false,
    max,
    timeWindow: 1000,
    allowList: o.limitLoopback ? undefined : (req) => fromLoopback(req),
    errorResponseBuilder: (_req, ctx) =>
      new ShoalError(
        'RATE_LIMITED',
        `more than ${ctx.max} ${what} requests per second from this client; retry after ${ctx.after}`,
      ),
  });
  app.addHook('onRequest', app.rateLimit());
}
