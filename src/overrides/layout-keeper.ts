import type { PrivateKey } from '@libp2p/interface';
import { decode, encode } from '@msgpack/msgpack';
import type { Logger } from 'pino';
import { ShoalError } from '../errors/index.ts';
import {
  type Epoch,
  type EpochChain,
  EpochRejectedError,
  hashEpoch,
  type Layout,
  openLayout,
  type RevocationOrder,
  revocationProblem,
} from '../layout/index.ts';
import { StoreEpochLog } from '../layout/store-log.ts';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import type { Member } from '../ring/index.ts';
import type { Store } from '../store/index.ts';
import { ClusterVotes } from './cluster-votes.ts';
import type { LayoutObserver } from './observer.ts';

/** Serves a daemon's cluster epoch chain to peers that are behind or forked. */
export const LAYOUT_PROTOCOL = '/shoal/layout/1.0.0';
const HEAD_KEY = new TextEncoder().encode('/shoal/layout/head');

export interface LayoutKeeperComponents {
  net: Net;
  ring: ClusterRing;
  store: Store;
  peerKey: PrivateKey;
  logger: Logger;
  /** Told of every cluster epoch refused here (metrics). */
  observer?: LayoutObserver;
  /** Admin key ids whose orders may revoke member keys (`--admin-pub`; src/layout/revocation.ts). */
  admins?: ReadonlySet<string>;
}

/**
 * How long a member must have been silent (and held down by the failure detector) before the sequencer
 * proposes to hand its partitions' coordination to their next replicas: twice the detector's 10 s, so a
 * daemon that a loaded machine starves for a few seconds does not make the coordinators flap.
 */
const FAILOVER_AFTER_MS = 20_000;

/** One epoch as `GET /admin/layout` shows it. */
export interface EpochSummary {
  number: number;
  hash: string;
  signer: string;
  ts: number;
  reason: string;
  members: string[];
  /** Members the cluster holds down at this epoch: they coordinate nothing (Layout.coordinatorOf). */
  down: string[];
}

const sameMember = (a: Member | undefined, b: Member) =>
  a !== undefined &&
  a.zone === b.zone &&
  (a.capacity ?? 1) === (b.capacity ?? 1) &&
  (a.state ?? 'up') === (b.state ?? 'up');

/**
 * Which of two forked cluster chains the cluster keeps: the one founded first (epoch 1's `ts`), then
 * the longer, then the lower hash at the fork. A daemon that joins with a chain it founded alone (or
 * one that comes back from a split) thus adopts the cluster's chain, never the other way round, even
 * when its peer id makes it the sequencer: the cluster's history, and the partition chains whose
 * epochs name its epoch numbers as their basis, survive every join.
 */
export function prefersTheirs(theirs: readonly Epoch[], mine: EpochChain, forkAt: number): boolean {
  const a = theirs[0];
  const b = mine.get(1);
  if (b === undefined) return true;
  if (a === undefined) return false;
  if (a.ts !== b.ts) return a.ts < b.ts;
  if (theirs.length !== mine.head.number) return theirs.length > mine.head.number;
  return hashEpoch(theirs[forkAt - 1]) < (mine.hashAt(forkAt) ?? '');
}

/**
 * Records every ring membership change as a signed, hash-chained cluster epoch. The sequencer (the
 * lowest up peer id) proposes: when the members it sees differ from the chain's, it signs and appends
 * an epoch and publishes the new head in the DHT. Every other daemon pulls the sequencer's chain and
 * appends the epochs it lacks; each is verified (signature, authorised signer, parent hash). The
 * sequencer also pulls from one other member per round, so it picks up epochs a previous sequencer
 * appended. When two chains fork (a daemon founded one alone before joining), every daemon keeps the
 * one {@link prefersTheirs} ranks first, logs the fork, and adopts it (verifying every epoch) if it is
 * not its own. Placement still follows the membership protocol; the chain is the signed, queryable
 * history of it, and the basis that partition epochs (per-record overrides) name.
 */
export class LayoutKeeper {
  readonly #c: LayoutKeeperComponents;
  readonly #log: StoreEpochLog;
  readonly #votes: ClusterVotes;
  #pulling: Promise<unknown> = Promise.resolve();
  /** Revocation orders taken here and not yet in the chain (the sequencer proposes them). */
  readonly #revocations = new Map<string, RevocationOrder>();
  #layout!: Layout;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #busy: Promise<void> | undefined;
  #round = 0;

  constructor(components: LayoutKeeperComponents) {
    this.#c = components;
    this.#log = new StoreEpochLog(components.store);
    this.#votes = new ClusterVotes({
      net: components.net,
      store: components.store,
      peerKey: components.peerKey,
      layout: () => this.#layout,
      catchUp: (peer) => this.#pull(peer),
      onRevoke: (order, from) => {
        if (revocationProblem(order, this.#admins) !== undefined) return;
        this.#c.logger.info({ revoke: order.id, from }, 'layout: revocation order forwarded here');
        this.#revocations.set(order.id, order);
        this.kick();
      },
      logger: components.logger,
    });
  }

  async start(): Promise<void> {
    try {
      this.#layout = await openLayout({ log: this.#log, clusterQuorum: true, admins: this.#admins });
    } catch (err) {
      this.#c.logger.error({ err }, 'layout: stored chain does not verify; starting a fresh one');
      await this.#log.reset('cluster');
      this.#layout = await openLayout({ log: this.#log, clusterQuorum: true, admins: this.#admins });
    }
    await this.#votes.start();
    await this.#c.net.handle(LAYOUT_PROTOCOL, async () =>
      encode(this.#layout.cluster.epochs(), { ignoreUndefined: true }),
    );
    this.#running = true;
    this.#timer = setInterval(() => this.kick(), 2000);
    this.#timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    await this.#busy?.catch(() => {});
    await this.#votes.stop();
  }

  get layout(): Layout {
    return this.#layout;
  }

  /** The cluster chain's newest epochs, newest last. */
  recent(limit = 50): EpochSummary[] {
    const chain = this.#layout.cluster;
    return chain.epochs(Math.max(1, chain.head.number - limit + 1)).map((e) => ({
      number: e.number,
      hash: chain.hashAt(e.number) ?? '',
      signer: e.signer,
      ts: e.ts,
      reason: e.change.reason,
      members: [...chain.layoutAt(e.number).members.keys()],
      down: [...chain.layoutAt(e.number).down],
    }));
  }

  /** Reconciles soon (membership changed); one reconciliation at a time. */
  kick(): void {
    if (!this.#running || this.#busy) return;
    this.#busy = this.#reconcile()
      .catch((err: unknown) => this.#c.logger.debug({ err }, 'layout: reconcile failed'))
      .finally(() => {
        this.#busy = undefined;
      });
  }

  async #reconcile(): Promise<void> {
    const self = this.#c.net.peerId;
    const up = this.#upPeers();
    const sequencer = this.#sequencer(up);
    if (sequencer === self) {
      const others = up.filter((p) => p !== self).sort();
      if (others.length > 0) {
        const peer = others[this.#round++ % others.length];
        await this.#pull(peer).catch((err: unknown) => this.#c.logger.debug({ err, peer }, 'layout: pull failed'));
      }
      // The pull may have adopted the cluster's chain, of which this daemon is not (yet) a member.
      if (this.#sequencer(up) === self) await this.#propose();
    } else if (sequencer !== undefined) await this.#pull(sequencer);
  }

  /** Members up and not leaving, this daemon included: the candidates for sequencer. */
  #upPeers(): string[] {
    return this.#c.net
      .members()
      .filter((m) => m.status === 'up' && !m.leaving)
      .map((m) => m.peerId);
  }

  /**
   * The lowest up peer id among the chain's own members (only they may sign its next epoch), or the
   * lowest up peer id when the chain has none yet (founding).
   */
  #sequencer(up: readonly string[]): string | undefined {
    const members = this.#layout.cluster.layout().members;
    const signers = up.filter((id) => members.get(id)?.state === 'up');
    return (signers.length > 0 ? signers : up).slice().sort()[0];
  }

  async #propose(): Promise<void> {
    const wanted = this.#c.ring.ring.members.map((m) => ({
      id: m.id,
      zone: m.zone,
      capacity: m.capacity,
      state: m.state,
    }));
    const chain = this.#layout.cluster.layout();
    const have = chain.members;
    const revoked = [...this.#revocations.values()].filter((o) => !chain.revoked.has(o.id));
    const barred = (id: string) => chain.revoked.has(id) || revoked.some((o) => o.id === id);
    const added = wanted.filter((m) => !barred(m.id) && !sameMember(have.get(m.id), m));
    const removed = [...have.keys()].filter((id) => barred(id) || !wanted.some((m) => m.id === id));
    // Coordinator failover: a member the failure detector holds down hands its partitions' coordination to
    // their next replicas (Layout.coordinatorOf) until it is back; its data placement does not change.
    const now = Date.now();
    const seen = new Map(this.#c.net.members().map((m) => [m.peerId, m]));
    const stays = (id: string) => have.has(id) && !removed.includes(id);
    const gone = (id: string) => {
      const m = seen.get(id);
      return m?.status === 'down' && now - m.lastSeen >= FAILOVER_AFTER_MS;
    };
    const membersDown = [...have.keys()].filter((id) => stays(id) && gone(id) && !chain.down.has(id));
    const membersUp = [...chain.down].filter((id) => stays(id) && seen.get(id)?.status === 'up');
    if (added.length + removed.length + membersDown.length + membersUp.length + revoked.length === 0) return;
    const short = (ids: readonly string[]) => ids.map((id) => id.slice(-8)).join(' ');
    const reason = [
      added.length ? `members: ${added.map((m) => `${m.id.slice(-8)}(${m.state})`).join(' ')}` : '',
      removed.length ? `removed ${removed.length}` : '',
      membersDown.length ? `down: ${short(membersDown)}` : '',
      membersUp.length ? `up again: ${short(membersUp)}` : '',
      revoked.length ? `revoked by the admin key: ${short(revoked.map((o) => o.id))}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const change = {
      reason,
      ...(added.length ? { membersAdded: added } : {}),
      ...(removed.length ? { membersRemoved: removed } : {}),
      ...(membersDown.length ? { membersDown } : {}),
      ...(membersUp.length ? { membersUp } : {}),
      ...(revoked.length ? { revoked } : {}),
    };
    const own = await this.#layout.cluster.propose(change, this.#c.peerKey);
    // After the founding epoch, a majority of the members must co-sign (src/layout/quorum.ts): no fork.
    const epoch = have.size === 0 ? own : await this.#votes.propose(own);
    if (epoch === undefined) return; // no majority now: retried next round
    await this.#layout.append(epoch);
    await this.#applied(epoch);
    const adopted = epoch.signer !== own.signer || epoch.ts !== own.ts;
    this.#c.logger.info(
      { epoch: epoch.number, reason: epoch.change.reason, adopted },
      adopted ? 'layout: completed a cluster epoch an earlier proposer left' : 'layout: cluster epoch appended',
    );
    const head = this.#layout.cluster.head;
    this.#c.net
      .dhtPut(HEAD_KEY, encode({ number: head.number, hash: head.hash, signer: epoch.signer }))
      .catch(() => {});
  }

  get #admins(): ReadonlySet<string> {
    return this.#c.admins ?? new Set();
  }

  /**
   * Takes an admin's order to revoke a member key (`POST /admin/revocations`): the sequencer puts it into the
   * next cluster epoch; another daemon hands it to the sequencer. Throws REVOCATION_REFUSED for an order that
   * does not verify under this cluster's admin key.
   */
  async revoke(order: RevocationOrder, signal?: AbortSignal): Promise<void> {
    const problem = revocationProblem(order, this.#admins);
    if (problem !== undefined) throw new ShoalError('REVOCATION_REFUSED', problem);
    if (this.#layout.cluster.layout().revoked.has(order.id)) return;
    this.#revocations.set(order.id, order);
    const up = this.#upPeers();
    const sequencer = this.#sequencer(up);
    if (sequencer === undefined || sequencer === this.#c.net.peerId) this.kick();
    else await this.#votes.forwardRevocation(sequencer, order, signal);
  }

  /** After a cluster epoch took effect: a key it revoked is refused by the net for good (and its order is done). */
  async #applied(epoch: Epoch): Promise<void> {
    for (const o of epoch.change.revoked ?? []) {
      this.#revocations.delete(o.id);
      if (o.id === this.#c.net.peerId) {
        this.#c.logger.error({ epoch: epoch.number }, "layout: the admin key revoked this daemon's key");
        continue;
      }
      if (this.#c.net.member(o.id) === undefined) continue;
      await this.#c.net
        .remove(o.id)
        .catch((err: unknown) => this.#c.logger.warn({ err, peer: o.id }, 'layout: could not drop a revoked member'));
      this.#c.logger.warn(
        { peer: o.id, epoch: epoch.number },
        'layout: member key revoked by the admin key; refused from now on',
      );
    }
  }

  /** Appends the cluster epochs `peer` holds beyond this daemon's head (a peer that showed a newer layout). */
  catchUpFrom(peer: string): Promise<void> {
    return this.#pull(peer);
  }

  /** One pull at a time: the keeper's rounds and the votes' catch-ups would otherwise append the same epochs twice. */
  #pull(peer: string): Promise<void> {
    const run = this.#pulling.then(() => this.#pullNow(peer));
    this.#pulling = run.catch(() => undefined);
    return run;
  }

  async #pullNow(peer: string): Promise<void> {
    const theirs = decode(
      await this.#c.net.request(peer, LAYOUT_PROTOCOL, new Uint8Array(0), { timeoutMs: 5000 }),
    ) as Epoch[];
    const mine = this.#layout.cluster;
    const common = Math.min(mine.head.number, theirs.length);
    const forkAt = Array.from({ length: common }, (_, i) => i + 1).find((n) => mine.get(n)?.sig !== theirs[n - 1].sig);
    if (forkAt !== undefined) {
      if (!prefersTheirs(theirs, mine, forkAt)) {
        this.#c.logger.info({ forkAt, peer }, 'layout: peer holds a forked cluster chain; keeping the local one');
        return;
      }
      this.#c.logger.warn(
        { forkAt, peer },
        'layout: local chain forked from the cluster chain; adopting the cluster chain',
      );
      await this.#log.reset('cluster');
      this.#layout = await this.#reopen();
    }
    for (const epoch of theirs.slice(this.#layout.cluster.head.number)) {
      try {
        await this.#layout.append(epoch);
        await this.#applied(epoch);
      } catch (err) {
        if (!(err instanceof EpochRejectedError)) throw err;
        this.#c.observer?.epochRejected('cluster', err.reason);
        this.#c.logger.warn({ err, peer, reason: err.reason }, 'layout: cluster epoch from peer refused');
        return;
      }
    }
  }

  /** Reloads the layout after the cluster chain was reset; partition chains that no longer verify are dropped. */
  async #reopen(): Promise<Layout> {
    try {
      return await openLayout({ log: this.#log, clusterQuorum: true, admins: this.#admins });
    } catch (err) {
      this.#c.logger.error({ err }, 'layout: partition chains do not verify on the adopted chain; dropping them');
      for (const scope of await this.#log.scopes()) if (scope !== 'cluster') await this.#log.reset(scope);
      return openLayout({ log: this.#log, clusterQuorum: true, admins: this.#admins });
    }
  }
}
