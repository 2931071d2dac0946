import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';

export interface HealthRoutesOptions {
  /** True once the daemon serves data (store open, cluster joined when configured). */
  ready: () => boolean;
}

const okSchema = { type: 'object', properties: { status: { type: 'string' } } } as const;

/** `/healthz` (the process answers) and `/readyz` (it serves data). */
export async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: okSchema } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness', response: { 200: okSchema, 503: errorSchema } } }, async () => {
    if (!opts.ready()) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return { status: 'ready' };
  });
}
