/**
 * Per-record placement overrides in the live cluster: the composition of
 * - {@link OverrideSync}: partition chains (pushed by coordinators, pulled from peers) → the override table
 *   that {@link ClusterRing.replicasOf} consults;
 * - {@link WaveRunner}: the one controller of moves (waves of a DSM cycle, or of one manual placement),
 *   with {@link ReleaseQueue} on the old holders' side and the wave log for crash recovery;
 * - {@link Relocator}: manual placement, `POST|DELETE /admin/records/:key/placement` (a wave of one);
 * - {@link HolderDirectory}: the DHT directory `/shoal/holders/partition:<n>` (published after a wave,
 *   re-published periodically, read when a read finds no copy on the holders this daemon knows);
 * - {@link OverrideRepair}: anti-entropy among the holders of overridden keys;
 * and the server of the override protocol (`/shoal/overrides/1.0.0`, see wire.ts).
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Epoch, Layout, OverrideEvent, Scope } from '../layout/index.ts';
import { type Net, ProtocolError } from '../net/index.ts';
import type { ClusterRing, KeyPlacement } from '../replication/cluster-ring.ts';
import { RollbackTargetMissingError } from '../replication/errors.ts';
import type { LocalEngine } from '../replication/local-engine.ts';
import type { OverrideEntry } from '../replication/override-table.ts';
import { ReplicaClient } from '../replication/replica-client.ts';
import type { Store } from '../store/index.ts';
import type { ForkRecord } from './forks.ts';
import { type DirectoryLookup, HolderDirectory, type HolderDirectoryOptions } from './holder-directory.ts';
import { keyNotCoordinatedBy } from './intent-auth.ts';
import { intentsProblem } from './intent-signature.ts';
import { type Migration, MigrationLog, type MigrationOrigin } from './migrations.ts';
import { type IntentRefusal, type LayoutObserver, SILENT_LAYOUT_OBSERVER } from './observer.ts';
import { type MovePlan, type MoveTimeouts, planMoveFrom, planWave } from './plan.ts';
import type { QuarantineEntry } from './quarantine.ts';
import { ReleaseQueue } from './release.ts';
import { Relocator } from './relocate.ts';
import { OverrideRepair } from './repair.ts';
import { planRollback, type RollbackTarget } from './rollback.ts';
import { OverrideSync } from './sync.ts';
import { type WaveFaults, type WaveOutcome, WaveRunner } from './wave.ts';
import { WaveLog } from './wave-log.ts';
import { awaitMembers, WaveCalls, WaveLocal } from './wave-ops.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  OVERRIDES_PROTOCOL,
  type OverrideRequest,
  type OverrideResponse,
  type PlaceManyResult,
  type PlaceRequest,
  type PlaceResult,
} from './wire.ts';

export type { PlaceRequest, PlaceResult } from './wire.ts';

export interface OverrideServiceComponents {
  net: Net;
  ring: ClusterRing;
  local: LocalEngine;
  /** Where unfinished waves are kept across a crash (the daemon's store). */
  store: Store;
  /** The daemon's layout, from the layout keeper (which may replace it). */
  layout: () => Layout;
  /** Signs partition epochs and receipts. */
  peerKey: PrivateKey;
  logger: Logger;
  /**
   * Whether a live copy of a key exists on its holders (undefined: cannot tell); a manual placement of
   * a key without one is refused (NOT_FOUND) unless it allows a missing record. Absent: not checked.
   */
  exists?: (key: string, signal?: AbortSignal) => Promise<boolean | undefined>;
  /** Told of refused epochs, forks and refused move announcements (metrics). */
  observer?: LayoutObserver;
  /** Appends the cluster epochs `peer` holds beyond this daemon's (the layout keeper's pull). */
  catchUpCluster?: (peer: string) => Promise<void>;
}

export interface OverrideServiceOptions {
  /** Pause between pulls of partition heads from one peer. Default 5000 ms. */
  pullIntervalMs?: number;
  /** Pause between repair passes over overridden keys. Default 30 000 ms. */
  repairIntervalMs?: number;
  /** Deadline of one replica call while repairing. Default 5000 ms. */
  replicaTimeoutMs?: number;
  moveTimeouts?: Partial<MoveTimeouts>;
  directory?: HolderDirectoryOptions;
  /** How long an old copy stays after its release, ms (default 60 000). */
  releaseGraceMs?: number;
  /** Fault injection (tests only): the wave faults the fault routes set (see {@link WaveFaults}). */
  faults?: WaveFaults;
  /** Told of every move that ended (done, failed, undone). */
  onMigration?: (m: Migration) => void;
  /** Called when a rollback starts here (the daemon pauses its DSM until an operator resumes it). */
  onRollback?: () => void;
}

/** `placement` of `GET /admin/records/:key`. */
export interface PlacementView extends Omit<KeyPlacement, 'override'> {
  /** The partition epoch that set the override. */
  epoch?: { scope: Scope; number: number; hash: string };
  /** Every epoch that set or removed the key's override, oldest first. */
  history: readonly OverrideEvent[];
}

/** `GET /admin/holders/:key`. */
export interface HoldersView {
  key: string;
  directory: DirectoryLookup['entry'] | null;
  status: DirectoryLookup['status'];
  placement: PlacementView;
}

export interface OverrideService {
  start(): Promise<void>;
  stop(): Promise<void>;
  place(req: PlaceRequest, options?: { signal?: AbortSignal }): Promise<PlaceResult>;
  /** Places many records, one wave per coordinator (`POST /admin/placements`). */
  placeMany(reqs: readonly PlaceRequest[], options?: { signal?: AbortSignal }): Promise<PlaceManyResult[]>;
  /**
   * Runs `moves` (records of partitions this daemon coordinates) as one wave; resolves when it ended.
   * Moves of partitions it does not coordinate fail at commit (their chain refuses its signature).
   */
  runWave(
    moves: readonly MovePlan[],
    options: { origin: MigrationOrigin; gains?: Record<string, number>; signal?: AbortSignal },
  ): Promise<WaveOutcome>;
  /**
   * Rolls placements back (`POST /admin/layout/rollback`): this daemon and every up member restore the
   * partitions they coordinate, each as one wave in the background. Resolves to the id and the number
   * of records to move, cluster-wide. Throws ROLLBACK_TARGET_MISSING for a wave no daemon knows.
   */
  rollback(
    target: RollbackTarget,
    options?: { signal?: AbortSignal },
  ): Promise<{ rollbackId: string; records: number }>;
  /** The moves in flight and the recent history (`GET /admin/migrations`). */
  migrations(limit?: number): { inFlight: Migration[]; history: Migration[] };
  /** Keys with a move in flight here → the holders it takes them to. */
  inFlight(): Map<string, readonly string[]>;
  placement(key: string): PlacementView;
  holders(key: string, options?: { signal?: AbortSignal }): Promise<HoldersView>;
  /** Every override this daemon holds. */
  list(): OverrideEntry[];
  /** The layout (after the override table followed it). */
  layout(): Layout;
  /** Partition chain forks found and resolved here (forks.ts), newest last. */
  forks(): readonly ForkRecord[];
  /** Signers quarantined here for equivocation (quarantine.ts). */
  quarantined(): QuarantineEntry[];
  /** Lifts a signer's quarantine; false when it was not quarantined. */
  clearQuarantine(signer: string): boolean;
}

const MAX_INTENT_TTL_MS = 10 * 60_000;
const isPartitionScope = (s: unknown): s is Scope => typeof s === 'string' && /^partition:(0|[1-9][0-9]{0,6})$/.test(s);

export function createOverrideService(
  c: OverrideServiceComponents,
  options: OverrideServiceOptions = {},
): OverrideService {
  const logger = c.logger;
  let release: ReleaseQueue | undefined;
  const observer = c.observer ?? SILENT_LAYOUT_OBSERVER;
  const sync = new OverrideSync(
    {
      net: c.net,
      ring: c.ring,
      layout: c.layout,
      logger,
      observer,
      onChange: (fresh) => release?.noteMoved(movedKeys(fresh)),
    },
    { pullIntervalMs: options.pullIntervalMs },
  );
  release = new ReleaseQueue({ ring: c.ring, local: c.local, sync, logger }, { graceMs: options.releaseGraceMs });
  const releases = release;
  const directory = new HolderDirectory({ net: c.net, ring: c.ring, sync, logger }, options.directory);
  const client = new ReplicaClient(c.net, c.local, { timeoutMs: options.replicaTimeoutMs ?? 5000 });
  const local = new WaveLocal({ net: c.net, local: c.local, peerKey: c.peerKey, release: releases, logger });
  const migrations = new MigrationLog({ onEnd: options.onMigration });
  const waves = new WaveRunner(
    {
      ring: c.ring,
      sync,
      directory,
      calls: new WaveCalls(c.net, local, c.peerKey, () => sync.layout().cluster.head.number),
      peerKey: c.peerKey,
      log: new WaveLog(c.store),
      migrations,
      logger,
    },
    { faults: options.faults },
  );
  const relocator = new Relocator(
    { net: c.net, ring: c.ring, sync, waves, logger, exists: c.exists },
    { timeouts: options.moveTimeouts },
  );
  const repair = new OverrideRepair({ ring: c.ring, client, logger });
  let repairTimer: NodeJS.Timeout | undefined;
  let repairing: Promise<unknown> | undefined;
  let recovering: Promise<unknown> | undefined;
  let settling: Promise<unknown> | undefined;
  const ac = new AbortController();

  /** Plans this daemon's share of a rollback and starts its wave; resolves to how many records move. */
  const rollbackHere = (id: string, target: RollbackTarget): { n: number; found: boolean } => {
    const layout = sync.layout();
    const self = c.ring.self;
    const { moves, found } = planRollback(layout, (p) => layout.coordinatorOf(p) === self, target);
    // A rollback pauses the DSM (until an operator resumes it); one of a wave nobody knows changes nothing.
    if (found) options.onRollback?.();
    const plans: MovePlan[] = [];
    const what = 'wave' in target ? `undo wave ${target.wave}` : `to ${new Date(target.toTime).toISOString()}`;
    for (const m of moves) {
      const plan = planMoveFrom(m.key, c.ring.placementOf(m.key), m.target, `rollback ${id}: ${what}`);
      if (plan !== undefined) plans.push(plan);
    }
    if (plans.length > 0) {
      logger.info({ rollback: id, records: plans.length, target }, 'overrides: rollback started');
      void waves
        .run(planWave(id, plans, options.moveTimeouts), { origin: 'rollback', signal: ac.signal })
        .catch((err: unknown) => logger.warn({ err, rollback: id }, 'overrides: rollback wave failed'));
    }
    return { n: plans.length, found };
  };

  const member = (from: string, what: string) => {
    if (!c.ring.ring.has(from)) throw new ProtocolError(`${what} from non-member ${from}`);
  };

  const answer = async (req: OverrideRequest, from: string, signal: AbortSignal): Promise<OverrideResponse> => {
    switch (req.t) {
      case 'heads':
        if (req.s !== undefined && !isPartitionScope(req.s)) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'heads', h: sync.heads(req.s) };
      case 'epochs':
        if (!isPartitionScope(req.s)) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'epochs', e: sync.epochs(req.s, req.from) };
      case 'pushes':
        if (!req.p.every(([s]) => isPartitionScope(s))) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'pushes', n: await sync.applyPushedMany(req.p, from, signal) };
      case 'intents': {
        const refuse = (reason: IntentRefusal, why: string) => {
          observer.intentRefused(reason);
          logger.warn({ from, reason, moves: req.m.length }, `overrides: move announcement refused: ${why}`);
          return new ProtocolError(`move announcement from ${from}: ${why}`);
        };
        if (!c.ring.ring.has(from)) throw refuse('non-member', 'not a member');
        const unsigned = intentsProblem(from, req, MAX_INTENT_TTL_MS);
        if (unsigned !== undefined) throw refuse('bad-signature', unsigned);
        const quarantined = sync.quarantine.reasonFor(from);
        if (quarantined !== undefined) throw refuse('quarantined', quarantined);
        const strayKey = () =>
          keyNotCoordinatedBy(
            sync.layout(),
            from,
            req.m.map(([k]) => k),
          );
        let stray = strayKey();
        // The sender announced under a newer cluster epoch (a coordinator that took over): catch up, then judge.
        if (stray !== undefined && (req.b ?? 0) > sync.layout().cluster.head.number && c.catchUpCluster) {
          await c
            .catchUpCluster(from)
            .catch((err: unknown) => logger.debug({ err, from }, 'overrides: cluster catch-up failed'));
          stray = strayKey();
        }
        if (stray !== undefined) throw refuse('not-coordinator', `${JSON.stringify(stray)} is not in its partitions`);
        if (req.ttl === 0) for (const [k] of req.m) c.ring.overrides.settle(k);
        else {
          const expiresAt = Date.now() + Math.min(req.ttl, MAX_INTENT_TTL_MS);
          c.ring.overrides.announceMany(req.m.map(([key, f, to]) => ({ key, from: f, to, expiresAt })));
        }
        return { t: 'intents' };
      }
      case 'versions':
        member(from, 'version query');
        return { t: 'versions', v: await local.versions(req.k, signal) };
      case 'ship':
        member(from, 'ship request');
        return { t: 'ship', r: await local.ship(req.m, signal) };
      case 'receipt':
        member(from, 'receipt request');
        return { t: 'receipt', r: await local.receipt(req.k, signal) };
      case 'release':
        member(from, 'release');
        if (!req.m.every(([, s]) => isPartitionScope(s))) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'release', n: await local.release(req.m, req.rc, from, signal) };
      case 'rollback': {
        member(from, 'rollback');
        const r = rollbackHere(req.id, req.w !== undefined ? { wave: req.w } : { toTime: req.to! });
        return { t: 'rollback', n: r.n, found: r.found };
      }
      case 'placeMany':
        member(from, 'batch placement');
        return {
          t: 'placeMany',
          res: await relocator.placeMany(
            req.m.map(([key, replicas, reason, force]) => ({ key, replicas, reason, force })),
            { signal, forwarded: true },
          ),
        };
      case 'place':
        return {
          t: 'place',
          res: await relocator.place(
            { key: req.k, replicas: req.r, reason: req.why, force: req.force },
            { signal, forwarded: true },
          ),
        };
    }
  };

  const placement = (key: string): PlacementView => {
    const { override, ...rest } = c.ring.placementOf(key);
    const epoch = override && { scope: override.scope, number: override.number, hash: override.hash };
    return { ...rest, epoch, history: sync.layout().history(key) };
  };

  return {
    async start() {
      await c.net.handle(
        OVERRIDES_PROTOCOL,
        async (bytes, from, { signal }) =>
          encodeOverrideMessage(
            await answer(decodeOverrideMessage<OverrideRequest>(bytes, from.peerId), from.peerId, signal),
          ),
        { handlerTimeoutMs: 150_000 },
      );
      sync.start();
      // The hand-off leaves every record alone (node/daemon.ts) until the chains caught up with the
      // peers': a new holder restarted before a move's epoch reached it would hand its copy back to
      // the ring replicas and drop it.
      const scopes = Array.from({ length: c.ring.ring.partitions }, (_, p): Scope => `partition:${p}`);
      settling = awaitMembers(c.ring, sync.layout().ring(), 15_000, ac.signal)
        .then(() => sync.catchUpMany(scopes, ac.signal))
        .catch((err: unknown) => logger.info({ err }, 'overrides: catching the partition chains up failed'))
        .finally(() => {
          if (!ac.signal.aborted) c.ring.setHoldBack((key) => releases.holdsBack(key));
        });
      directory.start();
      // Waves this daemon was running when it stopped: finish what committed, undo the rest (a rollback runs its rest again).
      recovering = waves
        .recover(ac.signal)
        .catch((err: unknown) => logger.warn({ err }, 'overrides: recovering unfinished waves failed'));
      repairTimer = setInterval(() => {
        repairing ??= repair
          .pass(1000, ac.signal)
          .catch((err: unknown) => logger.debug({ err }, 'override repair failed'))
          .finally(() => {
            repairing = undefined;
          });
      }, options.repairIntervalMs ?? 30_000);
      repairTimer.unref();
    },
    async stop() {
      clearInterval(repairTimer);
      ac.abort();
      releases.stop();
      c.ring.setHoldBack(undefined);
      await c.net.unhandle(OVERRIDES_PROTOCOL).catch(() => {});
      await Promise.all([sync.stop(), directory.stop(), repairing?.catch(() => {}), recovering, settling]);
    },
    place: (req, o = {}) => relocator.place(req, o),
    placeMany: (reqs, o = {}) => relocator.placeMany(reqs, o),
    runWave: (moves, o) => waves.run(planWave(`w-${randomUUID().slice(0, 8)}`, moves, options.moveTimeouts), o),
    async rollback(target, o = {}) {
      const id = `r-${randomUUID().slice(0, 8)}`;
      const msg: OverrideRequest =
        'wave' in target ? { t: 'rollback', id, w: target.wave } : { t: 'rollback', id, to: target.toTime };
      const here = rollbackHere(id, target);
      const there = await Promise.all(
        c.ring.upPeers().map(async (peer) => {
          try {
            const bytes = await c.net.request(peer, OVERRIDES_PROTOCOL, encodeOverrideMessage(msg), {
              signal: o.signal,
              timeoutMs: 10_000,
            });
            return decodeOverrideMessage<Extract<OverrideResponse, { t: 'rollback' }>>(bytes, peer);
          } catch (err) {
            logger.warn(
              { err, peer, rollback: id },
              'overrides: a member did not take the rollback (it pulls the epochs)',
            );
            return { t: 'rollback' as const, n: 0, found: false };
          }
        }),
      );
      if (!here.found && !there.some((r) => r.found) && 'wave' in target) {
        throw new RollbackTargetMissingError(`no daemon holds an epoch of wave ${JSON.stringify(target.wave)}`);
      }
      return { rollbackId: id, records: here.n + there.reduce((sum, r) => sum + r.n, 0) };
    },
    migrations: (limit) => migrations.view(limit),
    inFlight: () => migrations.inFlightKeys(),
    placement,
    async holders(key, o = {}) {
      const found = await directory.lookup(key, o.signal);
      return { key, directory: found.entry ?? null, status: found.status, placement: placement(key) };
    },
    list: () => [...c.ring.overrides.entries()],
    layout: () => sync.layout(),
    forks: () => sync.forks(),
    quarantined: () => sync.quarantine.list(),
    clearQuarantine: (signer) => {
      const cleared = sync.quarantine.clear(signer);
      if (cleared) logger.warn({ signer }, 'overrides: quarantine lifted by an operator');
      return cleared;
    },
  };
}

/** Keys whose placement the epochs changed. */
function movedKeys(epochs: readonly Epoch[]): string[] {
  return epochs.flatMap((e) => [
    ...(e.change.overridesSet ?? []).map((o) => o.key),
    ...(e.change.overridesRemoved ?? []),
  ]);
}
