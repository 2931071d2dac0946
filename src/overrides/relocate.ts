import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ShoalError } from '../errors/index.ts';
import type { Scope } from '../layout/index.ts';
import { type Net, RemoteError } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import {
  InvalidPlacementError,
  LayoutChangingError,
  MoveFailedError,
  PlacementUnderReplicatedError,
} from '../replication/errors.ts';
import { KeyedMutex } from '../replication/keyed-mutex.ts';
import {
  checkPlacement,
  type MoveTimeouts,
  type PlacementProblem,
  planMoveFrom,
  planWave,
  resolveHolders,
} from './plan.ts';
import type { OverrideSync } from './sync.ts';
import type { WaveRunner } from './wave.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  OVERRIDES_PROTOCOL,
  type OverrideResponse,
  type PlaceManyResult,
  type PlaceRequest,
  type PlaceResult,
} from './wire.ts';

export interface RelocatorComponents {
  net: Net;
  ring: ClusterRing;
  sync: OverrideSync;
  /** Executes the move as a wave of one (the same path as the DSM's waves). */
  waves: WaveRunner;
  logger: Logger;
  /** Whether a live copy of a key exists (see OverrideServiceComponents.exists). */
  exists?: (key: string, signal?: AbortSignal) => Promise<boolean | undefined>;
}

export interface RelocatorOptions {
  timeouts?: Partial<MoveTimeouts>;
}

/** Deadline of a forwarded placement request: every step's default timeout and a margin. */
const FORWARD_TIMEOUT_MS = 120_000;
/** How long a placement request is retried while daemons disagree on the partition coordinator. */
const LAYOUT_SETTLE_MS = 15_000;

/**
 * Places single records on chosen holders (`POST|DELETE /admin/records/:key/placement`): it checks the
 * request, finds the partition's coordinator, and there runs the move as a wave of one through the
 * {@link WaveRunner} (the same steps, receipts and recovery as the DSM's waves; see wave.ts).
 *
 * **Who moves.** The coordinator of the key's partition: the ring primary in this daemon's layout at its
 * cluster head, the only peer whose signature the partition chain accepts. Any daemon takes the request,
 * checks it, and forwards it there (one hop; a daemon that receives a forwarded request but is not the
 * coordinator in its own layout answers NOT_READY, and the caller retries). The coordinator catches the
 * partition chain up with the members first. A move that fails before its epoch commits changes
 * nothing (MOVE_FAILED).
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
    if (!opts.forwarded && req.replicas !== null) {
      const ring = this.#c.ring;
      const resolved = resolveHolders(req.replicas, ring.ring.members);
      if (!('replicas' in resolved)) throw placementError(resolved);
      req = { ...req, replicas: resolved.replicas };
      const problem = checkPlacement({
        replicas: resolved.replicas,
        members: ring.ring.members,
        replicationFactor: ring.replicationFactor,
        force: req.force,
      });
      if (problem !== undefined) throw placementError(problem);
      if (req.allowMissing !== true && (await this.#c.exists?.(req.key, opts.signal)) === false)
        throw new ShoalError(
          'NOT_FOUND',
          `no record ${req.key} to place; allow a missing record to place it before its first write`,
        );
    }
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
      if (problem !== undefined) throw placementError(problem);
    }
    const partition = ring.ring.partitionOf(req.key);
    const coordinator = this.#c.sync.layout().coordinatorOf(partition);
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

  /**
   * Places many records at once: each coordinator runs its share as ONE wave (one partition epoch per
   * partition, batched copies), this daemon's share here and each other coordinator's forwarded to it in
   * one message. Each record gets its own result: a refused or failed record does not fail the others.
   */
  async placeMany(
    reqs: readonly PlaceRequest[],
    opts: { signal?: AbortSignal; forwarded?: boolean } = {},
  ): Promise<PlaceManyResult[]> {
    const ring = this.#c.ring;
    const layout = this.#c.sync.layout();
    const out = new Map<string, PlaceManyResult>();
    const byCoordinator = new Map<string, PlaceRequest[]>();
    for (const asked of reqs) {
      const resolved =
        asked.replicas === null || opts.forwarded ? asked : resolveHolders(asked.replicas, ring.ring.members);
      if (!('replicas' in resolved)) {
        out.set(asked.key, { key: asked.key, changed: false, error: resolved });
        continue;
      }
      const req = { ...asked, replicas: resolved.replicas };
      const problem =
        req.replicas === null
          ? undefined
          : checkPlacement({
              replicas: req.replicas,
              members: ring.ring.members,
              replicationFactor: ring.replicationFactor,
              force: req.force,
            });
      const coordinator = layout.coordinatorOf(ring.ring.partitionOf(req.key));
      if (problem !== undefined) out.set(req.key, { key: req.key, changed: false, error: problem });
      else if (coordinator === undefined || (opts.forwarded && coordinator !== ring.self)) {
        out.set(req.key, {
          key: req.key,
          changed: false,
          error: { code: 'NOT_READY', message: 'this daemon does not coordinate the partition now; retry' },
        });
      } else {
        const list = byCoordinator.get(coordinator) ?? [];
        if (list.length === 0) byCoordinator.set(coordinator, list);
        list.push(req);
      }
    }
    await Promise.all(
      [...byCoordinator].map(async ([coordinator, group]) => {
        const results =
          coordinator === ring.self
            ? await this.#placeManyHere(group, opts.signal)
            : await this.#forwardMany(coordinator, group, opts.signal);
        for (const r of results) out.set(r.key, r);
      }),
    );
    return reqs.map((r) => out.get(r.key)!);
  }

  async #forwardMany(coordinator: string, reqs: PlaceRequest[], signal?: AbortSignal): Promise<PlaceManyResult[]> {
    try {
      const bytes = await this.#c.net.request(
        coordinator,
        OVERRIDES_PROTOCOL,
        encodeOverrideMessage({ t: 'placeMany', m: reqs.map((r) => [r.key, r.replicas, r.reason, r.force]) }),
        { signal, timeoutMs: FORWARD_TIMEOUT_MS },
      );
      return decodeOverrideMessage<Extract<OverrideResponse, { t: 'placeMany' }>>(bytes, coordinator).res;
    } catch (err) {
      const message = `partition coordinator ${coordinator} is unreachable: ${(err as Error).message}`;
      return reqs.map((r) => ({ key: r.key, changed: false, error: { code: 'MOVE_FAILED', message } }));
    }
  }

  async #placeManyHere(reqs: readonly PlaceRequest[], signal?: AbortSignal): Promise<PlaceManyResult[]> {
    const ring = this.#c.ring;
    const partitions = [...new Set(reqs.map((r) => ring.ring.partitionOf(r.key)))];
    await this.#c.sync.catchUpMany(
      partitions.map((p): Scope => `partition:${p}`),
      signal,
    );
    const moves = [];
    const results = new Map<string, PlaceManyResult>();
    for (const req of reqs) {
      const current = ring.placementOf(req.key);
      const move = planMoveFrom(req.key, current, req.replicas, req.reason);
      if (move === undefined) results.set(req.key, { key: req.key, changed: false, replicas: [...current.replicas] });
      else moves.push(move);
    }
    if (moves.length > 0) {
      const outcome = await this.#c.waves.run(planWave(`m-${randomUUID().slice(0, 8)}`, moves, this.#timeouts), {
        origin: 'manual',
        signal,
      });
      for (const m of outcome.done)
        results.set(m.key, { key: m.key, changed: true, replicas: [...m.to], wave: outcome.id });
      for (const f of outcome.failed) {
        results.set(f.move.key, { key: f.move.key, changed: false, error: { code: 'MOVE_FAILED', message: f.error } });
      }
    }
    return reqs.map((r) => results.get(r.key)!);
  }

  async #placeHere(req: PlaceRequest, partition: number, signal?: AbortSignal): Promise<PlaceResult> {
    const ring = this.#c.ring;
    const scope: Scope = `partition:${partition}`;
    await this.#c.sync.catchUpMany([scope], signal);
    const current = ring.placementOf(req.key);
    const move = planMoveFrom(req.key, current, req.replicas, req.reason);
    const base = { key: req.key, partition, coordinator: ring.self };
    if (move === undefined) {
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
    this.#c.logger.info({ key: req.key, from: move.from, to: move.to, reason: req.reason }, 'move: starting');
    const wave = planWave(`m-${randomUUID().slice(0, 8)}`, [move], this.#timeouts);
    const outcome = await this.#c.waves.run(wave, { origin: 'manual', signal });
    const failed = outcome.failed[0];
    if (failed !== undefined) {
      throw new MoveFailedError(`move of ${JSON.stringify(req.key)} failed: ${failed.error}`);
    }
    const e = outcome.epochs.get(scope)!;
    this.#c.logger.info({ key: req.key, epoch: e, to: move.to }, 'move: done');
    return {
      ...base,
      changed: true,
      source: move.overridden ? 'override' : 'ring',
      replicas: [...move.to],
      previous: [...move.from],
      epoch: { scope, number: e.number, hash: e.hash },
      distributed: outcome.distributed,
      published: outcome.published,
    };
  }
}

/** The catalogue error of a refused placement. */
function placementError(problem: PlacementProblem): ShoalError {
  if (problem.code === 'INVALID_PLACEMENT') return new InvalidPlacementError(problem.message);
  if (problem.code === 'PLACEMENT_UNDER_REPLICATED') return new PlacementUnderReplicatedError(problem.message);
  return new ShoalError(problem.code, problem.message);
}
