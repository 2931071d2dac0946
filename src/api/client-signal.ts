import type { FastifyReply } from 'fastify';
import { ShoalError } from '../errors/index.ts';

/**
 * A signal that aborts when the client goes away before the response is finished. (fastify's
 * `request.signal` fires on the request's 'close', which Node emits as soon as a body has been read,
 * so it would abort every PUT.) The reason is an ABORTED error, so an operation that throws it answers (and
 * logs) as a disconnect, not as an internal error.
 */
export function clientSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort(new ShoalError('ABORTED', 'client closed the connection'));
  });
  return ac.signal;
}
