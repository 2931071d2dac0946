/**
 * Per-record placement overrides: the pure decisions. Nothing here does I/O or reads a clock; the
 * controller ({@link ./relocate.ts}) executes what these functions return, and the simulator or a
 * future sharding manager can call them as they are.
 *
 * - {@link checkPlacement}: is a requested holder list acceptable (known, non-leaving members, no
 *   duplicates, between 1 and the cluster size, at least R unless forced)?
 * - {@link effectiveReplicas}: the holders an override means under the current ring (a holder that
 *   left or is leaving is replaced by the partition's ring replicas, so the copy count is kept).
 * - {@link planMove}: one record's change of holders, as data; {@link planWave}: a wave of such moves
 *   grouped per partition (one partition epoch each), with the timeouts of its steps ({@link MOVE_STEPS}).
 * - the holder directory entry (`/shoal/holders/<key>` in the DHT): its codec and how a daemon
 *   compares it with the partition chain it holds ({@link compareWithChain}).
 *
 * @packageDocumentation
 */
import { decode, encode } from '@msgpack/msgpack';
import type { EpochChange, Scope } from '../layout/index.ts';
import { matchMemberId, nameCandidates } from '../net/member-id.ts';
import { added, type ReplicaChange, type RingMember, removed } from '../ring/index.ts';

/** Moved to the one placement resolver in src/ring; re-exported for this module's importers. */
export { effectiveReplicas, unionOf } from '../ring/index.ts';

/** Most holders of one record (the ring's own limit on R). */
export const MAX_HOLDERS = 64;

/** A placement the API refuses, with the catalogue code to answer with. */
export interface PlacementProblem {
  readonly code: 'INVALID_PLACEMENT' | 'PLACEMENT_UNDER_REPLICATED' | 'MEMBER_AMBIGUOUS';
  readonly message: string;
}

/** Input of {@link checkPlacement}. */
export interface PlacementCheck {
  /** Requested holders, first = primary. */
  readonly replicas: readonly unknown[];
  /** Ring members (up and leaving). */
  readonly members: readonly RingMember[];
  /** R of the cluster. */
  readonly replicationFactor: number;
  /** Accept fewer than R holders. */
  readonly force: boolean;
}

const invalid = (message: string): PlacementProblem => ({ code: 'INVALID_PLACEMENT', message });

/** Why `input.replicas` is not an acceptable placement, or undefined when it is. */
export function checkPlacement(input: PlacementCheck): PlacementProblem | undefined {
  const { replicas, members } = input;
  if (replicas.length === 0) return invalid('a placement needs at least one holder');
  if (replicas.length > MAX_HOLDERS) return invalid(`a placement has at most ${MAX_HOLDERS} holders`);
  const byId = new Map(members.map((m) => [m.id, m]));
  const seen = new Set<string>();
  for (const id of replicas) {
    if (typeof id !== 'string' || id.length === 0) return invalid('holders are peer ids (non-empty strings)');
    if (seen.has(id)) return invalid(`holder ${id} is listed twice`);
    seen.add(id);
    const m = byId.get(id);
    if (m === undefined) return invalid(`holder ${id} is not a member of the cluster`);
    if (m.state !== 'up') return invalid(`holder ${id} is leaving the cluster`);
  }
  const eligible = members.filter((m) => m.state === 'up').length;
  if (replicas.length > eligible) return invalid(`${replicas.length} holders but the cluster has ${eligible} members`);
  const floor = Math.min(input.replicationFactor, eligible);
  if (replicas.length < floor && !input.force) {
    return {
      code: 'PLACEMENT_UNDER_REPLICATED',
      message: `${replicas.length} holders is fewer than R = ${input.replicationFactor}; send force: true to accept it`,
    };
  }
  return undefined;
}

/**
 * The requested holders with short ids made whole: each may be a member's peer id or a unique prefix or
 * suffix of one (as the logs print them). An id that names no member, or several, is a problem naming
 * the candidates (INVALID_PLACEMENT, MEMBER_AMBIGUOUS); anything that is not a string is left for
 * {@link checkPlacement} to refuse.
 */
export function resolveHolders(
  replicas: readonly unknown[],
  members: readonly RingMember[],
): { replicas: string[] } | PlacementProblem {
  const ids = members.map((m) => m.id);
  const out: string[] = [];
  for (const r of replicas) {
    if (typeof r !== 'string' || r === '') return { replicas: replicas as string[] };
    const match = matchMemberId(ids, r);
    if (match.kind === 'one') out.push(match.id);
    else if (match.kind === 'ambiguous')
      return {
        code: 'MEMBER_AMBIGUOUS',
        message: `holder ${r} matches ${match.count} members: ${nameCandidates(match)}`,
      };
    else return invalid(`holder ${r} is not a member of the cluster; members: ${nameCandidates(match)}`);
  }
  return { replicas: out };
}

/** Timeouts (ms) of the steps of a wave; `copy` grows with the bytes a wave copies (see {@link planWave}). */
export interface MoveTimeouts {
  readonly announce: number;
  readonly copy: number;
  readonly commit: number;
  readonly distribute: number;
  readonly publish: number;
  readonly release: number;
}

export const DEFAULT_MOVE_TIMEOUTS: MoveTimeouts = {
  announce: 3000,
  copy: 30_000,
  commit: 10_000,
  distribute: 5000,
  publish: 5000,
  release: 5000,
};

/** Bytes per second a copy step is given at least, on top of its base timeout. */
const COPY_FLOOR_BYTES_PER_S = 4 * 1024 * 1024;

/** The steps of a wave, in order; the controller runs each for every move of the wave before the next. */
export type MoveStepKind = 'announce' | 'copy' | 'commit' | 'distribute' | 'catch-up' | 'publish' | 'release';

export const MOVE_STEPS: readonly MoveStepKind[] = [
  'announce',
  'copy',
  'commit',
  'distribute',
  'catch-up',
  'publish',
  'release',
];

/** What each step does (the controller, wave.ts, runs them). */
export const STEP_DOC: Readonly<Record<MoveStepKind, string>> = {
  announce:
    'tell every up member the records are moving (joint quorums of old and new holders); every new holder must acknowledge',
  copy: "merge a quorum of the old holders' copies onto every new holder, then collect each new holder's signed receipt",
  commit: 'sign one partition epoch per partition of the wave and append it here (the point of no return)',
  distribute: 'push the new epochs to every up member (best effort: the others pull them)',
  'catch-up': 'copy again, best effort: writes acknowledged by the old holders alone while the epochs spread',
  publish: 'put each changed partition chain head in the DHT holder directory',
  release: 'send each old holder its receipts; it drops its copy after the grace period if they cover it',
};

/** Input of {@link planMove}: one record, from where it is to where it should be. */
export interface MoveInput {
  readonly key: string;
  readonly partition: number;
  /** Where the key lives now (effective holders) and whether an override put it there. */
  readonly current: { readonly replicas: readonly string[]; readonly overridden: boolean };
  /** The partition's ring replicas (the destination of a return to the ring). */
  readonly ringReplicas: readonly string[];
  /** The requested holders, or null to drop the override and return to the ring. */
  readonly target: readonly string[] | null;
  readonly reason: string;
  /** Record size, when known (sizes the copy step's timeout). */
  readonly sizeBytes?: number;
}

/** One record's move, as data: a change to its replica set (`from` → `to`). */
export interface MovePlan extends ReplicaChange {
  readonly key: string;
  readonly partition: number;
  readonly scope: Scope;
  /** Holders that must receive a copy (`to` minus `from`). */
  readonly copyTo: readonly string[];
  /** Holders whose copy goes once the new holders' receipts and the epoch are in (`from` minus `to`). */
  readonly release: readonly string[];
  /** True when `to` is an override; false for a return to the ring. */
  readonly overridden: boolean;
  readonly reason: string;
  readonly sizeBytes: number;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The move from the current placement to `target`, or undefined when the placement would not change. */
export function planMove(input: MoveInput): MovePlan | undefined {
  const overridden = input.target !== null;
  const to = input.target ?? input.ringReplicas;
  if (overridden === input.current.overridden && same(to, input.current.replicas)) return undefined;
  if (!overridden && !input.current.overridden) return undefined;
  const from = input.current.replicas;
  return {
    key: input.key,
    partition: input.partition,
    scope: `partition:${input.partition}`,
    from,
    to,
    copyTo: added({ from, to }),
    release: removed({ from, to }),
    overridden,
    reason: input.reason,
    sizeBytes: input.sizeBytes ?? 0,
  };
}

/** Where a key lives now, as `ClusterRing.placementOf` answers (the fields a move starts from). */
export interface CurrentPlacement {
  readonly partition: number;
  readonly source: 'ring' | 'override';
  readonly replicas: readonly string[];
  readonly ringReplicas: readonly string[];
}

/** {@link planMove} from a key's current placement to `target` (null: back to the ring). */
export function planMoveFrom(
  key: string,
  current: CurrentPlacement,
  target: readonly string[] | null,
  reason: string,
  sizeBytes?: number,
): MovePlan | undefined {
  return planMove({
    key,
    partition: current.partition,
    current: { replicas: current.replicas, overridden: current.source === 'override' },
    ringReplicas: current.ringReplicas,
    target,
    reason,
    sizeBytes,
  });
}

/** The moves of one partition within a wave: they share one partition epoch. */
export interface PartitionGroup {
  readonly partition: number;
  readonly scope: Scope;
  readonly moves: readonly MovePlan[];
}

/** A wave: every move of one cycle (or one manual placement), grouped per partition. */
export interface WavePlan {
  readonly id: string;
  readonly moves: readonly MovePlan[];
  readonly groups: readonly PartitionGroup[];
  readonly timeouts: MoveTimeouts;
  /** How long members keep the announcement if the mover never finishes (every step's timeout, plus a margin). */
  readonly intentTtlMs: number;
}

/**
 * Groups moves into a wave: one group per partition (in partition order), at most one move per key
 * (a later duplicate is dropped: the planner never emits two). The copy timeout grows with the bytes
 * the wave copies, so a large wave is not failed by a timeout sized for one record.
 */
export function planWave(id: string, moves: readonly MovePlan[], timeouts: Partial<MoveTimeouts> = {}): WavePlan {
  const seen = new Set<string>();
  const byPartition = new Map<number, MovePlan[]>();
  let bytes = 0;
  for (const m of moves) {
    if (seen.has(m.key)) continue;
    seen.add(m.key);
    bytes += m.sizeBytes * m.copyTo.length;
    let group = byPartition.get(m.partition);
    if (group === undefined) {
      group = [];
      byPartition.set(m.partition, group);
    }
    group.push(m);
  }
  const groups = [...byPartition.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, ms]): PartitionGroup => ({ partition, scope: `partition:${partition}`, moves: ms }));
  const base = { ...DEFAULT_MOVE_TIMEOUTS, ...timeouts };
  const t: MoveTimeouts = { ...base, copy: base.copy + Math.ceil((bytes / COPY_FLOOR_BYTES_PER_S) * 1000) };
  const intentTtlMs = t.announce + 2 * t.copy + t.commit + t.distribute + t.publish + 30_000;
  return { id, moves: groups.flatMap((g) => g.moves), groups, timeouts: t, intentTtlMs };
}

/** The partition epoch's change for the moves of one group that reached the commit step. */
export function groupChange(moves: readonly MovePlan[], reason: string): EpochChange {
  const set = moves.filter((m) => m.overridden).map((m) => ({ key: m.key, replicas: [...m.to] }));
  const removed = moves.filter((m) => !m.overridden).map((m) => m.key);
  return {
    ...(set.length > 0 ? { overridesSet: set } : {}),
    ...(removed.length > 0 ? { overridesRemoved: removed } : {}),
    reason,
  };
}

/**
 * What `/shoal/holders/partition:<n>` in the DHT says: the head of partition n's chain (number and
 * hash of its newest epoch) and who published it. One entry per partition, not per record, so a wave
 * publishes one entry per partition it changed; a daemon that finds no copy of a key fetches the
 * chain the entry names, verifies it, and routes by it.
 */
export interface HolderEntry {
  readonly scope: Scope;
  readonly number: number;
  readonly hash: string;
  /** The peer that published it (it holds the chain; fetch from it first). */
  readonly publisher: string;
}

/** The DHT key of a partition's directory entry. */
export function holderDirectoryKey(scope: Scope): Uint8Array {
  return new TextEncoder().encode(`/shoal/holders/${scope}`);
}

export function encodeHolderEntry(e: HolderEntry): Uint8Array {
  return encode({ s: e.scope, n: e.number, h: e.hash, p: e.publisher });
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * Decodes and validates a directory value for partition chain `scope`; undefined when it is malformed
 * or names another chain (a forged or misconfigured entry could name any chain).
 */
export function decodeHolderEntry(bytes: Uint8Array, scope: Scope): HolderEntry | undefined {
  let v: unknown;
  try {
    v = decode(bytes);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const ok =
    o.s === scope &&
    Number.isSafeInteger(o.n) &&
    (o.n as number) >= 1 &&
    typeof o.h === 'string' &&
    HASH.test(o.h) &&
    typeof o.p === 'string' &&
    o.p.length > 0 &&
    o.p.length <= 200;
  if (!ok) return undefined;
  return { scope, number: o.n as number, hash: o.h as string, publisher: o.p as string };
}

/**
 * How a directory entry relates to the partition chain this daemon holds: `current` (the chain already
 * has that epoch), `behind` (fetch the chain from a holder, verified, before routing by it) or
 * `conflict` (the chain has a different epoch with that number: a fork, to be logged, never followed).
 */
export function compareWithChain(
  entry: HolderEntry,
  chain: { readonly number: number; hashAt(n: number): string | undefined },
): 'current' | 'behind' | 'conflict' {
  if (entry.number > chain.number) return 'behind';
  return chain.hashAt(entry.number) === entry.hash ? 'current' : 'conflict';
}
