import type { FastifyInstance } from 'fastify';
import { MOVE_STEPS, type MoveStepKind, type WaveFaults } from '../overrides/index.ts';
import type { StoreFaults } from '../store/faulty.ts';
import { errorSchema } from './errors.ts';

/** Fault injection for tests and benchmarks (the daemon must run with `--fault-injection on`). */
export interface FaultAdmin {
  block(peerIds: string[]): Promise<void>;
  unblock(peerIds: string[]): void;
  /** One-way latency in ms from zone to zone; an empty matrix removes the emulation. */
  setLatency(matrix: Record<string, Record<string, number>>): void;
  /** Kill this daemon before a wave step, or pause before one (`{}` clears both). */
  setWaveFaults(f: { crashBefore?: MoveStepKind; pauseBefore?: MoveStepKind; pauseMs?: number }): void;
  /** The wave faults set, and the wave step a wave waits before now. */
  waveFaults(): WaveFaults;
  /** A slow store (latency before every asynchronous call) or a full one (writes fail with ENOSPC). */
  setStoreFaults(f: Partial<StoreFaults>): void;
  storeFaults(): StoreFaults;
  /** Offset of the HLC's physical clock from the host's, ms (ahead > 0, behind < 0). */
  setClockSkew(offsetMs: number): void;
  clockSkew(): number;
}

const peersBody = {
  type: 'object',
  required: ['peerIds'],
  additionalProperties: false,
  properties: { peerIds: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 1000 } },
} as const;

const ok = { type: 'object', properties: { ok: { type: 'boolean' } } } as const;

/**
 * `POST /admin/faults/block|unblock` (in-app partition), `PUT /admin/faults/latency` (emulated WAN),
 * `PUT /admin/faults/store` (slow or full store), `PUT /admin/faults/clock` (HLC skew), `/admin/faults/wave`.
 */
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
    const step = { type: 'string', enum: [...MOVE_STEPS] } as const;
    const waveFaults = {
      type: 'object',
      properties: {
        crashBefore: step,
        pauseBefore: step,
        pauseMs: { type: 'integer' },
        paused: {
          type: 'object',
          properties: { wave: { type: 'string' }, step, since: { type: 'integer' } },
        },
      },
    } as const;
    app.put<{ Body: { crashBefore?: MoveStepKind; pauseBefore?: MoveStepKind; pauseMs?: number } }>(
      '/admin/faults/wave',
      {
        schema: {
          summary: 'Test only: SIGKILL this daemon before a step of the waves it coordinates, or pause before one',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              crashBefore: step,
              pauseBefore: step,
              pauseMs: { type: 'integer', minimum: 0, maximum: 600_000 },
            },
          },
          response: responses,
        },
      },
      async (req) => {
        faults.setWaveFaults(req.body);
        return { ok: true };
      },
    );
    const storeFaults = {
      type: 'object',
      additionalProperties: false,
      properties: { latencyMs: { type: 'integer', minimum: 0, maximum: 10_000 }, full: { type: 'boolean' } },
    } as const;
    app.put<{ Body: Partial<StoreFaults> }>(
      '/admin/faults/store',
      {
        schema: {
          summary:
            'Test only: a slow store (ms before every call) or a full one (writes fail with ENOSPC); {} keeps both',
          body: storeFaults,
          response: { 200: storeFaults, 400: errorSchema },
        },
      },
      async (req) => {
        faults.setStoreFaults(req.body);
        return faults.storeFaults();
      },
    );
    const skew = {
      type: 'object',
      required: ['offsetMs'],
      additionalProperties: false,
      // Within the HLC's drift bound (60 s), so the other daemons accept this one's timestamps.
      properties: { offsetMs: { type: 'integer', minimum: -50_000, maximum: 50_000 } },
    } as const;
    app.put<{ Body: { offsetMs: number } }>(
      '/admin/faults/clock',
      {
        schema: {
          summary: "Test only: skew this daemon's HLC physical clock by offsetMs (ahead > 0, behind < 0)",
          body: skew,
          response: { 200: skew, 400: errorSchema },
        },
      },
      async (req) => {
        faults.setClockSkew(req.body.offsetMs);
        return { offsetMs: faults.clockSkew() };
      },
    );
    app.get(
      '/admin/faults/wave',
      {
        schema: {
          summary: 'Test only: the wave faults set, and where a wave waits now',
          response: { 200: waveFaults },
        },
      },
      async () => faults.waveFaults(),
    );
  };
}
