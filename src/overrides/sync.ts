import type { Logger } from 'pino';
import { throwIfAborted } from '../errors/index.ts';
import { type Epoch, EpochRejectedError, type Layout, type Scope } from '../layout/index.ts';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import { KeyedMutex } from '../replication/keyed-mutex.ts';
import type { OverrideEntry } from '../replication/override-table.ts';
import { appendEpochs } from './epoch-intake.ts';
import { type ForkRecord, forkPoint, forkRecord, prefersTheirs } from './forks.ts';
import { type LayoutObserver, SILENT_LAYOUT_OBSERVER } from './observer.ts';
import { Quarantine } from './quarantine.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  MAX_EPOCHS_PER_ANSWER,
  OVERRIDES_PROTOCOL,
  type OverrideRequest,
  type OverrideResponse,
  type WireHead,
} from './wire.ts';

export interface OverrideSyncComponents {
  net: Net;
  ring: ClusterRing;
  /** The daemon's layout (the layout keeper may replace it when it adopts the cluster's chain). */
  layout: () => Layout;
  logger: Logger;
  /** Called with the epochs just appended to a partition chain (the old copies of their keys are being released). */
  onChange?: (fresh: readonly Epoch[]) => void;
  /** Told of every refused epoch and every fork (metrics). */
  observer?: LayoutObserver;
}

export interface OverrideSyncOptions {
  /** Pause between two pulls of partition heads from a peer (one peer per round, in turn). Default 5000 ms. */
  pullIntervalMs?: number;
  /** Deadline of one call to a peer. Default 5000 ms. */
  requestTimeoutMs?: number;
}

/** Forks kept as evidence ({@link OverrideSync.forks}). */
const MAX_FORKS_KEPT = 100;

const partitionOf = (scope: Scope) => Number(scope.slice('partition:'.length));

/**
 * Keeps this daemon's partition chains (and so its overrides) in step with the cluster's:
 * - **push**: a partition coordinator that appended an epoch pushes it to every up member
 *   ({@link push}); the receiver verifies and appends it ({@link apply}), fetching a gap from the
 *   sender first;
 * - **pull**: every `pullIntervalMs` it asks one up member (in turn) for its partition heads and fetches
 *   what it lacks, so a daemon that missed a push, was down, or joined later converges within a few
 *   rounds;
 * - **on demand**: the holder directory fetches a chain named by a DHT entry ({@link fetch}).
 * Every epoch is verified by the layout (signature, authorised signer = the partition's ring primary at
 * the epoch's basis, parent hash) before it changes a placement; a rejected one is logged and ignored.
 * After a chain changes, the overrides of its partition are rebuilt into the ring's override table.
 */
export class OverrideSync {
  readonly #c: OverrideSyncComponents;
  readonly #pullIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #mutex = new KeyedMutex();
  readonly #forks: ForkRecord[] = [];
  readonly #observer: LayoutObserver;
  /** Signers caught equivocating: none of their epochs is taken here (see quarantine.ts). */
  readonly quarantine = new Quarantine();
  #layoutSeen: Layout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #round = 0;
  #busy: Promise<void> | undefined;
  #ac = new AbortController();
  /** Pushes this daemon could not apply yet (its cluster chain lagged): scope → pusher, retried soon. */
  readonly #pending = new Map<Scope, { peer: string; until: number }>();

  constructor(components: OverrideSyncComponents, options: OverrideSyncOptions = {}) {
    this.#c = components;
    this.#observer = components.observer ?? SILENT_LAYOUT_OBSERVER;
    this.#pullIntervalMs = options.pullIntervalMs ?? 5000;
    this.#timeoutMs = options.requestTimeoutMs ?? 5000;
  }

  start(): void {
    this.#ac = new AbortController();
    this.#checkLayout();
    this.#timer = setInterval(() => this.pullSoon(), this.#pullIntervalMs);
    this.#timer.unref();
    this.pullSoon();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#ac.abort();
    await this.#busy?.catch(() => {});
  }

  /** The layout, after rebuilding the override table if the keeper replaced it. */
  layout(): Layout {
    this.#checkLayout();
    return this.#c.layout();
  }

  /** Partition heads held here (`scope`: that one only). */
  heads(scope?: Scope): WireHead[] {
    const layout = this.layout();
    if (scope !== undefined) {
      const h = layout.chain(scope).head;
      return h.number > 0 ? [[h.scope, h.number, h.hash]] : [];
    }
    return layout
      .heads()
      .filter((h) => h.scope !== 'cluster')
      .map((h) => [h.scope, h.number, h.hash]);
  }

  /** Epochs of `scope` from `from` on, at most {@link MAX_EPOCHS_PER_ANSWER}. */
  epochs(scope: Scope, from: number): Epoch[] {
    return this.layout().chain(scope).epochs(Math.max(1, from)).slice(0, MAX_EPOCHS_PER_ANSWER) as Epoch[];
  }

  /**
   * Verifies and appends `epochs` of `scope` (already held ones are skipped); on a gap fetches the
   * missing ones from `from` first. Resolves to the chain's head number; throws EpochRejectedError.
   */
  async apply(scope: Scope, epochs: readonly Epoch[], from?: string, signal?: AbortSignal): Promise<number> {
    return this.#mutex.run(scope, async () => {
      const layout = this.layout();
      const chain = layout.chain(scope);
      const first = epochs[0]?.number ?? chain.head.number + 1;
      if (first > chain.head.number + 1 && from !== undefined) await this.#fetchLocked(from, scope, signal);
      const before = chain.head.number;
      try {
        const held = epochs.filter((e) => e.number <= chain.head.number && chain.hashAt(e.number) !== undefined);
        for (const epoch of held) {
          // The same epoch again (a push that crossed a pull) is a no-op; another one under a held number is not.
          await chain.check(epoch).catch((err: unknown) => {
            if (err instanceof EpochRejectedError && err.reason === 'replay') return;
            if (err instanceof EpochRejectedError) this.#observer.epochRejected('partition', err.reason);
            throw err;
          });
        }
        // Pushed epochs are new: a stale coordinator's are refused. Our own (no sender) are never stale.
        await this.#appendAll(
          layout,
          epochs.filter((e) => !held.includes(e)),
          from !== undefined,
          signal,
        );
      } finally {
        // Also when a later epoch failed: the table must follow the epochs the chain did take.
        if (chain.head.number !== before) this.#changed(scope, chain.epochs(before + 1));
      }
      return chain.head.number;
    });
  }

  /**
   * {@link apply} for epochs a coordinator pushed: when they do not verify yet (typically their basis is
   * beyond this daemon's cluster head, which lags by a keeper round), the fetch is retried from the pusher
   * for a minute, every second, instead of waiting for the next pull round.
   */
  async applyPushed(scope: Scope, epochs: readonly Epoch[], from: string, signal?: AbortSignal): Promise<number> {
    try {
      return await this.apply(scope, epochs, from, signal);
    } catch (err) {
      this.#pending.set(scope, { peer: from, until: Date.now() + 60_000 });
      setTimeout(() => this.pullSoon(), 1000).unref();
      throw err;
    }
  }

  /** Fetches the epochs of `scope` that `peer` holds beyond this daemon's head; resolves to how many were appended. */
  async fetch(peer: string, scope: Scope, signal?: AbortSignal): Promise<number> {
    return this.#mutex.run(scope, () => this.#fetchLocked(peer, scope, signal));
  }

  /**
   * Pushes the epochs of several chains to `peers`, one message per peer: for each `[scope, number]`,
   * the epochs from `number` to the head. Resolves to the peers that hold every head afterwards.
   */
  async pushMany(
    scopes: ReadonlyArray<[Scope, number]>,
    peers: readonly string[],
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (scopes.length === 0) return [...peers];
    const p = scopes.map(([scope, from]): [Scope, Epoch[]] => [scope, this.epochs(scope, from)]);
    const want = scopes.map(([scope]) => this.layout().chain(scope).head.number);
    const acked = await Promise.all(
      peers.map(async (peer) => {
        try {
          const res = await this.#call<Extract<OverrideResponse, { t: 'pushes' }>>(peer, { t: 'pushes', p }, signal);
          return want.every((n, i) => (res.n[i] ?? 0) >= n) ? peer : undefined;
        } catch (err) {
          this.#c.logger.info({ err, peer, scopes: scopes.length }, 'overrides: push failed (the peer will pull)');
          return undefined;
        }
      }),
    );
    return acked.filter((x): x is string => x !== undefined);
  }

  /** {@link applyPushed} for each chain of a `pushes` message; a chain that fails reports its current head. */
  async applyPushedMany(
    chains: ReadonlyArray<[Scope, readonly Epoch[]]>,
    from: string,
    signal?: AbortSignal,
  ): Promise<number[]> {
    return Promise.all(
      chains.map(([scope, epochs]) =>
        this.applyPushed(scope, epochs, from, signal).catch((err: unknown) => {
          this.#c.logger.info({ err, scope, from }, 'overrides: pushed epochs rejected');
          return this.layout().chain(scope).head.number;
        }),
      ),
    );
  }

  /**
   * Before proposing on `scopes`: asks every up member for all its partition heads (one call each) and
   * fetches each chain this daemon is behind on from the most advanced member.
   */
  async catchUpMany(scopes: readonly Scope[], signal?: AbortSignal): Promise<void> {
    const wanted = new Set(scopes);
    const best = new Map<Scope, { peer: string; number: number }>();
    await Promise.all(
      this.#c.ring.upPeers().map(async (peer) => {
        try {
          const res = await this.#call<Extract<OverrideResponse, { t: 'heads' }>>(peer, { t: 'heads' }, signal);
          for (const [scope, number] of res.h) {
            if (!wanted.has(scope)) continue;
            const b = best.get(scope);
            if (b === undefined || number > b.number) best.set(scope, { peer, number });
          }
        } catch (err) {
          this.#c.logger.debug({ err, peer }, 'overrides: heads not answered');
        }
      }),
    );
    for (const [scope, { peer, number }] of best) {
      if (number <= this.layout().chain(scope).head.number) continue;
      await this.fetch(peer, scope, signal).catch((err: unknown) => {
        this.#c.logger.info(
          { err, scope, peer },
          'overrides: could not catch a partition chain up; proposing on what is held',
        );
      });
    }
  }

  /** Pulls partition heads from the next up member, soon (one pull at a time). */
  pullSoon(): void {
    if (this.#busy !== undefined || this.#ac.signal.aborted) return;
    this.#busy = this.#pull(this.#ac.signal)
      .catch((err: unknown) => this.#c.logger.debug({ err }, 'overrides: pull failed'))
      .finally(() => {
        this.#busy = undefined;
      });
  }

  async #pull(signal: AbortSignal): Promise<void> {
    for (const [scope, { peer, until }] of [...this.#pending]) {
      try {
        await this.fetch(peer, scope, signal);
        this.#pending.delete(scope);
      } catch (err) {
        if (Date.now() > until) this.#pending.delete(scope);
        else setTimeout(() => this.pullSoon(), 1000).unref();
        this.#c.logger.debug({ err, peer, scope }, 'overrides: pushed epochs still do not apply');
      }
    }
    const peers = this.#c.ring.upPeers().sort();
    if (peers.length === 0) return;
    const peer = peers[this.#round++ % peers.length];
    const res = await this.#call<Extract<OverrideResponse, { t: 'heads' }>>(peer, { t: 'heads' }, signal);
    for (const [scope, number, hash] of res.h) {
      throwIfAborted(signal);
      if (typeof scope !== 'string' || !scope.startsWith('partition:')) continue;
      const chain = this.layout().chain(scope);
      if (number <= chain.head.number) {
        // Same number, other hash: the chains forked (comparing numbers alone never noticed).
        if (number > 0 && chain.hashAt(number) !== hash) await this.#reconcile(peer, scope, signal);
        continue;
      }
      try {
        await this.fetch(peer, scope, signal);
      } catch (err) {
        if (err instanceof EpochRejectedError && err.reason === 'fork') await this.#reconcile(peer, scope, signal);
        else this.#c.logger.info({ err, peer, scope }, 'overrides: epochs from peer rejected');
      }
    }
  }

  async #fetchLocked(peer: string, scope: Scope, signal?: AbortSignal): Promise<number> {
    const layout = this.layout();
    const chain = layout.chain(scope);
    const before = chain.head.number;
    try {
      // The whole remainder first: whether an epoch is a stale coordinator's depends on what follows it.
      const fresh: Epoch[] = [];
      for (;;) {
        const res = await this.#call<Extract<OverrideResponse, { t: 'epochs' }>>(
          peer,
          { t: 'epochs', s: scope, from: chain.head.number + fresh.length + 1 },
          signal,
        );
        const page = res.e.filter((e) => e?.number > chain.head.number + fresh.length);
        fresh.push(...page);
        if (page.length === 0 || res.e.length < MAX_EPOCHS_PER_ANSWER) break;
      }
      // A fetched chain is history: its head may be a coordinator's that a later membership change replaced
      // (a joiner fetching it must take it); a stale coordinator's rival epochs meet the fork rule instead.
      await this.#appendAll(layout, fresh, false, signal);
    } finally {
      // Also when a page failed or an epoch was refused: the table follows what the chain took.
      if (chain.head.number !== before) this.#changed(scope, chain.epochs(before + 1));
    }
    return chain.head.number - before;
  }

  #appendAll(layout: Layout, epochs: readonly Epoch[], checkStale: boolean, signal?: AbortSignal): Promise<void> {
    const c = { quarantine: this.quarantine, observer: this.#observer, checkStale };
    return appendEpochs(layout, epochs, c, signal);
  }

  /** Forks found and resolved here, newest last (at most {@link MAX_FORKS_KEPT}). */
  forks(): readonly ForkRecord[] {
    return this.#forks;
  }

  /**
   * Resolves a fork of `scope` with `peer` by the rule of forks.ts: fetches the peer's whole chain and,
   * when its branch wins, verifies and adopts it; otherwise keeps this one (the peer adopts it when it
   * pulls from here). Either way the fork is kept as evidence and logged.
   */
  async #reconcile(peer: string, scope: Scope, signal?: AbortSignal): Promise<void> {
    await this.#mutex.run(scope, async () => {
      const theirs: Epoch[] = [];
      for (;;) {
        const res = await this.#call<Extract<OverrideResponse, { t: 'epochs' }>>(
          peer,
          { t: 'epochs', s: scope, from: theirs.length + 1 },
          signal,
        );
        theirs.push(...res.e);
        if (res.e.length < MAX_EPOCHS_PER_ANSWER) break;
      }
      const chain = this.layout().chain(scope);
      const n = forkPoint(chain, theirs);
      const mine = n === undefined ? undefined : chain.get(n);
      if (n === undefined || mine === undefined) return;
      const record = forkRecord(scope, mine, theirs[n - 1], peer);
      this.#forks.push(record);
      if (this.#forks.length > MAX_FORKS_KEPT) this.#forks.shift();
      this.#observer.forkFound(record.equivocation);
      this.#c.logger.error(
        record,
        record.equivocation ? 'overrides: a signer equivocated' : 'overrides: chains forked',
      );
      if (this.quarantine.add(record)) {
        this.#c.logger.error(
          { signer: record.kept.signer, scope, number: n },
          'overrides: signer quarantined for equivocation; its epochs and move announcements are refused',
        );
      }
      if (!prefersTheirs(mine, theirs[n - 1])) return;
      await this.layout().replaceChain(scope, theirs, { signal });
      this.#changed(scope, theirs.slice(n - 1));
    });
  }

  /** Rebuilds the overrides of the scope's partition and settles the moves its new epochs recorded. */
  #changed(scope: Scope, fresh: readonly Epoch[]): void {
    this.#rebuild(partitionOf(scope));
    for (const e of fresh) {
      for (const o of e.change.overridesSet ?? []) this.#c.ring.overrides.settleIfMovingTo(o.key, o.replicas);
      for (const k of e.change.overridesRemoved ?? []) {
        this.#c.ring.overrides.settleIfMovingTo(k, this.#c.ring.placementOf(k).ringReplicas);
      }
    }
    this.#c.logger.debug(
      { scope, head: this.#c.layout().chain(scope).head.number },
      'overrides: partition chain advanced',
    );
    this.#c.onChange?.(fresh);
  }

  #rebuild(partition: number): void {
    const chain = this.#c.layout().chain(`partition:${partition}`);
    const entries: OverrideEntry[] = [];
    for (const o of chain.layout().overrides.values()) {
      const set = chain.history(o.key).findLast((e) => e.action === 'set');
      entries.push({
        key: o.key,
        replicas: o.replicas,
        scope: chain.scope,
        number: set?.number ?? chain.head.number,
        hash: set?.hash ?? chain.head.hash,
      });
    }
    this.#c.ring.overrides.setPartition(partition, entries);
  }

  #checkLayout(): void {
    const layout = this.#c.layout();
    if (layout === this.#layoutSeen) return;
    this.#layoutSeen = layout;
    this.#c.ring.overrides.clear();
    for (const h of layout.heads()) if (h.scope !== 'cluster') this.#rebuild(partitionOf(h.scope));
  }

  async #call<T extends OverrideResponse>(peer: string, req: OverrideRequest, signal?: AbortSignal): Promise<T> {
    const bytes = await this.#c.net.request(peer, OVERRIDES_PROTOCOL, encodeOverrideMessage(req), {
      signal,
      timeoutMs: this.#timeoutMs,
    });
    const res = decodeOverrideMessage<T>(bytes, peer);
    if (res.t !== req.t) throw new EpochRejectedError('malformed', req.t, 0, `peer ${peer} answered ${res.t}`);
    return res;
  }
}
