/**
 * Per-record placement overrides: the pure decisions. Nothing here does I/O or reads a clock; the
 * controller ({@link ./relocate.ts}) executes what these functions return, and the simulator or a
 * future sharding manager can call them as they are.
 *
 * - {@link checkPlacement}: is a requested holder list acceptable (known, non-leaving members, no
 *   duplicates, between 1 and the cluster size, at least R unless forced)?
 * - {@link effectiveReplicas}: the holders an override means under the current ring (a holder that
 *   left or is leaving is replaced by the partition's ring replicas, so the copy count is kept).
 * - {@link planMove}: the steps of one move, as data (announce, copy, commit, distribute, catch-up,
 *   publish), each with its timeout.
 * - the holder directory entry (`/shoal/holders/<key>` in the DHT): its codec and how a daemon
 *   compares it with the partition chain it holds ({@link compareWithChain}).
 *
 * @packageDocumentation
 */
import { decode, encode } from '@msgpack/msgpack';
import type { EpochChange, Scope } from '../layout/index.ts';
import type { RingMember } from '../ring/index.ts';

/** Moved to the one placement resolver in src/ring; re-exported for this module's importers. */
export { effectiveReplicas, unionOf } from '../ring/index.ts';

/** Most holders of one record (the ring's own limit on R). */
export const MAX_HOLDERS = 64;

/** A placement the API refuses, with the catalogue code to answer with. */
export interface PlacementProblem {
  readonly code: 'INVALID_PLACEMENT' | 'PLACEMENT_UNDER_REPLICATED';
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

/** Timeouts (ms) of the steps of a move. */
export interface MoveTimeouts {
  readonly announce: number;
  readonly copy: number;
  readonly commit: number;
  readonly distribute: number;
  readonly publish: number;
}

export const DEFAULT_MOVE_TIMEOUTS: MoveTimeouts = {
  announce: 3000,
  copy: 30_000,
  commit: 10_000,
  distribute: 5000,
  publish: 5000,
};

/** One step of a move; the controller runs them in order, each within `timeoutMs`. */
export type MoveStep =
  /** Tell every up member the key is moving (joint quorums, no hand-off of the copy); `required` must acknowledge. */
  | { readonly kind: 'announce'; readonly required: readonly string[]; readonly timeoutMs: number }
  /** Merge the copies of `from` (a quorum must answer) and store the result on every one of `to`. */
  | {
      readonly kind: 'copy';
      readonly from: readonly string[];
      readonly to: readonly string[];
      readonly timeoutMs: number;
    }
  /** Sign the partition epoch and append it here (the point of no return). */
  | { readonly kind: 'commit'; readonly scope: Scope; readonly change: EpochChange; readonly timeoutMs: number }
  /** Push the new epoch to every up member (best effort: the others pull it). */
  | { readonly kind: 'distribute'; readonly scope: Scope; readonly timeoutMs: number }
  /** Copy again, best effort: writes acknowledged by the old holders alone while the epoch spread. */
  | {
      readonly kind: 'catch-up';
      readonly from: readonly string[];
      readonly to: readonly string[];
      readonly timeoutMs: number;
    }
  /** Put the holder entry in the DHT directory. */
  | { readonly kind: 'publish'; readonly timeoutMs: number };

/** Input of {@link planMove}. */
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
  readonly timeouts?: Partial<MoveTimeouts>;
}

/** What a move does, as data. */
export interface MovePlan {
  readonly key: string;
  readonly partition: number;
  readonly scope: Scope;
  /** Holders before. */
  readonly from: readonly string[];
  /** Holders after. */
  readonly to: readonly string[];
  /** Holders that must receive a copy (`to` minus `from`). */
  readonly copyTo: readonly string[];
  /** Holders whose copy goes once they know the epoch (`from` minus `to`; hand-off drops it). */
  readonly release: readonly string[];
  /** True when `to` is an override; false for a return to the ring. */
  readonly overridden: boolean;
  readonly steps: readonly MoveStep[];
  /** How long members keep the announcement if the mover never finishes (every step's timeout, plus a margin). */
  readonly intentTtlMs: number;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The move from the current placement to `target`, or undefined when the placement would not change. */
export function planMove(input: MoveInput): MovePlan | undefined {
  const t = { ...DEFAULT_MOVE_TIMEOUTS, ...input.timeouts };
  const overridden = input.target !== null;
  const to = input.target ?? input.ringReplicas;
  if (overridden === input.current.overridden && same(to, input.current.replicas)) return undefined;
  if (!overridden && !input.current.overridden) return undefined;
  const from = input.current.replicas;
  const copyTo = to.filter((id) => !from.includes(id));
  const release = from.filter((id) => !to.includes(id));
  const scope: Scope = `partition:${input.partition}`;
  const change: EpochChange = overridden
    ? { overridesSet: [{ key: input.key, replicas: [...to] }], reason: input.reason }
    : { overridesRemoved: [input.key], reason: input.reason };
  const steps: MoveStep[] = [{ kind: 'announce', required: copyTo, timeoutMs: t.announce }];
  if (copyTo.length > 0) steps.push({ kind: 'copy', from, to: copyTo, timeoutMs: t.copy });
  steps.push({ kind: 'commit', scope, change, timeoutMs: t.commit });
  steps.push({ kind: 'distribute', scope, timeoutMs: t.distribute });
  if (copyTo.length > 0) steps.push({ kind: 'catch-up', from, to: copyTo, timeoutMs: t.copy });
  steps.push({ kind: 'publish', timeoutMs: t.publish });
  const intentTtlMs = steps.reduce((sum, s) => sum + s.timeoutMs, 0) + 30_000;
  return {
    key: input.key,
    partition: input.partition,
    scope,
    from,
    to,
    copyTo,
    release,
    overridden,
    steps,
    intentTtlMs,
  };
}

/** What `/shoal/holders/<key>` in the DHT says: the epoch that placed the key last, and its holders. */
export interface HolderEntry {
  readonly key: string;
  /** The partition chain of the key. */
  readonly scope: Scope;
  /** Number and hash of the epoch that set (or removed) the override. */
  readonly number: number;
  readonly hash: string;
  /** Holders from that epoch on (the ring replicas, as the publisher saw them, after a removal). */
  readonly replicas: readonly string[];
  /** False when the epoch returned the key to the ring. */
  readonly overridden: boolean;
}

/** The DHT key of a record's holder entry. */
export function holderDirectoryKey(key: string): Uint8Array {
  return new TextEncoder().encode(`/shoal/holders/${key}`);
}

export function encodeHolderEntry(e: HolderEntry): Uint8Array {
  return encode({ k: e.key, s: e.scope, n: e.number, h: e.hash, r: e.replicas, o: e.overridden });
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * Decodes and validates a directory value for `key` in partition chain `scope`; undefined when it is
 * malformed or names another key or chain (a forged or misconfigured entry could name any chain).
 */
export function decodeHolderEntry(bytes: Uint8Array, key: string, scope: Scope): HolderEntry | undefined {
  let v: unknown;
  try {
    v = decode(bytes);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const ok =
    o.k === key &&
    o.s === scope &&
    Number.isSafeInteger(o.n) &&
    (o.n as number) >= 1 &&
    typeof o.h === 'string' &&
    HASH.test(o.h) &&
    Array.isArray(o.r) &&
    o.r.length <= MAX_HOLDERS &&
    o.r.every((id) => typeof id === 'string' && id.length > 0) &&
    typeof o.o === 'boolean';
  if (!ok) return undefined;
  return {
    key,
    scope: o.s as Scope,
    number: o.n as number,
    hash: o.h as string,
    replicas: o.r as string[],
    overridden: o.o as boolean,
  };
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
