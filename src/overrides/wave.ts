import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { ChainHead, Scope } from '../layout/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import { needed } from '../replication/coordinator.ts';
import { KeyedMutex } from '../replication/keyed-mutex.ts';
import type { HolderDirectory } from './holder-directory.ts';
import {
  type Migration,
  type MigrationLog,
  type MigrationOrigin,
  type MigrationState,
  moveKind,
} from './migrations.ts';
import {
  groupChange,
  MOVE_STEPS,
  type MovePlan,
  type MoveStepKind,
  type PartitionGroup,
  planMoveFrom,
  planWave,
  type WavePlan,
} from './plan.ts';
import type { Receipt } from './receipts.ts';
import type { OverrideSync } from './sync.ts';
import { add, type CopyContext, collectReceipts, copyMoves, pool, unique } from './wave-copy.ts';
import type { WaveLog } from './wave-log.ts';
import { awaitMembers, type ReleaseItem, type WaveCalls } from './wave-ops.ts';
import { WaveState } from './wave-state.ts';

export interface WaveRunnerComponents {
  ring: ClusterRing;
  sync: OverrideSync;
  directory: HolderDirectory;
  calls: WaveCalls;
  /** Signs partition epochs (the daemon's Ed25519 peer key). */
  peerKey: PrivateKey;
  log: WaveLog;
  migrations: MigrationLog;
  logger: Logger;
}

/**
 * Fault injection (tests only, `--fault-injection on`, `PUT /admin/faults/wave`): SIGKILL this process
 * right before a step of every wave it coordinates, or pause before a step (so a test can kill another
 * daemon at that step boundary). `paused` is set while a wave waits.
 */
export interface WaveFaults {
  crashBefore?: MoveStepKind;
  pauseBefore?: MoveStepKind;
  pauseMs?: number;
  paused?: { wave: string; step: MoveStepKind; since: number };
}

export interface WaveRunnerOptions {
  /** Read before each step; mutated by the fault routes. */
  faults?: WaveFaults;
}

/** What a wave did. */
export interface WaveOutcome {
  readonly id: string;
  readonly done: readonly MovePlan[];
  readonly failed: ReadonlyArray<{ readonly move: MovePlan; readonly error: string }>;
  /** The partition epochs the wave committed, by scope. */
  readonly epochs: ReadonlyMap<Scope, { readonly number: number; readonly hash: string }>;
  /** Members that acknowledged every new epoch, out of `of` up members. */
  readonly distributed: { readonly acked: number; readonly of: number };
  /** Partition heads stored in the DHT directory (0 when it failed or outlives a large wave: re-published later). */
  readonly published: number;
}

const within = (signal: AbortSignal | undefined, ms: number) =>
  AbortSignal.any([AbortSignal.timeout(ms), ...(signal ? [signal] : [])]);

/** A wave with more partition heads than this publishes them in the background. */
const PUBLISH_AWAITED_HEADS = 16;

/**
 * The one controller of moves: it executes a {@link WavePlan} (every move of a DSM cycle, or a single
 * manual placement) step by step ({@link MOVE_STEPS}), each step for the whole wave at once and within
 * its timeout, and records each move's outcome in the migration log. One wave runs at a time per
 * coordinator, so a record never has two moves in flight.
 *
 * - **announce**: one `intents` message per up member for the whole wave; a move fails if one of its
 *   new holders, or a majority of its old holders, does not acknowledge (a daemon refuses an announcement
 *   from anyone but the key's partition coordinator, intent-auth.ts). From here until the epoch arrives, every daemon reads and writes
 *   the record on its old and new holders together, needing a quorum of each (joint quorum), so a write
 *   acknowledged during the move is on a quorum of the new holders too.
 * - **copy**: the old holders report versions (one call each); for each record a quorum must answer;
 *   each distinct copy is shipped by one holder that has it (this daemon when it can), over the bulk
 *   channel, to every new holder, where it merges through the CRDT rules; then every new holder signs a
 *   receipt of what it holds, and a move fails unless each receipt shows a version at least as new as
 *   the newest the old holders reported.
 * - **commit**: one signed partition epoch per partition of the wave (`change.wave` = the wave id), the
 *   point of no return. **distribute**: one `pushes` message per member with every new epoch.
 *   **catch-up**: copy again, best effort, for writes acknowledged by old holders alone while the epochs
 *   spread. **publish**: the changed partition heads go to the DHT directory. **release**: each old
 *   holder gets the new holders' fresh receipts and drops its copy after the grace period if they cover
 *   it (release.ts); nothing is deleted on an unverified claim.
 *
 * A failure before commit cancels the move's announcement and changes nothing; the planner plans it
 * again later. The wave's record is persisted before each step (wave-log.ts); after a SIGKILL of the
 * coordinator, {@link recover} finishes the partitions whose epoch committed and undoes the others.
 */
export class WaveRunner {
  readonly #c: WaveRunnerComponents;
  readonly #o: WaveRunnerOptions;
  readonly #lane = new KeyedMutex();

  constructor(components: WaveRunnerComponents, options: WaveRunnerOptions = {}) {
    this.#c = components;
    this.#o = options;
  }

  /** Runs `plan` to its end (waits for a wave already running). */
  run(
    plan: WavePlan,
    options: { origin: MigrationOrigin; gains?: Record<string, number>; signal?: AbortSignal },
  ): Promise<WaveOutcome> {
    return this.#lane.run('wave', async () => {
      const state = new WaveState(plan, options.origin, Date.now(), options.gains ?? {});
      for (const m of plan.moves) this.#track(state, m, 'planned');
      await this.#steps(state, MOVE_STEPS, options.signal);
      return this.#finish(state);
    });
  }

  /**
   * Resumes or undoes the waves this daemon was running when it stopped: a partition whose epoch of the
   * wave is in its chain is finished (distribute, catch-up, publish, release); every other move is
   * cancelled and recorded `undone`.
   */
  async recover(signal?: AbortSignal): Promise<number> {
    const records = await this.#c.log.load(signal);
    const resumed: WavePlan[] = [];
    for (const r of records) {
      await this.#lane.run('wave', async () => {
        // Right after a restart few members are up here: cancellations and pushes would reach none.
        await awaitMembers(this.#c.ring, this.#c.sync.layout().ring(), 15_000, signal);
        const plan = planWave(r.id, r.moves);
        const state = new WaveState(plan, r.origin, r.startedAt, r.gains ?? {});
        for (const [key, why] of Object.entries(r.failed)) state.failed.set(key, why);
        const layout = this.#c.sync.layout();
        for (const g of plan.groups) {
          const chain = layout.chain(g.scope);
          const e = chain.epochs(Math.max(1, chain.head.number - 64)).findLast((x) => x.change.wave === r.id);
          if (e !== undefined) state.epochs.set(g.scope, { number: e.number, hash: chain.hashAt(e.number)! });
        }
        const undone = state.live().filter((m) => !state.epochs.has(m.scope));
        for (const m of undone) state.failed.set(m.key, 'undone: the coordinator restarted before its epoch');
        await this.#cancel(undone, signal);
        this.#c.logger.info(
          { wave: r.id, step: r.step, resumed: state.committed().length, undone: undone.length },
          'wave: recovered after a restart',
        );
        for (const m of state.committed()) this.#track(state, m, 'committed');
        await this.#steps(state, ['distribute', 'catch-up', 'publish', 'release'], signal);
        this.#finish(state);
        // A rollback is an operator's order, not a plan that comes back: what it had not committed runs again.
        if (r.origin === 'rollback' && undone.length > 0) resumed.push(this.#again(`${r.id}.2`, undone));
      });
    }
    for (const plan of resumed) {
      this.#c.logger.info({ wave: plan.id, moves: plan.moves.length }, 'wave: resuming a rollback after a restart');
      await this.run(plan, { origin: 'rollback', signal });
    }
    return records.length;
  }

  /** The moves of `undone` planned again from where their records are now, as wave `id`. */
  #again(id: string, undone: readonly MovePlan[]): WavePlan {
    const moves = undone.flatMap((m) => {
      const target = m.overridden ? m.to : null;
      const plan = planMoveFrom(m.key, this.#c.ring.placementOf(m.key), target, m.reason, m.sizeBytes);
      return plan === undefined ? [] : [plan];
    });
    return planWave(id, moves);
  }

  async #steps(state: WaveState, steps: readonly MoveStepKind[], signal?: AbortSignal): Promise<void> {
    // Commit and distribute get 10 ms more per partition epoch (a wave of 1,300 took 11 s to commit under load).
    const [t, e] = [state.plan.timeouts, state.plan.groups.length * 10];
    const timeout = { ...t, commit: t.commit + e, distribute: t.distribute + e, 'catch-up': t.copy };
    for (const step of steps) {
      const beforeCommit = MOVE_STEPS.indexOf(step) <= MOVE_STEPS.indexOf('commit');
      if ((beforeCommit ? state.live() : state.committed()).length === 0) continue;
      const t0 = performance.now();
      await this.#c.log.save(state.record(step));
      await this.#fault(state, step);
      const failedBefore = new Set(state.failed.keys());
      try {
        await this.#step(step, state, within(signal, timeout[step]));
      } catch (err) {
        const why = `${step} failed: ${(err as Error).message}`;
        if (beforeCommit) for (const m of state.live()) if (!state.epochs.has(m.scope)) state.failed.set(m.key, why);
        this.#c.logger.warn({ err, wave: state.plan.id, step }, 'wave: step failed');
      }
      const newlyFailed = state.plan.moves.filter((m) => state.failed.has(m.key) && !failedBefore.has(m.key));
      if (newlyFailed.length > 0) await this.#cancel(newlyFailed, signal);
      state.stepMs[step] = Math.round(performance.now() - t0);
      if (step === 'copy') for (const m of state.live()) this.#track(state, m, 'copying');
      if (step === 'commit') for (const m of state.committed()) this.#track(state, m, 'committed');
    }
  }

  async #fault(state: WaveState, step: MoveStepKind): Promise<void> {
    const f = this.#o.faults;
    if (f === undefined) return;
    if (f.crashBefore === step) {
      this.#c.logger.warn({ wave: state.plan.id, step }, 'wave: fault injection kills this daemon before the step');
      process.kill(process.pid, 'SIGKILL');
    }
    if (f.pauseBefore === step) {
      f.paused = { wave: state.plan.id, step, since: Date.now() };
      await new Promise((r) => setTimeout(r, f.pauseMs ?? 5000));
      f.paused = undefined;
    }
  }

  async #step(step: MoveStepKind, state: WaveState, signal: AbortSignal): Promise<void> {
    switch (step) {
      case 'announce':
        return this.#announce(state, signal);
      case 'copy':
        return copyMoves(this.#copyContext(state), state.live(), signal, true, state.failed);
      case 'commit':
        return this.#commit(state, signal);
      case 'distribute':
        return this.#distribute(state, signal);
      case 'catch-up':
        return copyMoves(this.#copyContext(state), state.committed(), signal, false, state.failed);
      case 'publish':
        return this.#publish(state, signal);
      case 'release':
        return this.#release(state, signal);
    }
  }

  async #announce(state: WaveState, signal: AbortSignal): Promise<void> {
    const { ring, calls } = this.#c;
    const live = state.live();
    const ttl = state.plan.intentTtlMs;
    const expiresAt = Date.now() + ttl;
    ring.overrides.announceMany(live.map((m) => ({ key: m.key, from: m.from, to: m.to, expiresAt })));
    const msg = live.map((m): [string, string[], string[]] => [m.key, [...m.from], [...m.to]]);
    const peers = ring.upPeers();
    const timeoutMs = state.plan.timeouts.announce;
    const answers = await Promise.all(
      peers.map((p) =>
        calls.intents(p, msg, ttl, signal, timeoutMs).then(
          () => p,
          (err: unknown) => {
            this.#c.logger.debug({ err, peer: p, wave: state.plan.id }, 'wave: announcement not acknowledged');
            return undefined;
          },
        ),
      ),
    );
    const acked = new Set([ring.self, ...answers.filter((p): p is string => p !== undefined)]);
    for (const m of live) {
      const missing = m.copyTo.filter((p) => !acked.has(p));
      const oldAcks = m.from.filter((p) => acked.has(p)).length;
      if (missing.length > 0)
        state.failed.set(m.key, `new holders did not acknowledge the move: ${missing.join(', ')}`);
      // A coordinator cut off from most of the old holders must not commit a placement alone (a move
      // to a subset of the holders has no copy step, so nothing else would stop it): it would then
      // serve the record by itself while the others serve it on the old holders (split brain).
      else if (oldAcks < needed('quorum', m.from.length))
        state.failed.set(m.key, `only ${oldAcks} of ${m.from.length} old holders acknowledged the move`);
    }
  }

  #copyContext(state: WaveState): CopyContext {
    const c = this.#c;
    return {
      calls: c.calls,
      self: c.ring.self,
      logger: c.logger,
      wave: state.plan.id,
      timeoutMs: state.plan.timeouts.copy,
      held: state.held,
      onCopied: (key, checksum) => state.checksums.set(key, checksum),
      onSized: (key, bytes) => state.sizes.set(key, bytes),
    };
  }

  async #commit(state: WaveState, signal: AbortSignal): Promise<void> {
    const { sync, peerKey } = this.#c;
    const groups = state.plan.groups
      .map((g): PartitionGroup => ({ ...g, moves: g.moves.filter((m) => !state.failed.has(m.key)) }))
      .filter((g) => g.moves.length > 0);
    await sync.catchUpMany(
      groups.map((g) => g.scope),
      signal,
    );
    await pool(groups, 16, async (g) => {
      const reason =
        g.moves.length === 1 ? g.moves[0].reason : `${state.origin} wave ${state.plan.id}: ${g.moves.length} moves`;
      try {
        const layout = sync.layout();
        const checksums = Object.fromEntries(
          g.moves.flatMap((m) => {
            const sum = state.checksums.get(m.key);
            return sum === undefined ? [] : [[m.key, sum]];
          }),
        );
        const change = {
          ...groupChange(g.moves, reason),
          wave: state.plan.id,
          ...(Object.keys(checksums).length > 0 ? { checksums } : {}),
        };
        const epoch = await layout.propose(g.scope, change, peerKey, { signal });
        await sync.apply(g.scope, [epoch], undefined, signal);
        state.epochs.set(g.scope, { number: epoch.number, hash: sync.layout().chain(g.scope).hashAt(epoch.number)! });
      } catch (err) {
        for (const m of g.moves) state.failed.set(m.key, `commit of ${g.scope} failed: ${(err as Error).message}`);
      }
    });
  }

  async #distribute(state: WaveState, signal: AbortSignal): Promise<void> {
    const peers = this.#c.ring.upPeers();
    const scopes = [...state.epochs].map(([scope, e]): [Scope, number] => [scope, e.number]);
    const acked = await this.#c.sync.pushMany(scopes, peers, signal);
    state.distributed = { acked: acked.length, of: peers.length };
  }

  async #publish(state: WaveState, signal: AbortSignal): Promise<void> {
    const heads: ChainHead[] = [...state.epochs].map(([scope, e]) => ({ scope, number: e.number, hash: e.hash }));
    const published = this.#c.directory.publishHeads(heads, signal).then(
      (n) => (state.published = n),
      () => 0,
    );
    // The directory is best effort (its re-publisher repeats every head): a large wave does not wait for the DHT.
    if (heads.length <= PUBLISH_AWAITED_HEADS) await published;
  }

  async #release(state: WaveState, signal: AbortSignal): Promise<void> {
    const moves = state.committed().filter((m) => m.release.length > 0);
    if (moves.length === 0) return;
    const timeoutMs = state.plan.timeouts.release;
    const kept = new Map<string, Receipt[]>();
    await collectReceipts({ ...this.#copyContext(state), timeoutMs }, moves, (m) => m.to, signal, kept);
    const byOld = new Map<string, MovePlan[]>();
    for (const m of moves) for (const h of m.release) add(byOld, h, m);
    await Promise.all(
      [...byOld].map(async ([h, ms]) => {
        if (h !== this.#c.ring.self && !this.#c.ring.isAvailable(h)) return;
        const items = ms.map((m): ReleaseItem => [m.key, m.scope, state.epochs.get(m.scope)!.number]);
        const receipts = unique(ms.flatMap((m) => m.to)).flatMap((p) => kept.get(p) ?? []);
        try {
          await this.#c.calls.release(h, items, receipts, signal, timeoutMs);
        } catch (err) {
          this.#c.logger.info(
            { err, peer: h, wave: state.plan.id },
            'wave: release not delivered (hand-off covers it)',
          );
        }
      }),
    );
  }

  /** Withdraws the announcements of `moves` (here and at every up member). */
  async #cancel(moves: readonly MovePlan[], signal?: AbortSignal): Promise<void> {
    if (moves.length === 0) return;
    for (const m of moves) this.#c.ring.overrides.settle(m.key);
    const msg = moves.map((m): [string, string[], string[]] => [m.key, [...m.from], [...m.to]]);
    const s = within(signal, 3000);
    await Promise.all(this.#c.ring.upPeers().map((p) => this.#c.calls.intents(p, msg, 0, s, 3000).catch(() => {})));
  }

  #track(state: WaveState, m: MovePlan, st: MigrationState, error?: string): void {
    const e = state.epochs.get(m.scope);
    const ended = st === 'done' || st === 'failed' || st === 'undone';
    const migration: Migration = {
      id: `${state.plan.id}/${m.key}`,
      wave: state.plan.id,
      kind: moveKind(m.from, m.to, !m.overridden),
      key: m.key,
      partition: m.partition,
      from: m.from,
      to: m.to,
      state: st,
      reason: m.reason,
      bytes: (state.sizes.get(m.key) ?? m.sizeBytes) * m.copyTo.length,
      gainMs: state.gains[m.key],
      origin: state.origin,
      startedAt: state.startedAt,
      endedAt: ended ? Date.now() : undefined,
      epoch: e && { scope: m.scope, number: e.number, hash: e.hash },
      checksum: state.checksums.get(m.key),
      error,
    };
    this.#c.migrations.put(migration);
  }

  #finish(state: WaveState): WaveOutcome {
    const done = state.committed();
    for (const m of done) this.#track(state, m, 'done');
    const failed = state.plan.moves
      .filter((m) => state.failed.has(m.key))
      .map((move) => ({ move, error: state.failed.get(move.key)! }));
    for (const f of failed) this.#track(state, f.move, f.error.startsWith('undone') ? 'undone' : 'failed', f.error);
    void this.#c.log.remove(state.plan.id).catch((err: unknown) => {
      this.#c.logger.warn({ err, wave: state.plan.id }, 'wave: could not forget a finished wave');
    });
    const counts = { done: done.length, failed: failed.length, epochs: state.epochs.size };
    const ms = Date.now() - state.startedAt;
    this.#c.logger.info({ wave: state.plan.id, ...counts, ms, stepMs: state.stepMs }, 'wave: done');
    return {
      id: state.plan.id,
      done,
      failed,
      epochs: state.epochs,
      distributed: state.distributed,
      published: state.published,
    };
  }
}
