import type { FastifyInstance } from 'fastify';
import { errorSchema } from './errors.ts';

/** Fault injection for tests and benchmarks (the daemon must run with `--fault-injection on`). */
export interface FaultAdmin {
  block(peerIds: string[]): Promise<void>;
  unblock(peerIds: string[]): void;
  /** One-way latency in ms from zone to zone; an empty matrix removes the emulation. */
  setLatency(matrix: Record<string, Record<string, number>>): void;
}

const peersBody = {
  type: 'object',
  required: ['peerIds'],
  additionalProperties: false,
  properties: { peerIds: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 1000 } },
} as const;

const ok = { type: 'object', properties: { ok: { type: 'boolean' } } } as const;

/** `POST /admin/faults/block|unblock` (in-app partition) and `PUT /admin/faults/latency` (emulated WAN). */
export function faultRoutes(faults: FaultAdmin) {
  return async (app: FastifyInstance): Promise<void> => {
    const responses = { 200: ok, 400: errorSchema, 500: errorSchema };
    app.post<{ Body: { peerIds: string[] } }>(
      '/admin/faults/block',
      {
        schema: {
          summary: 'Test/bench only: refuse and close connections to these peers (a partition)',
          body: peersBody,
          response: responses,
        },
      },
      async (req) => {
        await faults.block(req.body.peerIds);
        return { ok: true };
      },
    );
    app.post<{ Body: { peerIds: string[] } }>(
      '/admin/faults/unblock',
      { schema: { summary: 'Test/bench only: heal a partition', body: peersBody, response: responses } },
      async (req) => {
        faults.unblock(req.body.peerIds);
        return { ok: true };
      },
    );
    app.put<{ Body: { matrix: Record<string, Record<string, number>> } }>(
      '/admin/faults/latency',
      {
        schema: {
          summary: 'Test/bench only: emulated one-way latency per zone pair (ms)',
          body: {
            type: 'object',
            required: ['matrix'],
            additionalProperties: false,
            properties: {
              matrix: {
                type: 'object',
                additionalProperties: {
                  type: 'object',
                  additionalProperties: { type: 'number', minimum: 0, maximum: 10_000 },
                },
              },
            },
          },
          response: responses,
        },
      },
      async (req) => {
        faults.setLatency(req.body.matrix);
        return { ok: true };
      },
    );
  };
}
