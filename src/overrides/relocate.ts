import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import { mergeRecords } from '../crdt/merge.ts';
import { ShoalError } from '../errors/index.ts';
import type { Scope } from '../layout/index.ts';
import { type Net, RemoteError } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import { needed } from '../replication/coordinator.ts';
import {
  InvalidPlacementError,
  LayoutChangingError,
  MoveFailedError,
  PlacementUnderReplicatedError,
} from '../replication/errors.ts';
import { KeyedMutex } from '../replication/keyed-mutex.ts';
import type { ReplicaClient } from '../replication/replica-client.ts';
import type { StoredRecord } from '../store/index.ts';
import type { HolderDirectory } from './holder-directory.ts';
import { checkPlacement, type MovePlan, type MoveStep, type MoveTimeouts, planMove } from './plan.ts';
import type { OverrideSync } from './sync.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  OVERRIDES_PROTOCOL,
  type OverrideResponse,
  type PlaceRequest,
  type PlaceResult,
} from './wire.ts';

export interface RelocatorComponents {
  net: Net;
  ring: ClusterRing;
  sync: OverrideSync;
  directory: HolderDirectory;
  client: ReplicaClient;
  /** Signs partition epochs (the daemon's Ed25519 peer key). */
  peerKey: PrivateKey;
  logger: Logger;
}

export interface RelocatorOptions {
  timeouts?: Partial<MoveTimeouts>;
}

/** Deadline of a forwarded placement request: every step's default timeout and a margin. */
const FORWARD_TIMEOUT_MS = 120_000;
/** How long a placement request is retried while daemons disagree on the partition coordinator. */
const LAYOUT_SETTLE_MS = 15_000;

const within = (signal: AbortSignal | undefined, ms: number) =>
  AbortSignal.any([AbortSignal.timeout(ms), ...(signal ? [signal] : [])]);

/**
 * Executes placement changes of single records ({@link planMove} decides the steps; this runs them).
 *
 * **Who moves.** The coordinator of the key's partition: the ring primary in this daemon's layout at its
 * cluster head, the only peer whose signature the partition chain accepts. Any daemon takes the request,
 * checks it, and forwards it there (one hop; a daemon that receives a forwarded request but is not the
 * coordinator in its own layout answers NOT_READY, and the caller retries). The coordinator runs one move
 * per partition at a time, after catching its partition chain up with the members.
 *
 * **Steps** (each within its timeout): (1) announce the move to every up member: until the epoch arrives
 * they read and write the key on the old and the new holders together, needing a quorum of each, and the
 * new holders keep the copy they are about to receive; every new holder must acknowledge; (2) copy: merge
 * the old holders' copies (a quorum must answer) and store the result on every new holder (all must
 * acknowledge); (3) commit: sign the partition epoch (`overridesSet`, or `overridesRemoved` for a return
 * to the ring) and append it here; (4) distribute it to every up member (verified there; the others pull
 * it); (5) catch up: copy once more, for writes acknowledged by the old holders alone while the epoch
 * spread; (6) publish the holders in the DHT directory. A failure before (3) cancels the announcement and
 * changes nothing (MOVE_FAILED). The old holders drop their copy through the ordinary hand-off, which
 * streams it to every new holder and deletes it only once all of them acknowledged that very version, so
 * an acknowledged write is never lost, even one that raced the move.
 */
export class Relocator {
  readonly #c: RelocatorComponents;
  readonly #timeouts: Partial<MoveTimeouts>;
  readonly #mutex = new KeyedMutex();

  constructor(components: RelocatorComponents, options: RelocatorOptions = {}) {
    this.#c = components;
    this.#timeouts = options.timeouts ?? {};
  }

  /**
   * Places `req.key` on `req.replicas` (null: back to the ring), here or at the partition coordinator.
   * While the cluster layout changes (daemons disagree on the coordinator for a moment, until their
   * layout keepers catch up), the request is retried for up to {@link LAYOUT_SETTLE_MS}.
   */
  async place(req: PlaceRequest, opts: { signal?: AbortSignal; forwarded?: boolean } = {}): Promise<PlaceResult> {
    const deadline = Date.now() + LAYOUT_SETTLE_MS;
    for (;;) {
      try {
        return await this.#placeOnce(req, opts);
      } catch (err) {
        const changing = err instanceof LayoutChangingError || (err instanceof RemoteError && err.code === 'NOT_READY');
        if (opts.forwarded || !changing || Date.now() > deadline) throw err;
        this.#c.logger.debug({ err, key: req.key }, 'move: layout changing, retrying');
        await new Promise((r) => setTimeout(r, 500));
        opts.signal?.throwIfAborted();
      }
    }
  }

  async #placeOnce(req: PlaceRequest, opts: { signal?: AbortSignal; forwarded?: boolean }): Promise<PlaceResult> {
    const ring = this.#c.ring;
    if (req.replicas !== null) {
      const problem = checkPlacement({
        replicas: req.replicas,
        members: ring.ring.members,
        replicationFactor: ring.replicationFactor,
        force: req.force,
      });
      if (problem?.code === 'INVALID_PLACEMENT') throw new InvalidPlacementError(problem.message);
      if (problem !== undefined) throw new PlacementUnderReplicatedError(problem.message);
    }
    const partition = ring.ring.partitionOf(req.key);
    const coordinator = this.#c.sync.layout().ring().primaryOf(partition);
    if (coordinator === undefined) throw new LayoutChangingError('the cluster layout has no members yet; retry');
    if (coordinator === ring.self) {
      const scope: Scope = `partition:${partition}`;
      return this.#mutex.run(scope, () => this.#placeHere(req, partition, opts.signal));
    }
    if (opts.forwarded) {
      throw new LayoutChangingError(
        `partition ${partition} is coordinated by ${coordinator} here, not by this daemon; retry`,
      );
    }
    return this.#forward(coordinator, req, opts.signal);
  }

  async #forward(coordinator: string, req: PlaceRequest, signal?: AbortSignal): Promise<PlaceResult> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#c.net.request(
        coordinator,
        OVERRIDES_PROTOCOL,
        encodeOverrideMessage({ t: 'place', k: req.key, r: req.replicas, why: req.reason, force: req.force }),
        { signal, timeoutMs: FORWARD_TIMEOUT_MS },
      );
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      throw new MoveFailedError(`partition coordinator ${coordinator} is unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return decodeOverrideMessage<Extract<OverrideResponse, { t: 'place' }>>(bytes, coordinator).res;
  }

  async #placeHere(req: PlaceRequest, partition: number, signal?: AbortSignal): Promise<PlaceResult> {
    const ring = this.#c.ring;
    const scope: Scope = `partition:${partition}`;
    await this.#c.sync.catchUp(scope, signal).catch((err: unknown) => {
      this.#c.logger.info({ err, scope }, 'move: could not catch the partition chain up; proposing on what is held');
    });
    const current = ring.placementOf(req.key);
    const plan = planMove({
      key: req.key,
      partition,
      current: { replicas: current.replicas, overridden: current.source === 'override' },
      ringReplicas: current.ringReplicas,
      target: req.replicas,
      reason: req.reason,
      timeouts: this.#timeouts,
    });
    const base = { key: req.key, partition, coordinator: ring.self };
    if (plan === undefined) {
      const o = current.override;
      const epoch = o && { scope: o.scope, number: o.number, hash: o.hash };
      return {
        ...base,
        changed: false,
        source: current.source,
        replicas: [...current.replicas],
        previous: [...current.replicas],
        epoch,
      };
    }
    this.#c.logger.info({ key: req.key, from: plan.from, to: plan.to, reason: req.reason }, 'move: starting');
    const result: PlaceResult = {
      ...base,
      changed: true,
      source: plan.overridden ? 'override' : 'ring',
      replicas: [...plan.to],
      previous: [...plan.from],
    };
    let committed = false;
    try {
      for (const step of plan.steps) {
        await this.#run(step, plan, result, within(signal, step.timeoutMs));
        if (step.kind === 'commit') committed = true;
      }
    } catch (err) {
      if (committed) throw err;
      await this.#cancel(plan);
      if (err instanceof ShoalError && err.code !== 'ABORTED' && err.code !== 'TIMEOUT') throw err;
      throw new MoveFailedError(`move of ${JSON.stringify(req.key)} failed: ${(err as Error).message}`, { cause: err });
    }
    this.#c.logger.info({ key: req.key, epoch: result.epoch, to: plan.to }, 'move: done');
    return result;
  }

  async #run(step: MoveStep, plan: MovePlan, result: PlaceResult, signal: AbortSignal): Promise<void> {
    const c = this.#c;
    switch (step.kind) {
      case 'announce': {
        const expiresAt = Date.now() + plan.intentTtlMs;
        c.ring.overrides.announce({ key: plan.key, from: plan.from, to: plan.to, expiresAt });
        const acked = await this.#tell(plan, plan.intentTtlMs, signal);
        const missing = step.required.filter((p) => p !== c.ring.self && !acked.includes(p));
        if (missing.length > 0)
          throw new MoveFailedError(`new holders did not acknowledge the move: ${missing.join(', ')}`);
        return;
      }
      case 'copy':
        await this.#copy(plan.key, step.from, step.to, signal);
        return;
      case 'commit': {
        const layout = c.sync.layout();
        const epoch = await layout.propose(step.scope, step.change, c.peerKey, { signal });
        await c.sync.apply(step.scope, [epoch], undefined, signal);
        const hash = layout.chain(step.scope).hashAt(epoch.number)!;
        result.epoch = { scope: step.scope, number: epoch.number, hash };
        return;
      }
      case 'distribute': {
        const peers = c.ring.upPeers();
        const acked = await c.sync.push(step.scope, result.epoch!.number, peers, signal);
        result.distributed = { acked: acked.length, of: peers.length };
        return;
      }
      case 'catch-up':
        await this.#copy(plan.key, step.from, step.to, signal).catch((err: unknown) => {
          c.logger.warn({ err, key: plan.key }, 'move: catch-up copy failed (hand-off will carry late writes)');
        });
        return;
      case 'publish': {
        const e = result.epoch!;
        const entry = {
          key: plan.key,
          scope: e.scope,
          number: e.number,
          hash: e.hash,
          replicas: plan.to,
          overridden: plan.overridden,
        };
        result.published = await c.directory.publish(entry, signal).catch((err: unknown) => {
          c.logger.info({ err, key: plan.key }, 'move: DHT directory publish failed (re-published later)');
          return 0;
        });
        return;
      }
    }
  }

  /** Announces (or with ttl 0 cancels) the move to every up member; resolves to those that acknowledged. */
  async #tell(plan: MovePlan, ttl: number, signal: AbortSignal): Promise<string[]> {
    const msg = encodeOverrideMessage({ t: 'intent', k: plan.key, f: [...plan.from], to: [...plan.to], ttl });
    const peers = this.#c.ring.upPeers();
    const answers = await Promise.all(
      peers.map((peer) =>
        this.#c.net.request(peer, OVERRIDES_PROTOCOL, msg, { signal }).then(
          () => peer,
          (err: unknown) => {
            this.#c.logger.debug({ err, peer, key: plan.key }, 'move: announcement not acknowledged');
            return undefined;
          },
        ),
      ),
    );
    return answers.filter((p): p is string => p !== undefined);
  }

  async #cancel(plan: MovePlan): Promise<void> {
    this.#c.ring.overrides.settle(plan.key);
    await this.#tell(plan, 0, AbortSignal.timeout(3000)).catch(() => []);
  }

  /** Merges the copies of a quorum of `from` and stores the result on every member of `to`. */
  async #copy(key: string, from: readonly string[], to: readonly string[], signal: AbortSignal): Promise<void> {
    const client = this.#c.client;
    const copies = await Promise.all(
      from.map((peer) =>
        client.get(peer, key, signal).then(
          (record): { ok: true; record: StoredRecord | undefined } => ({ ok: true, record }),
          () => ({ ok: false as const, record: undefined }),
        ),
      ),
    );
    const answered = copies.filter((c) => c.ok);
    const need = needed('quorum', from.length);
    if (answered.length < need) {
      throw new MoveFailedError(`only ${answered.length} of ${from.length} old holders answered (${need} needed)`);
    }
    const merged = mergeRecords(answered.map((c) => c.record));
    if (merged === undefined) return;
    const stored = await Promise.all(
      to.map((peer) =>
        client.put(peer, key, merged, signal).then(
          () => undefined,
          (err: unknown) => `${peer} (${(err as Error).message})`,
        ),
      ),
    );
    const failed = stored.filter((s): s is string => s !== undefined);
    if (failed.length > 0) throw new MoveFailedError(`new holders did not store the record: ${failed.join(', ')}`);
  }
}
