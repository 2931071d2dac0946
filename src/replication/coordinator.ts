import type { Logger } from 'pino';
import { mergeRecords, recordsEqual } from '../crdt/merge.ts';
import { throwIfAborted } from '../errors/index.ts';
import type { RecordMeta, StoredRecord } from '../store/index.ts';
import { buildRecord, checkConditions, isLive, liveView } from './build.ts';
import type { ClusterRing } from './cluster-ring.ts';
import type {
  BatchRequestOp,
  BatchResultOp,
  Consistency,
  ImmediateRead,
  ListOptions,
  ListPage,
  RecordEngine,
  RecordView,
  ReplicaCopy,
  RequestContext,
  WriteConditions,
  WriteInput,
  WriteResult,
} from './engine.ts';
import { QuorumNotReachedError, ReplicasUnavailableError } from './errors.ts';
import type { HintQueue } from './hints.ts';
import { listAcrossCluster } from './list.ts';
import type { LocalEngine } from './local-engine.ts';
import type { ReplicationObserver } from './observer.ts';
import { groupsNeed, type Need, type QuorumOutcome, quorumCall, satisfies, staggeredQuorumCall } from './quorum.ts';
import type { ReplicaClient } from './replica-client.ts';

export interface CoordinatorComponents {
  local: LocalEngine;
  ring: ClusterRing;
  client: ReplicaClient;
  hints: HintQueue;
  logger: Logger;
  observer?: ReplicationObserver;
}

/** Longest wait for a replica asked first before the next one is asked too (a read's speculative retry). */
const MAX_HEDGE_MS = 100;

/** Replicas that must answer for a level, out of `n`. */
export function needed(level: Consistency, n: number): number {
  if (level === 'one') return 1;
  if (level === 'all') return n;
  return Math.floor(n / 2) + 1;
}

/**
 * Coordinates every request over the key's replicas (any daemon can coordinate any key).
 * - writes: a fresh HLC version, sent to all replicas, acknowledged after `needed()` of them stored
 *   it; a replica that failed gets a hint.
 * - reads: `needed()` replicas are asked, nearest first (another one when one fails or is slow), their
 *   copies are merged through the CRDT rules, and the stale ones among them are repaired in the
 *   background (read repair); during a move every holder is asked (a joint quorum).
 * - `linearizable` (ABD, Attiya-Bar-Noy-Dolev): a read takes a majority's copies, and writes the
 *   merged one back to a majority before answering, so no later read can return anything older; a
 *   write first reads a majority, observes its versions so the new HLC version is greater, then
 *   writes to a majority. Single-key only.
 */
export class Coordinator implements RecordEngine {
  readonly #c: CoordinatorComponents;

  constructor(components: CoordinatorComponents) {
    this.#c = components;
  }

  /**
   * The key's holders (ring, override, or during a move the old and new ones together) and how many must
   * answer: `needed()` of them, or during a move `needed()` of the old AND of the new holders (a joint
   * quorum, so a read sees every write acknowledged before, whichever side of the move it was routed by).
   */
  #targets(key: string, level: Consistency): { replicas: readonly string[]; need: Need } {
    const replicas = this.#c.ring.replicasOf(key);
    if (replicas.length === 0) throw new ReplicasUnavailableError('the ring has no members');
    const groups = this.#c.ring.quorumGroupsOf(key);
    if (groups === undefined) return { replicas, need: needed(level, replicas.length) };
    return { replicas, need: groupsNeed(groups.map((members) => ({ members, need: needed(level, members.length) }))) };
  }

  /** Only this daemon's copy is needed (level one, or it is the only holder): no fan-out. */
  #selfSuffices(replicas: readonly string[], level: Consistency): boolean {
    return (level === 'one' || replicas.length === 1) && replicas.includes(this.#c.client.self);
  }

  /**
   * This daemon's copy alone answers `key` at `level`, and no move is in flight (a move needs a joint
   * quorum). Writes ask at level 'all': they go to every holder whatever the level, so only a sole holder qualifies.
   */
  #answersAlone(key: string, level: Consistency): boolean {
    return this.#c.ring.quorumGroupsOf(key) === undefined && this.#selfSuffices(this.#c.ring.replicasOf(key), level);
  }

  /** Reads `need` copies and merges them; repairs stale replicas (synchronously for linearizable). */
  async #read(key: string, level: Consistency, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    throwIfAborted(signal);
    const { replicas, need } = this.#targets(key, level);
    if (typeof need === 'number' && this.#selfSuffices(replicas, level)) return this.#c.local.getRaw(key, { signal });
    const available = replicas.filter((r) => this.#c.ring.isAvailable(r));
    if (!satisfies(need, available)) throw this.#refused(key, level, available.length, need, replicas.length);
    const read = (peer: string) => this.#c.client.get(peer, key, signal);
    const { reached, settled } =
      typeof need === 'number' && need < available.length
        ? this.#nearestFirst(available, need, read)
        : quorumCall(available, need, read);
    const outcome = await reached.catch((o: QuorumOutcome<StoredRecord | undefined>) => {
      throw this.#timedOut(key, level, o.ok.length, need, replicas.length, 'read');
    });
    const merged = mergeRecords(outcome.ok.map((o) => o.value));
    if (merged) this.#c.local.clock.observe(merged.meta.version);
    if (merged && level === 'linearizable') await this.#repair(key, merged, outcome, signal);
    settled.then((all) => (merged ? this.#repair(key, merged, all) : undefined)).catch(() => {});
    return merged;
  }

  /**
   * Reads `need` of `available`, nearest first: this daemon's own copy, then the others by the
   * failure detector's smoothed RTT; the next one is asked when one fails or is slower than twice
   * the RTT of those asked (+2 ms). The copies not read are kept in step by anti-entropy and hints.
   */
  #nearestFirst<T>(available: readonly string[], need: number, read: (peer: string) => Promise<T>) {
    const self = this.#c.client.self;
    const rtt = (p: string) => (p === self ? -1 : (this.#c.ring.rttOf(p) ?? Number.POSITIVE_INFINITY));
    const order = [...available].sort((a, b) => rtt(a) - rtt(b));
    const slowest = Math.max(0, ...order.slice(0, need).map(rtt));
    const hedgeMs = Math.min(MAX_HEDGE_MS, 2 + 2 * (Number.isFinite(slowest) ? slowest : MAX_HEDGE_MS));
    return staggeredQuorumCall(order, need, hedgeMs, read, () => this.#c.observer?.readRetried());
  }

  /** Writes `merged` to every replica that answered with something else. */
  async #repair(
    key: string,
    merged: StoredRecord,
    outcome: QuorumOutcome<StoredRecord | undefined>,
    signal?: AbortSignal,
  ): Promise<void> {
    const stale = outcome.ok.filter((o) => !o.value || !recordsEqual(o.value, merged));
    await Promise.all(stale.map((o) => this.#c.client.put(o.target, key, merged, signal)));
  }

  /** Sends `record` to the replicas; resolves once `needed()` stored it, with whether any held a live copy before. */
  async #write(key: string, record: StoredRecord, level: Consistency, signal?: AbortSignal): Promise<boolean> {
    const { replicas, need } = this.#targets(key, level);
    const available = replicas.filter((r) => this.#c.ring.isAvailable(r));
    // Refused before anything is sent or queued: a write refused for too few replicas up never takes effect
    // (Cassandra's Unavailable). Hints are kept only for a write that is attempted.
    if (!satisfies(need, available)) throw this.#refused(key, level, available.length, need, replicas.length);
    for (const down of replicas.filter((r) => !available.includes(r))) await this.#c.hints.add(down, key, record);
    const { reached, settled } = quorumCall(available, need, (peer) => this.#c.client.put(peer, key, record, signal));
    settled
      .then(async (all) => {
        for (const f of all.failed) await this.#c.hints.add(f.target, key, record);
      })
      .catch((err: unknown) => this.#c.logger.warn({ err, key }, 'storing hints failed'));
    const acked = await reached.catch((o: QuorumOutcome<{ version: string; existed: boolean }>) => {
      throw this.#timedOut(key, level, o.ok.length, need, replicas.length, 'write');
    });
    return acked.ok.some((o) => o.value.existed);
  }

  /** Too few replicas up to try (the failure detector's view): nothing was sent, a write was stored nowhere. */
  #refused(key: string, level: Consistency, up: number, need: Need, n: number): Error {
    const wanted = typeof need === 'number' ? need : 'a quorum of the old and of the new holders';
    this.#c.observer?.quorumFailed('unavailable');
    return new ReplicasUnavailableError(
      `${JSON.stringify(key)} at consistency ${level}: ${up} of ${n} replicas up, ${wanted} needed; not attempted, nothing stored`,
    );
  }

  /** Attempted, but too few replicas answered in time: a write may have been stored on some and may still appear. */
  #timedOut(key: string, level: Consistency, got: number, need: Need, n: number, op: 'read' | 'write'): Error {
    const wanted = typeof need === 'number' ? need : 'a quorum of the old and of the new holders';
    this.#c.observer?.quorumFailed('not_reached');
    const outcome = op === 'write' ? 'the write may have been stored on some replicas and may still appear' : 'retry';
    return new QuorumNotReachedError(
      `quorum not reached for ${JSON.stringify(key)} at consistency ${level}: ${got} of ${n} replicas answered, ${wanted} needed; ${outcome}`,
    );
  }

  getNow(key: string, consistency: Consistency = 'quorum'): ImmediateRead | undefined {
    if (!this.#c.local.readsSync) return undefined;
    if (!this.#answersAlone(key, consistency)) return undefined;
    const rec = this.#c.local.getRawSync(key);
    // No copy at all: the asynchronous path asks the holder directory (the key may have moved).
    if (rec === undefined) return undefined;
    return { record: liveView(key, rec) };
  }

  async get(key: string, ctx: RequestContext = {}): Promise<RecordView | undefined> {
    const level = ctx.consistency ?? 'quorum';
    let rec = await this.#read(key, level, ctx.signal);
    // No holder has any copy (not even a tombstone): the key may live where this daemon does not know
    // yet (an override it missed). The directory look-up is cached, so a missing key costs it rarely.
    if (rec === undefined && (await this.#c.ring.resolveMiss(key, ctx.signal))) {
      rec = await this.#read(key, level, ctx.signal);
    }
    return liveView(key, rec);
  }

  async put(
    key: string,
    input: WriteInput,
    conditions?: WriteConditions,
    ctx: RequestContext = {},
  ): Promise<WriteResult> {
    // The local engine's read-check-write under its key lock is the same write, with no quorum round.
    if (this.#answersAlone(key, 'all')) return this.#c.local.put(key, input, conditions, ctx);
    const level = ctx.consistency ?? 'quorum';
    // Doc edits, conditions and linearizable writes build on the current copy; blind blob writes do not.
    const needsCurrent = input.kind === 'doc' || conditions !== undefined || level === 'linearizable';
    const current = needsCurrent ? await this.#read(key, level === 'one' ? 'one' : 'quorum', ctx.signal) : undefined;
    checkConditions(key, current, conditions);
    const record = buildRecord(current, input, await this.#c.local.version(), Date.now());
    const existed = await this.#write(key, record, level, ctx.signal);
    return { key, meta: record.meta, created: needsCurrent ? !isLive(current) : !existed };
  }

  async delete(key: string, conditions?: WriteConditions, ctx: RequestContext = {}): Promise<RecordMeta | undefined> {
    if (this.#answersAlone(key, 'all')) return this.#c.local.delete(key, conditions, ctx);
    const level = ctx.consistency ?? 'quorum';
    const current = await this.#read(key, level === 'one' ? 'one' : 'quorum', ctx.signal);
    checkConditions(key, current, conditions);
    if (!isLive(current)) return undefined;
    const tombstone = buildRecord(current, undefined, await this.#c.local.version(), Date.now());
    await this.#write(key, tombstone, level, ctx.signal);
    return tombstone.meta;
  }

  async inspect(key: string, ctx: RequestContext = {}): Promise<ReplicaCopy[]> {
    const replicas = this.#c.ring.replicasOf(key);
    const copies = await Promise.all(
      replicas.map(async (peerId) => {
        try {
          return { peerId, record: await this.#c.client.get(peerId, key, ctx.signal) };
        } catch (err) {
          return { peerId, error: (err as Error).message };
        }
      }),
    );
    const merged = mergeRecords(copies.map((c) => ('record' in c ? c.record : undefined)));
    return copies.map((c) => {
      if (!('record' in c)) return { peerId: c.peerId, agrees: false, error: c.error };
      const agrees =
        c.record === undefined ? merged === undefined : merged !== undefined && recordsEqual(c.record, merged);
      return { peerId: c.peerId, version: c.record?.meta.version, tombstone: c.record?.meta.tombstone, agrees };
    });
  }

  list(options: ListOptions): Promise<ListPage> {
    return listAcrossCluster(this.#c, options);
  }

  /** Each operation is coordinated on its own: a cluster batch is not atomic across keys. */
  async batch(ops: BatchRequestOp[], ctx: RequestContext = {}): Promise<BatchResultOp[]> {
    return Promise.all(
      ops.map(async (op): Promise<BatchResultOp> => {
        if (op.op === 'get') return { op: 'get', key: op.key, record: await this.get(op.key, ctx) };
        if (op.op === 'put')
          return { op: 'put', key: op.key, meta: (await this.put(op.key, op.input, undefined, ctx)).meta };
        return { op: 'delete', key: op.key, deleted: (await this.delete(op.key, undefined, ctx)) !== undefined };
      }),
    );
  }
}
