/**
 * `src/net`: the libp2p layer of the shoal daemon.
 *
 * One {@link Net} per daemon assembles libp2p v3 (tcp, noise, yamux, identify, ping, a private
 * kad-dht on `/shoal/kad/1.0.0`, gossipsub, and pnet when a cluster secret is given) and offers:
 *
 * - request/response RPC on versioned stream protocols (`/shoal/<name>/1.0.0`), one stream per call
 *   on a reused connection, length-prefixed frames, a deadline on every call ({@link Net.request});
 * - flow-controlled bulk streams for large transfers, on a TLS-PSK side channel when possible
 *   ({@link Net.openBulk}, {@link Net.handleBulk});
 * - membership with a timeout-based failure detector ({@link Net.members}, `member:*` events);
 * - rate-limited gossip ({@link Net.publish}, {@link Net.subscribe});
 * - a last-writer-wins DHT directory ({@link Net.dhtPut}, {@link Net.dhtGet});
 * - fault injection for tests and benchmarks (partition, per-zone latency), off by default.
 *
 * Every error is a ShoalError: {@link PeerUnreachableError} (REPLICAS_UNAVAILABLE),
 * {@link NetTimeoutError} (TIMEOUT), {@link NetAbortedError} (ABORTED), {@link ProtocolError}
 * (PROTOCOL_ERROR), {@link RemoteError} (the remote handler's code), {@link NetNotRunningError}
 * and {@link GossipQueueFullError} (NOT_READY), {@link MessageTooLargeError} (PAYLOAD_TOO_LARGE).
 * See README.md beside this file for the wire formats.
 */
import type { Logger } from 'pino';
import type { BulkHandleOptions, BulkHandler, BulkOpenOptions, BulkSender } from './bulk.ts';
import type { LatencyFn } from './faults.ts';
import type { GossipCounts, GossipHandler, GossipLimits, SubscribeOptions } from './gossip.ts';
import type { Member, MemberStorage, MembershipTimings } from './membership.ts';
import { NetImpl } from './net.ts';
import type { HandleOptions, RequestHandler, RequestOptions } from './rpc.ts';

export type { BulkHandleOptions, BulkHandler, BulkOpenOptions, BulkSender } from './bulk.ts';
export { DEFAULT_WINDOW_BYTES } from './bulk.ts';
export type { PeerInfo } from './core.ts';
export * from './errors.ts';
export type { LatencyFn } from './faults.ts';
export type { GossipCounts, GossipHandler, GossipLimits, SubscribeOptions } from './gossip.ts';
export { DEFAULT_GOSSIP_LIMITS } from './gossip.ts';
export { DHT_PROTOCOL } from './libp2p.ts';
export type { MemberInfo } from './member-codec.ts';
export { type MemberIdMatch, matchMemberId, nameCandidates, resolveMemberId } from './member-id.ts';
export type { MemberStorage } from './member-storage.ts';
export { storageChanged, USED_BYTES_STEP, USED_BYTES_STEP_RATIO } from './member-storage.ts';
export type { Member, MemberStatus, MembershipTimings } from './membership.ts';
export { DEFAULT_TIMINGS, MEMBERS_PROTOCOL, RTT_ALPHA } from './membership.ts';
export {
  generateClusterSecret,
  loadOrCreatePeerKey,
  PEER_KEY_FILE,
  PeerKeyInvalidError,
  parseClusterSecret,
} from './peer-key.ts';
export type { HandleOptions, RequestHandler, RequestOptions } from './rpc.ts';
export { DEFAULT_MAX_FRAME_BYTES } from './rpc.ts';

/** What the Net needs from the daemon. */
export interface NetComponents {
  logger: Logger;
}

/** Net configuration. Only `dataDir`, `zone`, `capacity`, `storeKind` and `apiUrl` are required. */
export interface NetOptions {
  /** Holds `peer.key` (Ed25519, mode 0600, stable peer id) and `members.json` (known members). */
  dataDir: string;
  /** libp2p listen multiaddrs. Default `['/ip4/127.0.0.1/tcp/0']`. */
  listen?: string[];
  /** Multiaddrs announced to other peers instead of `listen` (libp2p `addresses.announce`). Default: none. */
  announce?: string[];
  /** Seed multiaddrs (with /p2p/<id>) joined at start, and retried while no member is up. */
  join?: string[];
  /** Contents of a swarm.key file (see {@link generateClusterSecret}); enables pnet. Without it any libp2p peer with the protocols may connect. */
  clusterSecret?: Uint8Array;
  /** This daemon's zone. */
  zone: string;
  /** Relative capacity announced to the ring. */
  capacity: number;
  /** Store plugin name announced to members. */
  storeKind: string;
  /** HTTP API base URL announced to members. */
  apiUrl: string;
  /** Admin API base URL announced to members (`MemberInfo.adminUrl`); omitted: not announced. */
  adminUrl?: string;
  /**
   * This daemon's storage as its record first announces it (`usedBytes`: its store's estimated size,
   * `limitBytes`: its limit; each omitted when unknown or unlimited). Update with {@link Net.setStorage}.
   */
  storage?: MemberStorage;
  /** Names the members gossip topic `/shoal/<clusterId>/members/1`. Default `default`. */
  clusterId?: string;
  /**
   * Bulk transfers on the TLS-PSK side channel (native AES-GCM, key from the cluster secret), on a
   * TCP port of their own; false keeps them on libp2p streams. Default true. See README.md.
   */
  bulkTls?: boolean;
  /** TCP port of the bulk side channel on the listen hosts. Default 0 (any free port; sent with each transfer). */
  bulkPort?: number;
  /** Default deadline of request(), join() and opening a bulk stream. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Failure detector and membership timings; see {@link DEFAULT_TIMINGS}. */
  timings?: Partial<MembershipTimings>;
  /** Gossip rate and size limits; see {@link DEFAULT_GOSSIP_LIMITS}. */
  gossip?: Partial<GossipLimits>;
  /** Fault injection for tests and benchmarks. Off unless `enabled`. */
  faults?: { enabled: boolean; latencyMs?: LatencyFn };
}

/** Membership events; `detail` is a snapshot of the member after the change. */
export interface NetEvents {
  /** A member became reachable (first contact, or back from suspect/down). */
  'member:up': CustomEvent<Member>;
  /** A member was silent for `downAfterMs`. */
  'member:down': CustomEvent<Member>;
  /** A member's record changed (new addresses, storage, ...), or it became `suspect`. */
  'member:changed': CustomEvent<Member>;
  /**
   * A member is gone from {@link Net.members} for good: it left (announced after its hand-off) or an
   * operator removed it ({@link Net.remove}); `detail` is its last snapshot (`leaving` or `removed` set).
   */
  'member:removed': CustomEvent<Member>;
}

/** The libp2p layer of one daemon. Long-lived: start() once, stop() (or leave()) once. */
export interface Net {
  /** This daemon's peer id (stable across restarts with the same dataDir); empty before start(). */
  readonly peerId: string;
  /** Loads the peer key, starts libp2p, membership and gossip, then joins `options.join` (failures are logged and retried). */
  start(): Promise<void>;
  /** Stops everything; in-flight calls fail. Idempotent. */
  stop(): Promise<void>;
  /** Tells reachable members this daemon is leaving for good, then stops. Data handoff is replication's job. */
  leave(opts?: { timeoutMs?: number }): Promise<void>;
  /** Listen addresses with the /p2p/<peerId> suffix. */
  multiaddrs(): string[];
  /**
   * Removes a dead member for good (`shoal remove`, like `nodetool removenode`): it is dropped from the
   * membership here and, as the removal spreads, on every daemon, which then re-replicate its share.
   * Its peer id is refused afterwards (see departures.ts). The caller checks it is not this daemon and
   * that it is down (unless forced). Rejects with MemberNotFoundError. Resolves to the member as it was.
   */
  remove(peerId: string, opts?: { timeoutMs?: number }): Promise<Member>;
  /** Dials a member's multiaddr and exchanges member lists. Rejects with PeerUnreachableError (e.g. wrong cluster secret) or NetTimeoutError. */
  join(multiaddr: string, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Member>;
  /** Peer ids with an open connection right now. */
  peers(): string[];
  /** Every known member, this daemon included (`self: true`, always `up`). */
  members(): Member[];
  /** One member by peer id. */
  member(peerId: string): Member | undefined;
  /**
   * Sets this daemon's announced storage (used and limit bytes, each omitted when unknown or unlimited).
   * Its record gets a new `updatedAt`, gossiped at once, only when the change is noticeable (the limit
   * changed, or the used size crossed the limit or moved by more than 1 MiB and 1 %, see
   * {@link storageChanged}); returns whether it did. Before start() it only sets what start() announces.
   */
  setStorage(storage: MemberStorage): boolean;

  /** Serves `protocol` (use `/shoal/<name>/<semver>`). A request bigger than `maxFrameBytes` resets its stream; the server keeps running. */
  handle(protocol: string, handler: RequestHandler, opts?: HandleOptions): Promise<void>;
  unhandle(protocol: string): Promise<void>;
  /**
   * One request/response over the long-lived multiplexed RPC channel to the peer (opened once, then reused; see README.md).
   * Rejects with NetTimeoutError after `timeoutMs` (default requestTimeoutMs), NetAbortedError when
   * `signal` fires, PeerUnreachableError, ProtocolError, or RemoteError carrying the handler's code.
   */
  request(peerId: string, protocol: string, req: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>;

  /** Serves a bulk protocol; the handler consumes frames in order and its result goes back to `end()`. */
  handleBulk(protocol: string, handler: BulkHandler, opts?: BulkHandleOptions): Promise<void>;
  /**
   * Opens a flow-controlled bulk stream (at most `windowBytes` unacknowledged, default 512 KiB), on
   * the TLS side channel when both ends allow it, else on a libp2p stream.
   */
  openBulk(peerId: string, protocol: string, opts?: BulkOpenOptions): Promise<BulkSender>;

  /** Gossip message counts since start (all zero before start). */
  gossipCounts(): Readonly<GossipCounts>;
  /** Subscribes to a gossip topic; returns the unsubscribe function. */
  subscribe(topic: string, handler: GossipHandler, opts?: SubscribeOptions): () => void;
  /**
   * Publishes through a token bucket (default 50 msg/s, burst 100, all topics): resolves when the
   * message leaves, so awaiting it is the backpressure. gossipsub has no send backpressure and signs
   * every message: publish few, compact, batched messages. Rejects with MessageTooLargeError over
   * `maxMessageBytes` and GossipQueueFullError past `maxQueued` waiting messages.
   */
  publish(topic: string, data: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;

  /** Stores `value` under `key` (last writer wins by wall clock); resolves to how many peers acknowledged. */
  dhtPut(key: Uint8Array, value: Uint8Array, opts?: { signal?: AbortSignal }): Promise<number>;
  /** The newest value under `key`, or undefined. */
  dhtGet(key: Uint8Array, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>;

  /** Fault injection: refuse and close connections to `peerId` (an in-app partition). Needs `faults.enabled`. */
  blockPeer(peerId: string): Promise<void>;
  /** Fault injection: lift {@link Net.blockPeer}. */
  unblockPeer(peerId: string): void;
  /** Fault injection: emulated one-way latency per zone pair, applied to request() and bulk acks. */
  setLatency(fn: LatencyFn | undefined): void;

  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: ((evt: NetEvents[K]) => void) | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: ((evt: NetEvents[K]) => void) | null,
    options?: EventListenerOptions | boolean,
  ): void;
}

/** Creates the daemon's Net. Nothing happens until start(). */
export function createNet(components: NetComponents, options: NetOptions): Net {
  return new NetImpl(components, options);
}
