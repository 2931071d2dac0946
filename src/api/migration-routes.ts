/**
 * `GET /admin/migrations`: the mover's moves in flight and the most recent that ended, of this daemon
 * (`scope=local`, the default and the design's fixed interface) or of the whole cluster (`scope=cluster`).
 *
 * Every move is recorded by the daemon that coordinated it (its partition's coordinator), so the cluster's
 * moves are the union of every member's lists; how the daemon collects them is the `cluster` source's job
 * (node/cluster-migrations.ts: over the members' libp2p channel, argued there). Each cluster move names its
 * `coordinator`, and `daemons` says who answered, so a member that did not is visible rather than silently
 * missing.
 *
 * @packageDocumentation
 */
import type { FastifyInstance } from 'fastify';
import type { Dsm, Migration, MigrationState } from '../dsm/index.ts';
import { ShoalError } from '../errors/index.ts';
import { errors, limitQuery, MOVE_KINDS, namingAllowedValues, ready } from './dsm-routes.ts';

export const MIGRATION_STATES = Object.keys({
  planned: 0,
  copying: 0,
  committed: 0,
  done: 0,
  failed: 0,
  undone: 0,
} satisfies Record<MigrationState, 0>) as MigrationState[];
export const MIGRATION_ORIGINS = Object.keys({ dsm: 0, manual: 0, rollback: 0 } satisfies Record<
  Migration['origin'],
  0
>) as Array<Migration['origin']>;

/** One daemon's moves: in flight, and ended (most recent first). */
export interface MigrationsView {
  inFlight: Migration[];
  history: Migration[];
}

/** A move of the cluster view: with the peer id of the daemon that coordinated (and recorded) it. */
export type ClusterMigration = Migration & { coordinator: string };

/** What each member said to a cluster query. */
export interface MigrationSource {
  peerId: string;
  zone: string;
  /** false: it did not answer in time, or its answer was malformed (`error` says which). */
  answered: boolean;
  error?: string;
  /** How many of its moves are in flight, and how many ended ones it listed. */
  inFlight: number;
  history: number;
}

/** `GET /admin/migrations?scope=cluster`. */
export interface ClusterMigrations {
  /** Every member's moves in flight, oldest first. */
  inFlight: ClusterMigration[];
  /** The most recent `limit` ended moves of all members, most recent first. */
  history: ClusterMigration[];
  daemons: MigrationSource[];
}

/** Collects the cluster's moves (the daemon's own included). */
export type ClusterMigrationsSource = (query: { limit: number; signal: AbortSignal }) => Promise<ClusterMigrations>;

const ids = { type: 'array', items: { type: 'string' } } as const;

const migrationProperties = {
  id: { type: 'string' },
  wave: { type: 'string' },
  kind: { type: 'string', enum: MOVE_KINDS },
  key: { type: 'string' },
  partition: { type: 'integer' },
  from: ids,
  to: ids,
  state: { type: 'string', enum: MIGRATION_STATES },
  reason: { type: 'string' },
  bytes: { type: 'integer' },
  gainMs: { type: 'number' },
  origin: { type: 'string', enum: MIGRATION_ORIGINS },
  startedAt: { type: 'integer' },
  endedAt: { type: 'integer' },
  checksum: { type: 'string', description: 'SHA-256 of the record as the new holders signed for it' },
  epoch: {
    type: 'object',
    description: 'the partition epoch that committed it',
    properties: { scope: { type: 'string' }, number: { type: 'integer' }, hash: { type: 'string' } },
  },
  error: { type: 'string' },
} as const satisfies Record<keyof Migration, unknown>;

const clusterMigration = {
  type: 'object',
  properties: {
    ...migrationProperties,
    coordinator: { type: 'string', description: 'peer id of the daemon that coordinated the move' },
  } satisfies Record<keyof ClusterMigration, unknown>,
} as const;

const migrationsSchema = {
  type: 'object',
  description:
    'scope=local: this daemon\'s moves; scope=cluster: every member\'s, each with its coordinator, and "daemons"',
  properties: {
    inFlight: { type: 'array', items: clusterMigration },
    history: { type: 'array', items: clusterMigration, description: 'most recent first' },
    daemons: {
      type: 'array',
      description: 'scope=cluster only: each member asked, and whether it answered',
      items: {
        type: 'object',
        properties: {
          peerId: { type: 'string' },
          zone: { type: 'string' },
          answered: { type: 'boolean' },
          error: { type: 'string' },
          inFlight: { type: 'integer' },
          history: { type: 'integer' },
        } satisfies Record<keyof MigrationSource, unknown>,
      },
    },
  },
} as const;

const query = {
  ...limitQuery('ended migrations'),
  properties: {
    ...limitQuery('ended migrations').properties,
    scope: {
      type: 'string',
      enum: ['local', 'cluster'],
      default: 'local',
      description: "local: this daemon's moves; cluster: every member's (asked over the cluster's libp2p channel)",
    },
  },
} as const;

/** How long a cluster query waits for the members (each is asked at once). */
const CLUSTER_DEADLINE_MS = 5000;

/** `GET /admin/migrations?limit=&scope=local|cluster`; without a `cluster` source, scope=cluster is 503. */
export function migrationRoutes(dsm: () => Dsm | undefined, cluster?: ClusterMigrationsSource) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { limit: number; scope: 'local' | 'cluster' } }>(
      '/admin/migrations',
      {
        schema: {
          summary: 'Migrations in flight, and the most recent ones that ended (DSM, manual and rollback)',
          tags: ['dsm'],
          querystring: query,
          response: { 200: migrationsSchema, ...errors },
        },
        schemaErrorFormatter: namingAllowedValues,
      },
      async (req) => {
        const { limit, scope } = req.query;
        if (scope === 'cluster') {
          if (cluster === undefined) throw new ShoalError('NOT_READY', 'this daemon cannot ask its cluster yet');
          return cluster({ limit, signal: AbortSignal.timeout(CLUSTER_DEADLINE_MS) });
        }
        const m = ready(dsm).migrations({ limit });
        return { inFlight: m.inFlight, history: m.history.slice(0, limit) };
      },
    );
  };
}
