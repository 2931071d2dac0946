import type { Connection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Logger } from 'pino';
import { ShoalError } from '../errors/index.ts';
import {
  type BulkHandleOptions,
  type BulkHandler,
  type BulkOpenOptions,
  type BulkSender,
  handleBulk,
  openBulk,
} from './bulk.ts';
import { BulkTls, ipOf } from './bulk-tls.ts';
import { callScope } from './call.ts';
import type { NetCore } from './core.ts';
import { dhtGet, dhtPut } from './dht.ts';
import { NetAbortedError, NetNotRunningError, PeerUnreachableError } from './errors.ts';
import { Faults, type LatencyFn } from './faults.ts';
import {
  DEFAULT_GOSSIP_LIMITS,
  Gossip,
  type GossipCounts,
  type GossipHandler,
  type SubscribeOptions,
} from './gossip.ts';
import type { Net, NetComponents, NetEvents, NetOptions } from './index.ts';
import { assembleLibp2p, type ShoalLibp2p } from './libp2p.ts';
import type { MemberStorage } from './member-storage.ts';
import { MembersFile } from './members-store.ts';
import { DEFAULT_TIMINGS, type Member, Membership, type MembershipTimings } from './membership.ts';
import { clusterKeyOf, loadOrCreatePeerKey, parseClusterSecret } from './peer-key.ts';
import { type HandleOptions, type RequestHandler, type RequestOptions, Rpc } from './rpc.ts';

type Listener<K extends keyof NetEvents> = (evt: NetEvents[K]) => void;

/** The Net implementation; see {@link Net} in index.ts for the contract. */
export class NetImpl implements Net {
  readonly #events = new EventTarget();
  readonly #logger: Logger;
  readonly #options: NetOptions;
  readonly #faults: Faults;
  readonly #timings: MembershipTimings;
  readonly #requestTimeoutMs: number;
  #libp2p: ShoalLibp2p | undefined;
  #core: NetCore | undefined;
  #rpc: Rpc | undefined;
  #gossip: Gossip | undefined;
  #membership: Membership | undefined;
  #file: MembersFile | undefined;
  #bulkTls: BulkTls | undefined;
  #seedTimer: NodeJS.Timeout | undefined;
  #peerId = '';
  #storage: MemberStorage;

  constructor(components: NetComponents, options: NetOptions) {
    this.#logger = components.logger;
    this.#options = options;
    this.#faults = new Faults(options.faults?.enabled === true, options.faults?.latencyMs);
    this.#timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#storage = { ...options.storage };
  }

  get peerId(): string {
    return this.#peerId;
  }

  async start(): Promise<void> {
    if (this.#libp2p !== undefined) return;
    const o = this.#options;
    const privateKey = await loadOrCreatePeerKey(o.dataDir);
    const gossipLimits = { ...DEFAULT_GOSSIP_LIMITS, ...o.gossip };
    const listen = o.listen ?? ['/ip4/127.0.0.1/tcp/0'];
    // the bulk side channel listens on the libp2p listen hosts; the port travels with every offer
    const bulkTls =
      o.bulkTls === false
        ? undefined
        : new BulkTls(
            { logger: this.#logger },
            {
              hosts: listen.map(ipOf).filter((h) => h !== undefined),
              port: o.bulkPort ?? 0,
              clusterKey: o.clusterSecret === undefined ? undefined : clusterKeyOf(o.clusterSecret),
            },
          );
    const libp2p = await assembleLibp2p({
      privateKey,
      listen,
      announce: o.announce,
      clusterSecret: o.clusterSecret === undefined ? undefined : parseClusterSecret(o.clusterSecret),
      gater: this.#faults.gater(),
      gossipMaxMessageBytes: gossipLimits.maxMessageBytes,
    });
    this.#peerId = libp2p.peerId.toString();
    const core: NetCore = {
      libp2p,
      logger: this.#logger,
      faults: this.#faults,
      selfZone: o.zone,
      bulkTls,
      zoneOf: (peerId) => this.#membership?.get(peerId)?.zone,
    };
    try {
      await libp2p.start();
    } catch (err) {
      throw new ShoalError(
        'CONFIG_INVALID',
        `cannot start libp2p on ${(o.listen ?? []).join(', ') || 'the default address'}`,
        {
          cause: err,
        },
      );
    }
    try {
      await bulkTls?.start();
    } catch (err) {
      await libp2p.stop();
      throw err;
    }
    this.#bulkTls = bulkTls;
    this.#libp2p = libp2p;
    this.#core = core;
    this.#rpc = new Rpc(core, this.#requestTimeoutMs);
    this.#gossip = new Gossip(core, gossipLimits);
    this.#gossip.start();
    this.#file = new MembersFile(o.dataDir, this.#logger);
    const known = await this.#file.load();
    const now = Date.now();
    this.#membership = new Membership({
      core,
      rpc: this.#rpc,
      gossip: this.#gossip,
      events: this.#events,
      timings: this.#timings,
      topic: `/shoal/${o.clusterId ?? 'default'}/members/1`,
      file: this.#file,
      self: {
        peerId: this.#peerId,
        zone: o.zone,
        capacity: o.capacity,
        storeKind: o.storeKind,
        apiUrl: o.apiUrl,
        ...(o.adminUrl === undefined ? {} : { adminUrl: o.adminUrl }),
        multiaddrs: this.multiaddrs(),
        joinedAt: this.#file.joinedAt,
        updatedAt: now,
        ...definedStorage(this.#storage),
      },
    });
    await this.#membership.start(known);
    await this.#file.flush(true);
    this.#logger.info({ peerId: this.#peerId, multiaddrs: this.multiaddrs(), bulkPort: bulkTls?.port }, 'net started');
    await this.#joinSeeds();
    if ((o.join ?? []).length > 0) {
      this.#seedTimer = setInterval(() => void this.#joinSeeds(), this.#timings.pingIntervalMs * 5);
      this.#seedTimer.unref();
    }
  }

  async #joinSeeds(): Promise<void> {
    const seeds = this.#options.join ?? [];
    if (seeds.length === 0 || this.members().some((m) => !m.self && m.status === 'up')) return;
    const results = await Promise.allSettled(seeds.map((s) => this.join(s)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.#logger.warn({ err: r.reason, seed: seeds[i] }, 'cannot join seed');
    });
  }

  async stop(): Promise<void> {
    const libp2p = this.#libp2p;
    if (libp2p === undefined) return;
    clearInterval(this.#seedTimer);
    this.#membership?.stop();
    this.#gossip?.stop();
    await this.#file?.flush().catch((err: unknown) => this.#logger.warn({ err }, 'cannot save members file'));
    this.#libp2p = undefined;
    this.#core = undefined;
    this.#membership = undefined;
    this.#rpc = undefined;
    this.#gossip = undefined;
    await this.#bulkTls?.stop();
    this.#bulkTls = undefined;
    await libp2p.stop();
    this.#logger.info({ peerId: this.#peerId }, 'net stopped');
  }

  async leave(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.#member().leave(opts.timeoutMs ?? this.#requestTimeoutMs);
    await this.stop();
  }

  multiaddrs(): string[] {
    const libp2p = this.#libp2p;
    if (libp2p === undefined) return [];
    const suffix = `/p2p/${this.#peerId}`;
    return libp2p.getMultiaddrs().map((m) => {
      const s = m.toString();
      return s.endsWith(suffix) ? s : s + suffix;
    });
  }

  async join(address: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Member> {
    const libp2p = this.#running();
    const scope = callScope(opts.timeoutMs ?? this.#requestTimeoutMs, opts.signal, `join ${address}`);
    try {
      let conn: Connection;
      try {
        conn = await libp2p.dial(multiaddr(address), { signal: scope.signal });
      } catch (err) {
        const e = scope.fail(err, address, 'cannot join');
        if (e instanceof NetAbortedError) throw e;
        // a different cluster secret garbles the handshake, which then hangs until the deadline
        throw new PeerUnreachableError(address, `cannot connect to ${address} (down, or another cluster secret)`, {
          cause: e,
        });
      }
      return await this.#member().announce(conn.remotePeer.toString(), scope.signal);
    } catch (err) {
      if (err instanceof PeerUnreachableError || err instanceof NetAbortedError) throw err;
      throw scope.fail(err, address, 'cannot join');
    } finally {
      scope.dispose();
    }
  }

  peers(): string[] {
    return this.#libp2p?.getPeers().map(String) ?? [];
  }

  remove(peerId: string, opts: { timeoutMs?: number } = {}): Promise<Member> {
    return this.#member().remove(peerId, opts.timeoutMs ?? this.#requestTimeoutMs);
  }

  members(): Member[] {
    return this.#membership?.members() ?? [];
  }

  setStorage(storage: MemberStorage): boolean {
    this.#storage = { ...storage };
    return this.#membership?.setStorage(this.#storage) ?? false;
  }

  member(peerId: string): Member | undefined {
    return this.#membership?.get(peerId);
  }

  handle(protocol: string, handler: RequestHandler, opts?: HandleOptions): Promise<void> {
    this.#running();
    return this.#rpc!.handle(protocol, handler, opts);
  }

  async unhandle(protocol: string): Promise<void> {
    const libp2p = this.#running();
    this.#rpc?.unhandle(protocol);
    await libp2p.unhandle(protocol); // bulk protocols are libp2p stream protocols
  }

  request(peerId: string, protocol: string, req: Uint8Array, opts?: RequestOptions): Promise<Uint8Array> {
    if (this.#rpc === undefined || this.#libp2p === undefined) return Promise.reject(new NetNotRunningError());
    return this.#rpc.request(peerId, protocol, req, opts);
  }

  handleBulk(protocol: string, handler: BulkHandler, opts?: BulkHandleOptions): Promise<void> {
    this.#running();
    return handleBulk(this.#core!, protocol, handler, opts);
  }

  openBulk(peerId: string, protocol: string, opts?: BulkOpenOptions): Promise<BulkSender> {
    if (this.#core === undefined) return Promise.reject(new NetNotRunningError());
    return openBulk(this.#core, peerId, protocol, this.#requestTimeoutMs, opts);
  }

  gossipCounts(): Readonly<GossipCounts> {
    return this.#gossip?.counts ?? NO_GOSSIP;
  }

  subscribe(topic: string, handler: GossipHandler, opts?: SubscribeOptions): () => void {
    this.#running();
    return this.#gossip!.subscribe(topic, handler, opts);
  }

  publish(topic: string, data: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void> {
    if (this.#gossip === undefined || this.#libp2p === undefined) return Promise.reject(new NetNotRunningError());
    return this.#gossip.publish(topic, data, opts);
  }

  dhtPut(key: Uint8Array, value: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (this.#libp2p === undefined) return Promise.reject(new NetNotRunningError());
    return dhtPut(this.#libp2p.services.dht, key, value, opts);
  }

  dhtGet(key: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
    if (this.#libp2p === undefined) return Promise.reject(new NetNotRunningError());
    return dhtGet(this.#libp2p.services.dht, key, opts);
  }

  async blockPeer(peerId: string): Promise<void> {
    this.#faults.block(peerId);
    this.#bulkTls?.dropPeer(peerId);
    const libp2p = this.#libp2p;
    if (libp2p === undefined) return;
    await Promise.allSettled(
      libp2p
        .getConnections()
        .filter((c) => c.remotePeer.toString() === peerId)
        .map((c) => c.close()),
    );
  }

  unblockPeer(peerId: string): void {
    this.#faults.unblock(peerId);
  }

  setLatency(fn: LatencyFn | undefined): void {
    this.#faults.setLatency(fn);
  }

  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: Listener<K> | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    this.#events.addEventListener(type, listener as EventListener | null, options);
  }

  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: Listener<K> | null,
    options?: EventListenerOptions | boolean,
  ): void {
    this.#events.removeEventListener(type, listener as EventListener | null, options);
  }

  #running(): ShoalLibp2p {
    if (this.#libp2p === undefined) throw new NetNotRunningError();
    return this.#libp2p;
  }

  #member(): Membership {
    if (this.#membership === undefined || this.#libp2p === undefined) throw new NetNotRunningError();
    return this.#membership;
  }
}

/** The storage fields that are set (a record omits unknown ones). */
const NO_GOSSIP: Readonly<GossipCounts> = Object.freeze({ sent: 0, received: 0, rejected: 0, dropped: 0 });

function definedStorage(s: MemberStorage): MemberStorage {
  const out: MemberStorage = {};
  if (s.usedBytes !== undefined) out.usedBytes = s.usedBytes;
  if (s.limitBytes !== undefined) out.limitBytes = s.limitBytes;
  return out;
}
