import { multiaddr } from '@multiformats/multiaddr';
import type { FastifyInstance } from 'fastify';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';

/** A join's address must parse: a malformed one is the client's mistake (400), not an unreachable peer (503). */
function checkMultiaddr(address: string): string {
  let empty: boolean;
  try {
    empty = multiaddr(address).toString() === '/';
  } catch (err) {
    throw new ShoalError('INVALID_BODY', `body/multiaddr is not a multiaddr: ${(err as Error).message}`);
  }
  if (empty) throw new ShoalError('INVALID_BODY', 'body/multiaddr is not a multiaddr: it has no address');
  return address;
}

/** What the cluster admin routes need from the daemon. */
export interface ClusterAdmin {
  peers(): unknown[];
  ring(): unknown;
  join(multiaddr: string, signal: AbortSignal): Promise<unknown>;
  /** Starts decommissioning: hands data off, leaves, and then the daemon exits. */
  leave(): void;
  /** Removes a dead member for good (its share re-replicated); `peerId` may be a unique prefix or suffix. */
  remove(peerId: string, force: boolean): Promise<{ removed: string; zone: string; state: string; status: string }>;
  /** The signed cluster epoch chain: head and newest epochs. */
  layout(): unknown;
  /** Every replica's copy of a key (deleted keys too: their tombstones). */
  inspect(key: string, signal: AbortSignal): Promise<unknown[]>;
  /** Where a key lives: placement source (ring | override), holders, the epoch that placed it, its history. */
  placement?(key: string): unknown;
}

const memberSchema = {
  type: 'object',
  properties: {
    peerId: { type: 'string' },
    zone: { type: 'string' },
    capacity: { type: 'number' },
    storeKind: { type: 'string' },
    apiUrl: { type: 'string' },
    adminUrl: {
      type: 'string',
      description:
        'its admin API and dashboard (its --admin-port listener, else apiUrl); absent from daemons that predate it',
    },
    multiaddrs: { type: 'array', items: { type: 'string' } },
    state: { type: 'string', enum: ['up', 'suspect', 'down'], description: 'health, from the failure detector' },
    status: { type: 'string', enum: ['up', 'suspect', 'down'], description: 'the same as state (its older name)' },
    lastSeen: { type: 'integer' },
    self: { type: 'boolean' },
    leaving: { type: 'boolean' },
    joinedAt: { type: 'integer' },
    /** Estimated bytes in the member's store; absent when its backend cannot tell. */
    usedBytes: { type: 'integer' },
    /** The member's `--storage-limit-mb` in bytes; absent when it has none. */
    limitBytes: { type: 'integer' },
    /** Smoothed ping RTT from this daemon, ms; absent before the first ping and for `self`. */
    rttMs: { type: 'number' },
  },
} as const;

const countsSchema = { type: 'object', additionalProperties: true } as const;

/** A member of `/admin/ring`: named as in `/admin/peers`, with its share of the ring. */
const ringMemberSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    peerId: { type: 'string' },
    id: { type: 'string', description: 'the same as peerId (its older name)' },
    zone: { type: 'string' },
    capacity: { type: 'number' },
    state: {
      type: 'string',
      enum: ['up', 'suspect', 'down', 'leaving'],
      description: 'health as in /admin/peers, or leaving while it hands its partitions off',
    },
    primaries: { type: 'integer' },
    replicas: { type: 'integer' },
  },
} as const;

/** `GET /admin/peers`, `GET /admin/ring`, `POST /admin/join`, `POST /admin/leave`, `POST /admin/members/:peerId/remove`. */
export function clusterRoutes(admin: ClusterAdmin) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/admin/peers',
      {
        schema: {
          summary: 'Cluster members and their health',
          response: { 200: { type: 'object', properties: { members: { type: 'array', items: memberSchema } } } },
        },
      },
      async () => ({
        members: admin.peers(),
      }),
    );
    app.get(
      '/admin/ring',
      {
        schema: {
          summary: 'Ring: partitions per daemon, replicas per zone',
          response: {
            200: {
              type: 'object',
              properties: {
                partitions: { type: 'integer' },
                replicas: { type: 'integer' },
                members: { type: 'array', items: ringMemberSchema },
                zones: { type: 'array', items: countsSchema },
                underReplicated: { type: 'integer' },
                zoneCollisions: { type: 'integer' },
              },
            },
          },
        },
      },
      async () => admin.ring(),
    );
    app.get(
      '/admin/layout',
      {
        schema: {
          summary: 'Signed, hash-chained cluster epochs: head, the newest 50, and the partition forks resolved here',
        },
      },
      async () => admin.layout(),
    );
    app.get<{ Params: { key: string } }>(
      '/admin/records/:key',
      {
        schema: {
          summary:
            "Where a key lives: placement (ring or override, holders, epoch), its replicas and each one's version (tombstones included)",
          params: { type: 'object', properties: { key: { type: 'string' } } },
        },
      },
      async (req) => ({
        key: req.params.key,
        placement: admin.placement?.(req.params.key),
        replicas: await admin.inspect(req.params.key, AbortSignal.timeout(10_000)),
      }),
    );
    app.post<{ Body: { multiaddr: string } }>(
      '/admin/join',
      {
        schema: {
          summary: 'Join the cluster of the daemon at this multiaddr',
          body: {
            type: 'object',
            required: ['multiaddr'],
            additionalProperties: false,
            properties: { multiaddr: { type: 'string', minLength: 1 } },
          },
          response: {
            200: { type: 'object', properties: { joined: memberSchema } },
            400: errorSchema,
            503: errorSchema,
            504: errorSchema,
          },
        },
      },
      async (req) => ({ joined: await admin.join(checkMultiaddr(req.body.multiaddr), AbortSignal.timeout(15_000)) }),
    );
    app.post(
      '/admin/leave',
      {
        schema: {
          summary: 'Decommission this daemon: hand its data to the others, leave, exit',
          response: { 202: { type: 'object', properties: { leaving: { type: 'boolean' } } } },
        },
      },
      async (_req, reply) => {
        admin.leave();
        return reply.code(202).send({ leaving: true });
      },
    );
    app.post<{ Params: { peerId: string }; Body: { force?: boolean } | undefined }>(
      '/admin/members/:peerId/remove',
      {
        schema: {
          summary:
            'Remove a dead member for good (as nodetool removenode): every daemon drops it and re-replicates its share',
          params: { type: 'object', properties: { peerId: { type: 'string', minLength: 1, maxLength: 200 } } },
          body: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: { force: { type: 'boolean', description: 'remove a member that is up or suspect' } },
          },
          response: {
            202: {
              type: 'object',
              properties: {
                removed: { type: 'string' },
                zone: { type: 'string' },
                state: { type: 'string', description: 'its health when it was removed' },
                status: { type: 'string', description: 'the same as state (its older name)' },
              },
            },
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
            503: errorSchema,
          },
        },
      },
      async (req, reply) => reply.code(202).send(await admin.remove(req.params.peerId, req.body?.force === true)),
    );
  };
}
