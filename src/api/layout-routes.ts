/**
 * Layout audit and rollback: `GET /admin/layout/epochs` (every signed epoch, cluster and partition
 * chains, with its change) and `POST /admin/layout/rollback` (restore every record's placement as of a
 * time, or undo one wave).
 *
 * @packageDocumentation
 */
import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import type { Epoch, Layout, RevocationOrder } from '../layout/index.ts';
import { hashEpoch } from '../layout/index.ts';
import type { RollbackTarget } from '../overrides/index.ts';
import { errorSchema } from './errors.ts';

/** What the layout routes need from the daemon. */
export interface LayoutAdmin {
  layout(): Layout;
  rollback(target: RollbackTarget, signal: AbortSignal): Promise<{ rollbackId: string; records: number }>;
  /** Lifts the quarantine of a signer (quarantine.ts); false when it was not quarantined. */
  clearQuarantine(signer: string): boolean;
  /** Takes an admin's revocation order (src/layout/revocation.ts); throws REVOCATION_REFUSED. */
  revoke(order: RevocationOrder, signal: AbortSignal): Promise<void>;
}

/** One epoch as the admin API shows it. */
export interface EpochView {
  scope: string;
  number: number;
  hash: string;
  parent: string;
  signer: string;
  signature: string;
  ts: number;
  basis?: number;
  reason: string;
  wave?: string;
  restoreOf?: number;
  change: Epoch['change'];
}

export function epochView(e: Epoch): EpochView {
  return {
    scope: e.scope,
    number: e.number,
    hash: hashEpoch(e),
    parent: e.parent,
    signer: e.signer,
    signature: e.sig,
    ts: e.ts,
    basis: e.basis,
    reason: e.change.reason,
    wave: e.change.wave,
    restoreOf: e.change.restoreOf,
    change: e.change,
  };
}

const SCOPE = /^(cluster|all|partition:(0|[1-9][0-9]{0,6}))$/;

const ids = { type: 'array', items: { type: 'string' } } as const;
const epochSchema = {
  type: 'object',
  properties: {
    scope: { type: 'string' },
    number: { type: 'integer' },
    hash: { type: 'string' },
    parent: { type: 'string' },
    signer: { type: 'string' },
    signature: { type: 'string' },
    ts: { type: 'integer' },
    basis: { type: 'integer' },
    reason: { type: 'string' },
    wave: { type: 'string' },
    restoreOf: { type: 'integer' },
    change: {
      type: 'object',
      properties: {
        membersAdded: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              zone: { type: 'string' },
              capacity: { type: 'number' },
              state: { type: 'string' },
            },
          },
        },
        membersRemoved: ids,
        overridesSet: {
          type: 'array',
          items: { type: 'object', properties: { key: { type: 'string' }, replicas: ids } },
        },
        overridesRemoved: ids,
        checkpoint: {
          type: 'array',
          items: {
            type: 'object',
            properties: { scope: { type: 'string' }, number: { type: 'integer' }, hash: { type: 'string' } },
          },
        },
        restoreOf: { type: 'integer' },
        wave: { type: 'string' },
        reason: { type: 'string' },
        checksums: { type: 'object', additionalProperties: { type: 'string' } },
        membersDown: ids,
        membersUp: ids,
        revoked: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              at: { type: 'integer' },
              admin: { type: 'string' },
              sig: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;

/** The epochs a query selects: one chain from `from`, or the newest `limit` of every chain. */
export function selectEpochs(layout: Layout, q: { scope: string; from?: number; limit: number }): EpochView[] {
  const chains =
    q.scope === 'all'
      ? layout.heads().map((h) => layout.chain(h.scope))
      : [layout.chain(q.scope as Parameters<Layout['chain']>[0])];
  const all = chains.flatMap((c) => c.epochs(q.from ?? 1));
  all.sort((a, b) => a.ts - b.ts || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.number - b.number));
  const chosen = q.from !== undefined ? all.slice(0, q.limit) : all.slice(-q.limit);
  return chosen.map(epochView);
}

export function layoutRoutes(admin: () => LayoutAdmin | undefined) {
  const need = (): LayoutAdmin => {
    const a = admin();
    if (a === undefined) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return a;
  };
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { scope?: string; from?: number; limit?: number } }>(
      '/admin/layout/epochs',
      {
        schema: {
          summary: 'Signed layout epochs with their changes (one chain from a number, or the newest of every chain)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              scope: { type: 'string', description: 'cluster | partition:<n> | all (default all)' },
              from: { type: 'integer', minimum: 1 },
              limit: { type: 'integer', minimum: 1, maximum: 10_000 },
            },
          },
          response: {
            200: { type: 'object', properties: { epochs: { type: 'array', items: epochSchema } } },
            400: errorSchema,
          },
        },
      },
      async (req) => {
        const scope = req.query.scope ?? 'all';
        const layout = need().layout();
        const partition = scope.startsWith('partition:') ? Number(scope.slice('partition:'.length)) : -1;
        if (!SCOPE.test(scope) || partition >= layout.partitions) {
          throw new ShoalError(
            'INVALID_QUERY',
            `scope must be cluster, all or partition:<0..${layout.partitions - 1}>`,
          );
        }
        return { epochs: selectEpochs(layout, { scope, from: req.query.from, limit: req.query.limit ?? 100 }) };
      },
    );
    app.post<{ Body: { toTime?: number; wave?: string } }>(
      '/admin/layout/rollback',
      {
        schema: {
          summary:
            'Roll placements back: every record as it was at `toTime`, or undo one wave; pauses the DSM; moves show in /admin/migrations',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              toTime: { type: 'integer', minimum: 0, description: 'ms since the epoch' },
              wave: { type: 'string', minLength: 1, maxLength: 64 },
            },
          },
          response: {
            202: { type: 'object', properties: { rollbackId: { type: 'string' }, records: { type: 'integer' } } },
            400: errorSchema,
            409: errorSchema,
            503: errorSchema,
          },
        },
      },
      async (req, reply) => {
        const { toTime, wave } = req.body;
        if ((toTime === undefined) === (wave === undefined)) {
          throw new ShoalError('INVALID_BODY', 'give exactly one of toTime (ms) or wave (a wave id)');
        }
        const target: RollbackTarget = wave !== undefined ? { wave } : { toTime: toTime! };
        const res = await need().rollback(target, AbortSignal.timeout(30_000));
        return reply.code(202).send(res);
      },
    );
    app.post<{ Body: RevocationOrder }>(
      '/admin/revocations',
      {
        schema: {
          summary:
            "Revoke a member's key with an order signed by the cluster admin key (shoal revoke): the next cluster epoch removes it, and nothing it signs is taken again",
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'at', 'admin', 'sig'],
            properties: {
              id: { type: 'string', minLength: 1, maxLength: 128 },
              at: { type: 'integer', minimum: 0 },
              admin: { type: 'string', minLength: 1, maxLength: 128 },
              sig: { type: 'string', pattern: '^[0-9a-f]{128}$' },
            },
          },
          response: {
            202: { type: 'object', properties: { revoking: { type: 'string' } } },
            400: errorSchema,
            403: errorSchema,
            503: errorSchema,
          },
        },
      },
      async (req, reply) => {
        await need().revoke(req.body, AbortSignal.timeout(10_000));
        return reply.code(202).send({ revoking: req.body.id });
      },
    );
    app.delete<{ Params: { peerId: string } }>(
      '/admin/layout/quarantine/:peerId',
      {
        schema: {
          summary:
            'Lift the quarantine of a signer caught equivocating (GET /admin/layout lists them): its epochs and move announcements are taken again',
          params: { type: 'object', properties: { peerId: { type: 'string', minLength: 1, maxLength: 128 } } },
          response: { 204: { type: 'null' }, 404: errorSchema, 503: errorSchema },
        },
      },
      async (req, reply) => {
        if (!need().clearQuarantine(req.params.peerId)) {
          throw new ShoalError('NOT_QUARANTINED', `${req.params.peerId} is not quarantined here`);
        }
        return reply.code(204).send();
      },
    );
  };
}
