/**
 * Per-record placement overrides in the live cluster: the composition of
 * - {@link OverrideSync}: partition chains (pushed by coordinators, pulled from peers) → the override table
 *   that {@link ClusterRing.replicasOf} consults;
 * - {@link Relocator}: the move controller behind `POST|DELETE /admin/records/:key/placement`;
 * - {@link HolderDirectory}: the DHT directory `/shoal/holders/<key>` (published after a move, re-published
 *   periodically, read when a read finds no copy on the holders this daemon knows);
 * - {@link OverrideRepair}: anti-entropy among the holders of overridden keys;
 * and the server of the override protocol (`/shoal/overrides/1.0.0`, see override-wire.ts).
 *
 * @packageDocumentation
 */
import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Layout, OverrideEvent, Scope } from '../layout/index.ts';
import { type Net, ProtocolError } from '../net/index.ts';
import type { ClusterRing, KeyPlacement } from '../replication/cluster-ring.ts';
import type { LocalEngine } from '../replication/local-engine.ts';
import type { OverrideEntry } from '../replication/override-table.ts';
import { ReplicaClient } from '../replication/replica-client.ts';
import { type DirectoryLookup, HolderDirectory, type HolderDirectoryOptions } from './holder-directory.ts';
import type { MoveTimeouts } from './plan.ts';
import { Relocator } from './relocate.ts';
import { OverrideRepair } from './repair.ts';
import { OverrideSync } from './sync.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  OVERRIDES_PROTOCOL,
  type OverrideRequest,
  type OverrideResponse,
  type PlaceRequest,
  type PlaceResult,
} from './wire.ts';

export type { PlaceRequest, PlaceResult } from './wire.ts';

export interface OverrideServiceComponents {
  net: Net;
  ring: ClusterRing;
  local: LocalEngine;
  /** The daemon's layout, from the layout keeper (which may replace it). */
  layout: () => Layout;
  /** Signs partition epochs. */
  peerKey: PrivateKey;
  logger: Logger;
  /** Runs the hand-off soon (after an epoch moved keys away from this daemon). */
  kickHandOff?: () => void;
}

export interface OverrideServiceOptions {
  /** Pause between pulls of partition heads from one peer. Default 5000 ms. */
  pullIntervalMs?: number;
  /** Pause between repair passes over overridden keys. Default 30 000 ms. */
  repairIntervalMs?: number;
  /** Deadline of one replica call while copying. Default 5000 ms. */
  replicaTimeoutMs?: number;
  moveTimeouts?: Partial<MoveTimeouts>;
  directory?: HolderDirectoryOptions;
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
  placement(key: string): PlacementView;
  holders(key: string, options?: { signal?: AbortSignal }): Promise<HoldersView>;
  /** Every override this daemon holds. */
  list(): OverrideEntry[];
}

const MAX_INTENT_TTL_MS = 10 * 60_000;
const isPartitionScope = (s: unknown): s is Scope => typeof s === 'string' && /^partition:(0|[1-9][0-9]{0,6})$/.test(s);

export function createOverrideService(
  c: OverrideServiceComponents,
  options: OverrideServiceOptions = {},
): OverrideService {
  const logger = c.logger;
  const sync = new OverrideSync(
    { net: c.net, ring: c.ring, layout: c.layout, logger, onChange: c.kickHandOff },
    { pullIntervalMs: options.pullIntervalMs },
  );
  const directory = new HolderDirectory({ net: c.net, ring: c.ring, sync, logger }, options.directory);
  const client = new ReplicaClient(c.net, c.local, { timeoutMs: options.replicaTimeoutMs ?? 5000 });
  const relocator = new Relocator(
    { net: c.net, ring: c.ring, sync, directory, client, peerKey: c.peerKey, logger },
    { timeouts: options.moveTimeouts },
  );
  const repair = new OverrideRepair({ ring: c.ring, client, logger });
  let repairTimer: NodeJS.Timeout | undefined;
  let repairing: Promise<unknown> | undefined;
  const ac = new AbortController();

  const answer = async (req: OverrideRequest, from: string, signal: AbortSignal): Promise<OverrideResponse> => {
    switch (req.t) {
      case 'heads':
        if (req.s !== undefined && !isPartitionScope(req.s)) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'heads', h: sync.heads(req.s) };
      case 'epochs':
        if (!isPartitionScope(req.s)) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'epochs', e: sync.epochs(req.s, req.from) };
      case 'push':
        if (!isPartitionScope(req.s)) throw new ProtocolError(`bad scope from ${from}`);
        return { t: 'push', n: await sync.applyPushed(req.s, req.e, from, signal) };
      case 'intent':
        if (!c.ring.ring.has(from)) throw new ProtocolError(`move announcement from non-member ${from}`);
        if (req.ttl === 0) c.ring.overrides.settle(req.k);
        else {
          const expiresAt = Date.now() + Math.min(req.ttl, MAX_INTENT_TTL_MS);
          c.ring.overrides.announce({ key: req.k, from: req.f, to: req.to, expiresAt });
        }
        return { t: 'intent' };
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
      directory.start();
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
      await c.net.unhandle(OVERRIDES_PROTOCOL).catch(() => {});
      await Promise.all([sync.stop(), directory.stop(), repairing?.catch(() => {})]);
    },
    place: (req, o = {}) => relocator.place(req, o),
    placement,
    async holders(key, o = {}) {
      const found = await directory.lookup(key, o.signal);
      return { key, directory: found.entry ?? null, status: found.status, placement: placement(key) };
    },
    list: () => [...c.ring.overrides.entries()],
  };
}
