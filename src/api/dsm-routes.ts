/**
 * The Dynamic Sharding Manager's admin routes (`/admin/dsm*`): its status, its policy, pause and resume, and
 * a dry-run plan. The migrations are in migration-routes.ts.
 *
 * Every response schema lists every field of the contract type it serialises (fastify drops what a schema
 * does not name), and the `satisfies Record<keyof T, …>` on each property list makes the compiler refuse a
 * schema that misses (or invents) a field of `src/dsm`'s types.
 *
 * An unknown policy is a body that does not match the schema: `400 INVALID_BODY`, whose message names the
 * allowed values. (One validation mechanism, the schema, which OpenAPI also shows; no code per enum: the
 * catalogue's code tells the class of failure, the message the detail.)
 *
 * @packageDocumentation
 */
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import {
  type CycleReport,
  DSM_POLICIES,
  type Dsm,
  type DsmPolicy,
  type DsmStatus,
  type GuardEvent,
  type GuardStatus,
  type MoveKind,
  type Plan,
  type PlannedMove,
  type PlanSkip,
  type SkipReason,
} from '../dsm/index.ts';
import { ShoalError } from '../errors/index.ts';
import { errorSchema } from './errors.ts';

/** Every skip reason (the compiler checks the list against {@link SkipReason}: none missing, none extra). */
export const SKIP_REASONS = Object.keys({
  pinned: 0,
  'in-flight': 0,
  cooldown: 0,
  'below-threshold': 0,
  hysteresis: 0,
  redundancy: 0,
  capacity: 0,
  'budget-moves': 0,
  'budget-bytes': 0,
  'overrides-cap': 0,
  'no-demand': 0,
} satisfies Record<SkipReason, 0>) as SkipReason[];
export const MOVE_KINDS = Object.keys({ add: 0, drop: 0, replace: 0, home: 0 } satisfies Record<
  MoveKind,
  0
>) as MoveKind[];
/** Default and largest `limit` of the plan and migrations routes. */
export const DSM_DEFAULT_LIMIT = 100;
export const DSM_MAX_LIMIT = 10_000;

const ids = { type: 'array', items: { type: 'string' } } as const;
const policy = { type: 'string', enum: [...DSM_POLICIES] } as const;

const skipCounts = {
  type: 'object',
  description: 'Records skipped, per reason (reasons with none are absent)',
  properties: Object.fromEntries(SKIP_REASONS.map((r) => [r, { type: 'integer' }])),
  // A reason added to the contract later still reaches the client.
  additionalProperties: { type: 'integer' },
} as const;

const cycleReport = {
  type: ['object', 'null'],
  description: 'The last cycle (null before the first)',
  properties: {
    startedAt: { type: 'integer', description: 'ms since the epoch' },
    durationMs: { type: 'number' },
    policy,
    considered: { type: 'integer', description: 'records looked at' },
    planned: { type: 'integer', description: 'moves planned' },
    skipCounts,
    wave: { type: 'string', description: 'the wave that executed the moves, if any' },
    done: { type: 'integer', description: 'moves of the wave that ended done' },
    failed: { type: 'integer', description: 'moves of the wave that failed' },
    error: { type: 'string' },
  } satisfies Record<keyof CycleReport, unknown>,
} as const;

const statusSchema = {
  type: 'object',
  properties: {
    policy,
    paused: { type: 'boolean' },
    intervalMs: { type: 'integer' },
    survive: { type: 'string', enum: ['zone', 'node'] },
    thresholdMs: { type: 'number', description: 'ms of client latency a move must save over the horizon' },
    maxMoves: { type: 'integer', description: 'moves per cycle' },
    maxMbps: { type: 'number', description: "the mover's bandwidth cap, MB/s" },
    cooldownMs: { type: 'integer' },
    lastCycle: cycleReport,
    nextCycleAt: { type: ['integer', 'null'], description: 'ms since the epoch (null: paused or off)' },
    partitionsPlanned: { type: 'integer', description: 'partitions this daemon coordinates, and so plans' },
    overridesHeld: { type: 'integer' },
    guard: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean' },
        margin: { type: 'number' },
        windowMs: { type: 'integer' },
        pending: { type: 'integer' },
        events: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              wave: { type: 'string' },
              at: { type: 'integer' },
              records: { type: 'integer' },
              costNewMs: { type: 'number' },
              costOldMs: { type: 'number' },
              rolledBack: { type: 'boolean' },
              rollbackId: { type: 'string' },
            } satisfies Record<keyof GuardEvent, unknown>,
          },
        },
      } satisfies Record<keyof GuardStatus, unknown>,
    },
  } satisfies Record<keyof DsmStatus, unknown>,
} as const;

const moveProperties = {
  kind: { type: 'string', enum: MOVE_KINDS },
  key: { type: 'string' },
  partition: { type: 'integer' },
  from: { ...ids, description: 'holders before, primary first' },
  to: { ...ids, description: 'holders after, primary first' },
  bytes: { type: 'integer', description: 'bytes the move copies' },
  gainMs: { type: 'number', description: 'client latency saved over the horizon, ms, net of the cost' },
  reason: { type: 'string' },
} as const satisfies Record<keyof PlannedMove, unknown>;
const plannedMove = { type: 'object', properties: moveProperties } as const;

const planSchema = {
  type: 'object',
  properties: {
    moves: { type: 'array', items: plannedMove },
    skipped: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          reason: { type: 'string', enum: SKIP_REASONS },
          move: { ...plannedMove, description: 'the best move it would have made, if any' },
        } satisfies Record<keyof PlanSkip, unknown>,
      },
    },
    considered: { type: 'integer' },
    skipCounts,
  } satisfies Record<keyof Plan, unknown>,
} as const;

/** `?limit=` of the plan and migrations routes. */
export const limitQuery = (what: string) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: DSM_MAX_LIMIT,
        default: DSM_DEFAULT_LIMIT,
        description: `most ${what} listed`,
      },
    },
  }) as const;

export const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 503: errorSchema } as const;
const tags = ['dsm'];

/** ajv's default message for `enum` ("must be equal to one of the allowed values") does not say which. */
export const namingAllowedValues = (errs: FastifySchemaValidationError[], dataVar: string): Error => {
  const e = errs[0];
  if (e?.keyword === 'enum') {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return new Error(`${dataVar}${e.instancePath} must be one of ${allowed.join(', ')}`);
  }
  return new Error(`${dataVar}${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`.trim());
};

/** A DSM still being built (the daemon is starting) answers 503 NOT_READY. */
export function ready(dsm: () => Dsm | undefined): Dsm {
  const d = dsm();
  if (d === undefined) throw new ShoalError('NOT_READY', 'the Dynamic Sharding Manager is not running yet');
  return d;
}

/** A change to a DSM that `?scope=cluster` hands to every member (node/cluster-dsm.ts). */
export type DsmControl = { op: 'pause' } | { op: 'resume' } | { op: 'policy'; policy: DsmPolicy };
/** One member's outcome of a cluster-wide control. */
export interface DsmControlOutcome {
  peerId: string;
  ok: boolean;
  error?: string;
}
/** Applies a control to a DSM. */
export function applyDsmControl(d: Dsm, c: DsmControl): void {
  if (c.op === 'pause') d.pause();
  else if (c.op === 'resume') d.resume();
  else d.setPolicy(c.policy);
}

/** Hands a control to every other member; resolves to each one's outcome. */
export type DsmClusterControl = (control: DsmControl, signal: AbortSignal) => Promise<DsmControlOutcome[]>;

const scopeQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    scope: {
      type: 'string',
      enum: ['local', 'cluster'],
      description: 'cluster: every member that is not down too (its outcome in `cluster`); default local',
    },
  },
} as const;

/** The control's answer: this daemon's status, and with `scope=cluster` every other member's outcome. */
const controlSchema = {
  ...statusSchema,
  properties: {
    ...statusSchema.properties,
    cluster: {
      type: 'array',
      items: {
        type: 'object',
        properties: { peerId: { type: 'string' }, ok: { type: 'boolean' }, error: { type: 'string' } },
      },
    },
  },
} as const;

/** How long a dry-run plan may take before the route gives up. */
const PLAN_DEADLINE_MS = 30_000;

/**
 * `GET /admin/dsm`, `PUT /admin/dsm/policy`, `POST /admin/dsm/pause`, `POST /admin/dsm/resume`,
 * `GET /admin/dsm/plan?limit=`. `dsm` returns undefined while the daemon starts.
 */
export function dsmRoutes(dsm: () => Dsm | undefined, cluster?: DsmClusterControl) {
  /** Applies `control` here, and to every member with `scope=cluster`. */
  const control = async (c: DsmControl, scope: string | undefined) => {
    const d = ready(dsm);
    applyDsmControl(d, c);
    const members = scope === 'cluster' && cluster ? await cluster(c, AbortSignal.timeout(5_000)) : undefined;
    return members === undefined ? d.status() : { ...d.status(), cluster: members };
  };
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Reply: DsmStatus }>(
      '/admin/dsm',
      {
        schema: {
          summary: "The DSM's policy, limits, pause state and last cycle",
          tags,
          response: { 200: statusSchema, ...errors },
        },
      },
      async () => ready(dsm).status(),
    );
    app.put<{ Body: { policy: DsmPolicy }; Querystring: { scope?: string } }>(
      '/admin/dsm/policy',
      {
        schema: {
          summary:
            'Set the planning policy (off stops planning; in-flight moves finish); scope=cluster: on every daemon',
          tags,
          querystring: scopeQuery,
          body: {
            type: 'object',
            required: ['policy'],
            additionalProperties: false,
            properties: { policy },
          },
          response: { 200: controlSchema, ...errors },
        },
        schemaErrorFormatter: namingAllowedValues,
      },
      async (req) => control({ op: 'policy', policy: req.body.policy }, req.query.scope),
    );
    app.post<{ Querystring: { scope?: string } }>(
      '/admin/dsm/pause',
      {
        schema: {
          summary: 'Pause the DSM: no new cycles (moves in flight finish); scope=cluster: on every daemon',
          tags,
          querystring: scopeQuery,
          response: { 200: controlSchema, ...errors },
        },
      },
      async (req) => control({ op: 'pause' }, req.query.scope),
    );
    app.post<{ Querystring: { scope?: string } }>(
      '/admin/dsm/resume',
      {
        schema: {
          summary: 'Resume a paused DSM; scope=cluster: on every daemon',
          tags,
          querystring: scopeQuery,
          response: { 200: controlSchema, ...errors },
        },
      },
      async (req) => control({ op: 'resume' }, req.query.scope),
    );
    app.get<{ Querystring: { limit: number }; Reply: Plan }>(
      '/admin/dsm/plan',
      {
        schema: {
          summary: 'Dry run: the moves a cycle would make now, with reasons and expected gains (moves nothing)',
          tags,
          querystring: limitQuery('moves (and skipped records)'),
          response: { 200: planSchema, ...errors, 504: errorSchema },
        },
        schemaErrorFormatter: namingAllowedValues,
      },
      async (req) => {
        const { limit } = req.query;
        const plan = await ready(dsm).plan({ limit, signal: AbortSignal.timeout(PLAN_DEADLINE_MS) });
        // The limit holds whatever the planner does with it.
        return { ...plan, moves: plan.moves.slice(0, limit), skipped: plan.skipped.slice(0, limit) };
      },
    );
  };
}
