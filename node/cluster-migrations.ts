/**
 * The cluster's migrations (`GET /admin/migrations?scope=cluster`, the dashboard's Migrations panel,
 * `shoal migrations --cluster`): this daemon asks every other member that is not down for its moves over
 * the protocol {@link MIGRATIONS_PROTOCOL}, at once and with one deadline, and merges their lists with its
 * own.
 *
 * Why the daemon collects them over libp2p, rather than the page (or the CLI) calling every daemon's admin
 * API: every move is recorded only by the daemon that coordinated it, so the cluster's view is a union, and
 * the members' admin APIs are the wrong road to it. For a browser another daemon is another origin (the
 * page's CSP and the admin API's lack of CORS forbid the call, on purpose); a daemon without a token answers
 * its admin API on its own loopback only; one with `--admin-port` may listen where the operator's machine
 * cannot reach; and each may have its own token. The members, though, already reach and trust each other on
 * the cluster's libp2p channel (pnet, the cluster secret), which is how every other cross-daemon question
 * travels. So the operator needs one daemon and its token, and the answer says which members did not answer
 * (`daemons`) instead of leaving their moves out silently.
 *
 * A member's answer is checked (shape and bounds) before it is merged: a malformed one is reported as that
 * member's error, not passed on to the page.
 */

import { DSM_MAX_LIMIT, MOVE_KINDS } from '../src/api/dsm-routes.ts';
import type {
  ClusterMigration,
  ClusterMigrations,
  MigrationSource,
  MigrationsView,
} from '../src/api/migration-routes.ts';
import { MIGRATION_ORIGINS, MIGRATION_STATES } from '../src/api/migration-routes.ts';
import type { Dsm, Migration } from '../src/dsm/index.ts';
import { ShoalError } from '../src/errors/index.ts';
import type { Net } from '../src/net/index.ts';

export const MIGRATIONS_PROTOCOL = '/shoal/migrations/1.0.0';

/** Per member; the route's own deadline (5 s) bounds the whole query. */
const MEMBER_TIMEOUT_MS = 4000;
/**
 * Moves in flight one member lists (the oldest; a wave holds at most `--dsm-max-moves`, default 256), so an
 * answer is at most 2 × 10 000 moves of a few hundred bytes: well within an RPC frame (16 MiB).
 */
const MAX_IN_FLIGHT = DSM_MAX_LIMIT;

const enc = new TextEncoder();
const dec = new TextDecoder();

const clampLimit = (n: unknown) =>
  typeof n === 'number' && Number.isInteger(n) ? Math.min(Math.max(n, 1), DSM_MAX_LIMIT) : 100;

/** This daemon's answer to a member's query: its own moves (NOT_READY while its DSM starts). */
export async function serveMigrations(net: Net, dsm: () => Dsm | undefined): Promise<void> {
  await net.handle(MIGRATIONS_PROTOCOL, async (req) => {
    const d = dsm();
    if (d === undefined) throw new ShoalError('NOT_READY', 'the Dynamic Sharding Manager is not running yet');
    let limit: unknown;
    try {
      limit = (JSON.parse(dec.decode(req)) as { limit?: unknown }).limit;
    } catch {
      limit = undefined;
    }
    const n = clampLimit(limit);
    const m = d.migrations({ limit: n });
    return enc.encode(JSON.stringify({ inFlight: m.inFlight.slice(0, MAX_IN_FLIGHT), history: m.history.slice(0, n) }));
  });
}

const KINDS = new Set<string>(MOVE_KINDS);
const STATES = new Set<string>(MIGRATION_STATES);
const ORIGINS = new Set<string>(MIGRATION_ORIGINS);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isIds = (v: unknown) => Array.isArray(v) && v.length <= 1024 && v.every(isStr);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);

/** A move as a member sent it: every field the dashboard and the CLI read, of the right type. */
export function isMigration(v: unknown): v is Migration {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  const epoch = m.epoch as Record<string, unknown> | undefined;
  return (
    isStr(m.id) &&
    isStr(m.wave) &&
    isStr(m.key) &&
    isInt(m.partition) &&
    KINDS.has(m.kind as string) &&
    STATES.has(m.state as string) &&
    ORIGINS.has(m.origin as string) &&
    isIds(m.from) &&
    isIds(m.to) &&
    isStr(m.reason) &&
    isInt(m.bytes) &&
    isInt(m.startedAt) &&
    optional(m.endedAt, isInt) &&
    optional(m.gainMs, (x) => typeof x === 'number' && Number.isFinite(x)) &&
    optional(m.checksum, isStr) &&
    optional(m.error, isStr) &&
    optional(
      epoch,
      () => typeof epoch === 'object' && isStr(epoch?.scope) && isInt(epoch?.number) && isStr(epoch?.hash),
    )
  );
}

/** A member's answer, checked; throws `PROTOCOL_ERROR` naming the part that is malformed. */
export function parseMigrationsAnswer(bytes: Uint8Array, limit: number): MigrationsView {
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(bytes));
  } catch {
    throw new ShoalError('PROTOCOL_ERROR', 'migrations answer is not JSON');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const { inFlight, history } = o;
  if (!Array.isArray(inFlight) || inFlight.length > MAX_IN_FLIGHT || !inFlight.every(isMigration))
    throw new ShoalError('PROTOCOL_ERROR', 'migrations answer: malformed inFlight');
  if (!Array.isArray(history) || history.length > limit || !history.every(isMigration))
    throw new ShoalError('PROTOCOL_ERROR', 'migrations answer: malformed history');
  return { inFlight, history };
}

/** One member's part of the union. */
export interface MemberMigrations {
  peerId: string;
  zone: string;
  view?: MigrationsView;
  error?: string;
}

const endOf = (m: Migration) => m.endedAt ?? m.startedAt;

/**
 * The union of the members' lists: every move tagged with its coordinator, in flight oldest first, the
 * ended ones most recent first and cut to `limit`; a move listed twice (it cannot be: a move's id holds
 * its wave's, and a wave has one coordinator) is kept once.
 */
export function mergeMigrations(parts: readonly MemberMigrations[], limit: number): ClusterMigrations {
  const seen = new Set<string>();
  const inFlight: ClusterMigration[] = [];
  const history: ClusterMigration[] = [];
  const daemons: MigrationSource[] = [];
  for (const p of parts) {
    const v = p.view;
    daemons.push({
      peerId: p.peerId,
      zone: p.zone,
      answered: v !== undefined,
      ...(p.error === undefined ? {} : { error: p.error }),
      inFlight: v?.inFlight.length ?? 0,
      history: v?.history.length ?? 0,
    });
    if (v === undefined) continue;
    for (const [list, into] of [
      [v.inFlight, inFlight],
      [v.history, history],
    ] as const)
      for (const m of list) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        into.push({ ...m, coordinator: p.peerId });
      }
  }
  inFlight.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  history.sort((a, b) => endOf(b) - endOf(a) || a.id.localeCompare(b.id));
  daemons.sort((a, b) => a.zone.localeCompare(b.zone) || a.peerId.localeCompare(b.peerId));
  return { inFlight, history: history.slice(0, limit), daemons };
}

/** The `cluster` source of the migrations route, over the daemon's net and DSM (either may still start). */
export function clusterMigrations(net: () => Net | undefined, dsm: () => Dsm | undefined) {
  return async ({ limit, signal }: { limit: number; signal: AbortSignal }): Promise<ClusterMigrations> => {
    const n = net();
    const d = dsm();
    if (n === undefined || d === undefined) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    const members = n.members();
    const req = enc.encode(JSON.stringify({ limit }));
    const parts = await Promise.all(
      members.map(async (m): Promise<MemberMigrations> => {
        const part = { peerId: m.peerId, zone: m.zone };
        if (m.self) {
          const own = d.migrations({ limit });
          return { ...part, view: { inFlight: own.inFlight, history: own.history.slice(0, limit) } };
        }
        // Listed, not asked: its moves are missing from the answer, and the page says so.
        if (m.status === 'down') return { ...part, error: 'down: not asked' };
        try {
          const bytes = await n.request(m.peerId, MIGRATIONS_PROTOCOL, req, { signal, timeoutMs: MEMBER_TIMEOUT_MS });
          return { ...part, view: parseMigrationsAnswer(bytes, limit) };
        } catch (err) {
          const e = err as ShoalError;
          return { ...part, error: e.code ? `${e.code}: ${e.message}` : String(e.message) };
        }
      }),
    );
    return mergeMigrations(parts, limit);
  };
}
