import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { NetCore, PeerInfo } from './core.ts';
import { Departures, isDeparture } from './departures.ts';
import { MemberNotFoundError, MemberRemovedError } from './errors.ts';
import type { Gossip } from './gossip.ts';
import { decodeMembers, encodeMembers, type MemberInfo } from './member-codec.ts';
import { type MemberStorage, storageChanged } from './member-storage.ts';
import type { MembersFile } from './members-store.ts';
import type { Rpc } from './rpc.ts';

export { type MemberStorage, storageChanged, USED_BYTES_STEP, USED_BYTES_STEP_RATIO } from './member-storage.ts';

/** Local view of a member's liveness. */
export type MemberStatus = 'up' | 'suspect' | 'down';

/** A cluster member as this daemon sees it. */
export interface Member extends MemberInfo {
  status: MemberStatus;
  /** Last time (ms) this daemon heard from the member directly (ping, announce, signed gossip). */
  lastSeen: number;
  /** True for this daemon's own record. */
  self: boolean;
  /**
   * Smoothed round-trip time of the failure detector's pings to the member, ms (EWMA, {@link RTT_ALPHA});
   * undefined before the first answered ping and for this daemon's own record.
   */
  rttMs?: number;
}

/**
 * Weight of a new ping in the smoothed RTT. libp2p's ping reports whole milliseconds (Date.now), so one
 * sub-millisecond RTT reads 0 or 1; the average of many readings still converges on the true RTT.
 */
export const RTT_ALPHA = 0.2;

/** Failure detector and membership timings. */
export interface MembershipTimings {
  /** How often every known member is pinged. Default 1000 ms. */
  pingIntervalMs: number;
  /** One ping's deadline. Default 1000 ms. */
  pingTimeoutMs: number;
  /** Not heard from for this long: `suspect`. Default 3000 ms. */
  suspectAfterMs: number;
  /** Not heard from for this long: `down`. Default 10 000 ms. */
  downAfterMs: number;
  /** Longest pause between re-dials of a down member (exponential backoff from pingIntervalMs). Default 30 000 ms. */
  maxRedialMs: number;
  /** How often this daemon gossips its own record on the members topic. Default 5000 ms. */
  gossipIntervalMs: number;
}

export const DEFAULT_TIMINGS: MembershipTimings = {
  pingIntervalMs: 1000,
  pingTimeoutMs: 1000,
  suspectAfterMs: 3000,
  downAfterMs: 10_000,
  maxRedialMs: 30_000,
  gossipIntervalMs: 5000,
};

export const MEMBERS_PROTOCOL = '/shoal/members/1.0.0';

interface Entry {
  info: MemberInfo;
  status: MemberStatus;
  lastSeen: number;
  nextAttempt: number;
  backoffMs: number;
  pinging: boolean;
  rttMs?: number;
}

export interface MembershipInit {
  core: NetCore;
  rpc: Rpc;
  gossip: Gossip;
  events: EventTarget;
  timings: MembershipTimings;
  topic: string;
  file: MembersFile;
  self: MemberInfo;
}

/**
 * Membership and failure detection. Members learn each other transitively: on every new connection
 * both sides exchange their full member lists over {@link MEMBERS_PROTOCOL}, and dial members they
 * did not know; each daemon also gossips its own signed record every gossipIntervalMs.
 *
 * Failure detector (timeout-based, chosen over phi-accrual for predictability in small clusters and
 * tests): every member is pinged each pingIntervalMs; any direct sign of life updates `lastSeen`.
 * Status is a function of silence: `up`, then `suspect` after suspectAfterMs, `down` after
 * downAfterMs; back to `up` on the next sign of life. Down members are re-dialled with exponential
 * backoff (up to maxRedialMs).
 *
 * Departures ({@link Departures}): a member that announces `leaving` (after its hand-off, as it exits)
 * or that an operator removes ({@link Membership.remove}) is dropped from the list at once, on every
 * daemon as the record spreads, and its ring share goes to the others.
 */
export class Membership {
  readonly #init: MembershipInit;
  readonly #entries = new Map<string, Entry>();
  readonly #announcing = new Set<string>();
  readonly #departures = new Departures();
  #selfRemovedLogged = false;
  #self: MemberInfo;
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;
  #running = false;

  constructor(init: MembershipInit) {
    this.#init = init;
    this.#self = init.self;
  }

  get self(): MemberInfo {
    return this.#self;
  }

  async start(loaded: MemberInfo[]): Promise<void> {
    const { core, rpc, gossip, timings, topic, file } = this.#init;
    this.#running = true;
    file.track(() => [...[...this.#entries.values()].map((e) => e.info), ...this.#departures.list()]);
    for (const info of loaded) {
      if (isDeparture(info)) this.#departures.note(info);
      else if (info.peerId !== this.#self.peerId) this.#add(info, 'down', 0);
    }
    await rpc.handle(MEMBERS_PROTOCOL, async (req, from) => this.#onAnnounce(req, from), {
      maxFrameBytes: 8 * 1024 * 1024,
    });
    this.#unsubscribe = gossip.subscribe(topic, (data, from) => this.#onGossip(data, from), {
      validate: (data, from) => {
        try {
          return decodeMembers(data).self.peerId === from.peerId;
        } catch {
          return false;
        }
      },
    });
    core.libp2p.addEventListener('peer:connect', this.#onConnect);
    this.#timers.push(setInterval(() => this.#tick(), timings.pingIntervalMs));
    this.#timers.push(setInterval(() => this.#gossipSelf(), timings.gossipIntervalMs));
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#unsubscribe?.();
    this.#init.core.libp2p.removeEventListener('peer:connect', this.#onConnect);
  }

  members(): Member[] {
    const out: Member[] = [{ ...this.#self, status: 'up', lastSeen: Date.now(), self: true }];
    for (const e of this.#entries.values()) out.push(snapshot(e));
    return out;
  }

  get(peerId: string): Member | undefined {
    if (peerId === this.#self.peerId) return this.members()[0];
    const e = this.#entries.get(peerId);
    return e === undefined ? undefined : snapshot(e);
  }

  /** Exchanges member lists with a connected (or dialable) peer; resolves to the peer's record. */
  async announce(peerId: string, signal?: AbortSignal): Promise<Member> {
    const { rpc } = this.#init;
    const res = await rpc.request(peerId, MEMBERS_PROTOCOL, this.#message(), { signal });
    const msg = decodeMembers(res);
    this.#merge(msg.self, true);
    for (const info of msg.known) this.#merge(info, false);
    const member = this.get(msg.self.peerId);
    const gone = this.#departures.get(msg.self.peerId);
    if (member === undefined)
      throw gone?.removed
        ? new MemberRemovedError(gone.peerId)
        : new MemberNotFoundError(msg.self.peerId, ' (it left)');
    return member;
  }

  /** A departed member's last record (`leaving` or `removed`), if it is one. */
  departure(peerId: string): MemberInfo | undefined {
    return this.#departures.get(peerId);
  }

  /**
   * Removes a member for good (an operator's `shoal remove`): writes a `removed` record on its behalf,
   * drops it here, and tells every member that is up (bounded by timeoutMs); members that are not learn
   * it on their next exchange. The caller checks that the member is not this daemon and, unless forced,
   * is down. Returns the removed member as it was.
   */
  async remove(peerId: string, timeoutMs: number): Promise<Member> {
    const e = this.#entries.get(peerId);
    if (e === undefined) throw new MemberNotFoundError(peerId);
    const before = snapshot(e);
    this.#depart({ ...e.info, removed: true, updatedAt: Math.max(Date.now(), e.info.updatedAt + 1) });
    const signal = AbortSignal.timeout(timeoutMs);
    const targets = [...this.#entries.values()].filter((x) => x.status === 'up').map((x) => x.info.peerId);
    await Promise.allSettled(targets.map((p) => this.announce(p, signal)));
    return before;
  }

  /**
   * Updates this daemon's storage fields; a noticeable change ({@link storageChanged}) gets a new
   * `updatedAt` and is gossiped at once. Returns whether the record changed.
   */
  setStorage(storage: MemberStorage): boolean {
    if (!storageChanged(this.#self, storage)) return false;
    const { usedBytes: _u, limitBytes: _l, ...rest } = this.#self;
    const next: MemberInfo = { ...rest, updatedAt: Math.max(Date.now(), this.#self.updatedAt + 1) };
    if (storage.usedBytes !== undefined) next.usedBytes = storage.usedBytes;
    if (storage.limitBytes !== undefined) next.limitBytes = storage.limitBytes;
    this.#self = next;
    if (this.#running) this.#gossipSelf();
    return true;
  }

  /** Marks this daemon as leaving and tells every reachable member (best effort, bounded by timeoutMs). */
  async leave(timeoutMs: number): Promise<void> {
    this.#self = { ...this.#self, leaving: true, updatedAt: Math.max(Date.now(), this.#self.updatedAt + 1) };
    const signal = AbortSignal.timeout(timeoutMs);
    const targets = [...this.#entries.values()].filter((e) => e.status !== 'down').map((e) => e.info.peerId);
    await Promise.allSettled([
      this.#init.gossip.publish(this.#init.topic, encodeMembers({ self: this.#self, known: [] }), { signal }),
      ...targets.map((p) => this.announce(p, signal)),
    ]);
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.#announceBackground(evt.detail.toString());
  };

  #announceBackground(peerId: string): void {
    if (!this.#running || this.#announcing.has(peerId) || this.#init.core.faults.isBlocked(peerId)) return;
    this.#announcing.add(peerId);
    this.announce(peerId)
      .catch((err: unknown) => this.#init.core.logger.debug({ err, peerId }, 'membership announce failed'))
      .finally(() => this.#announcing.delete(peerId));
  }

  #message(): Uint8Array {
    const known = [...this.#entries.values()].map((e) => e.info);
    return encodeMembers({ self: this.#self, known: [...known, ...this.#departures.list()] });
  }

  #onAnnounce(req: Uint8Array, from: PeerInfo): Promise<Uint8Array> {
    const msg = decodeMembers(req);
    if (msg.self.peerId === from.peerId) this.#merge(msg.self, true);
    for (const info of msg.known) this.#merge(info, false);
    return Promise.resolve(this.#message());
  }

  #onGossip(data: Uint8Array, from: PeerInfo): void {
    const msg = decodeMembers(data);
    if (msg.self.peerId === from.peerId) this.#merge(msg.self, true);
  }

  #gossipSelf(): void {
    const { gossip, topic, core } = this.#init;
    gossip
      .publish(topic, encodeMembers({ self: this.#self, known: [] }))
      .catch((err: unknown) => core.logger.debug({ err }, 'membership gossip failed'));
  }

  #add(info: MemberInfo, status: MemberStatus, lastSeen: number): Entry {
    const e: Entry = {
      info,
      status,
      lastSeen,
      nextAttempt: 0,
      backoffMs: this.#init.timings.pingIntervalMs,
      pinging: false,
    };
    this.#entries.set(info.peerId, e);
    this.#rememberAddrs(info);
    return e;
  }

  #rememberAddrs(info: MemberInfo): void {
    try {
      const addrs = info.multiaddrs.map((m) => multiaddr(m).decapsulateCode(421));
      this.#init.core.libp2p.peerStore
        .merge(peerIdFromString(info.peerId), { multiaddrs: addrs })
        .catch((err: unknown) => this.#init.core.logger.debug({ err }, 'peer store merge failed'));
    } catch (err) {
      this.#init.core.logger.debug({ err, peerId: info.peerId }, 'member has malformed multiaddrs');
    }
  }

  /** Merges a record; `direct` means it came from the member itself (a sign of life). */
  #merge(info: MemberInfo, direct: boolean): void {
    if (info.peerId === this.#self.peerId) {
      if (info.removed === true && !this.#selfRemovedLogged) {
        this.#selfRemovedLogged = true;
        this.#init.core.logger.error(
          { peerId: info.peerId },
          'this daemon was removed from the cluster (shoal remove): the others ignore it; stop it, and start it with a fresh data directory to rejoin',
        );
      }
      return;
    }
    if (isDeparture(info)) {
      this.#depart(info);
      return;
    }
    if (this.#departures.blocks(info)) return;
    const now = Date.now();
    const existing = this.#entries.get(info.peerId);
    if (existing === undefined) {
      const e = this.#add(info, direct ? 'up' : 'suspect', now);
      this.#init.file.changed();
      this.#emit(direct ? 'member:up' : 'member:changed', e);
      if (!direct) this.#announceBackground(info.peerId);
      return;
    }
    if (info.updatedAt > existing.info.updatedAt) {
      existing.info = info;
      this.#rememberAddrs(info);
      this.#init.file.changed();
      if (!direct || existing.status === 'up') this.#emit('member:changed', existing);
    }
    if (direct) this.#alive(existing);
  }

  /** Takes in a departure record: the member is dropped (once) and `member:removed` fires. */
  #depart(info: MemberInfo): void {
    if (!this.#departures.note(info)) return;
    const e = this.#entries.get(info.peerId);
    this.#init.file.changed();
    if (e === undefined) return;
    this.#entries.delete(info.peerId);
    const why = info.removed === true ? 'removed' : 'left';
    this.#init.core.logger.info({ peerId: info.peerId, zone: info.zone }, `member ${why} the cluster`);
    this.#emit('member:removed', { ...e, info });
  }

  #alive(e: Entry): void {
    e.lastSeen = Date.now();
    e.backoffMs = this.#init.timings.pingIntervalMs;
    e.nextAttempt = 0;
    if (e.status !== 'up') {
      e.status = 'up';
      this.#emit('member:up', e);
    }
  }

  #tick(): void {
    const { timings, core } = this.#init;
    const now = Date.now();
    for (const e of this.#entries.values()) {
      const silence = now - e.lastSeen;
      if (e.status !== 'down' && silence > timings.downAfterMs) {
        e.status = 'down';
        this.#emit('member:down', e);
      } else if (e.status === 'up' && silence > timings.suspectAfterMs) {
        e.status = 'suspect';
        this.#emit('member:changed', e);
      }
      if (e.pinging || now < e.nextAttempt) continue;
      if (core.faults.isBlocked(e.info.peerId)) continue;
      e.pinging = true;
      core.libp2p.services.ping
        .ping(peerIdFromString(e.info.peerId), { signal: AbortSignal.timeout(timings.pingTimeoutMs) })
        .then(
          (rtt) => {
            // RTT from pings the detector sends anyway: no extra traffic.
            if (Number.isFinite(rtt) && rtt >= 0)
              e.rttMs = e.rttMs === undefined ? rtt : e.rttMs + RTT_ALPHA * (rtt - e.rttMs);
            this.#alive(e);
          },
          () => {
            if (e.status === 'down') {
              e.nextAttempt = Date.now() + e.backoffMs;
              e.backoffMs = Math.min(e.backoffMs * 2, timings.maxRedialMs);
            }
          },
        )
        .finally(() => {
          e.pinging = false;
        });
    }
  }

  #emit(type: 'member:up' | 'member:down' | 'member:changed' | 'member:removed', e: Entry): void {
    if (!this.#running) return;
    this.#init.events.dispatchEvent(new CustomEvent(type, { detail: snapshot(e) }));
  }
}

function snapshot(e: Entry): Member {
  const m: Member = {
    ...e.info,
    multiaddrs: [...e.info.multiaddrs],
    status: e.status,
    lastSeen: e.lastSeen,
    self: false,
  };
  if (e.rttMs !== undefined) m.rttMs = e.rttMs;
  return m;
}
