import type { Logger } from 'pino';
import type { ChainHead, Scope } from '../layout/index.ts';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import {
  compareWithChain,
  decodeHolderEntry,
  encodeHolderEntry,
  type HolderEntry,
  holderDirectoryKey,
} from './plan.ts';
import type { OverrideSync } from './sync.ts';

export interface HolderDirectoryComponents {
  net: Net;
  ring: ClusterRing;
  sync: OverrideSync;
  logger: Logger;
}

export interface HolderDirectoryOptions {
  /** Deadline of one DHT look-up. Default 2000 ms. */
  lookupTimeoutMs?: number;
  /** A key whose look-up found nothing new is not looked up again for this long. Default 5000 ms. */
  negativeTtlMs?: number;
  /** Most keys remembered as "nothing new". Default 10 000. */
  maxNegative?: number;
  /** Pause between re-publications of the entries this daemon holds. Default 300 000 ms (5 min). */
  republishIntervalMs?: number;
  /** Most DHT puts per second while re-publishing (one per partition chain). Default 20. */
  republishPerSecond?: number;
}

/** A directory entry as it concerns one key: the partition head, and the key's holders at that epoch. */
export interface KeyDirectoryEntry extends HolderEntry {
  readonly key: string;
  /** Holders of the key under the entry's epoch (empty while that epoch is not verified here). */
  readonly replicas: readonly string[];
  /** True when that epoch places the key by an override. */
  readonly overridden: boolean;
}

/** What a directory look-up found, and what this daemon made of it. */
export interface DirectoryLookup {
  readonly entry: KeyDirectoryEntry | undefined;
  /**
   * `none`: no entry; `current`: this daemon's chain already has the entry's epoch; `learned`: it fetched
   * and verified the missing epochs; `unverified`: it could not (the entry is not used for routing);
   * `conflict`: its chain holds a different epoch with that number (logged, never followed).
   */
  readonly status: 'none' | 'current' | 'learned' | 'unverified' | 'conflict';
}

/** Waits `ms`, or less when `signal` aborts (resolves either way; the listener goes with the timer). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The DHT as the directory of current holders: `/shoal/holders/partition:<n>` holds the head of
 * partition n's chain (number, hash, publisher), one entry per partition (a wave publishes one per
 * partition it changed, never one per record). It is a hint, never an authority: routing changes only
 * after the epochs it names were fetched from a member and verified by the layout. The request path
 * never touches the DHT except when a read found no copy on any holder it knows ({@link resolveMiss},
 * cached negatively per key), or on an explicit look-up. DHT records live in the memory of the closest
 * peers, so each partition's coordinator re-publishes the head of its chain every `republishIntervalMs`,
 * at most `republishPerSecond` puts per second.
 */
export class HolderDirectory {
  readonly #c: HolderDirectoryComponents;
  readonly #o: Required<HolderDirectoryOptions>;
  readonly #negative = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<boolean>>();
  #timer: NodeJS.Timeout | undefined;
  #republishing: Promise<void> | undefined;
  #ac = new AbortController();

  constructor(components: HolderDirectoryComponents, options: HolderDirectoryOptions = {}) {
    this.#c = components;
    this.#o = {
      lookupTimeoutMs: options.lookupTimeoutMs ?? 2000,
      negativeTtlMs: options.negativeTtlMs ?? 5000,
      maxNegative: options.maxNegative ?? 10_000,
      republishIntervalMs: options.republishIntervalMs ?? 300_000,
      republishPerSecond: options.republishPerSecond ?? 20,
    };
  }

  start(): void {
    this.#ac = new AbortController();
    this.#c.ring.setMissResolver((key, signal) => this.resolveMiss(key, signal));
    // First pass soon after a (re)start: the DHT lost what this daemon's memory held.
    this.#schedule(5000 + Math.floor(Math.random() * 10_000));
  }

  async stop(): Promise<void> {
    this.#c.ring.setMissResolver(undefined);
    clearTimeout(this.#timer);
    this.#ac.abort();
    await this.#republishing?.catch(() => {});
  }

  /** Stores the heads of partition chains in the DHT; resolves to how many were stored. */
  async publishHeads(heads: readonly ChainHead[], signal?: AbortSignal): Promise<number> {
    let stored = 0;
    const self = this.#c.ring.self;
    let next = 0;
    const worker = async () => {
      while (next < heads.length) {
        const h = heads[next++];
        const entry: HolderEntry = { scope: h.scope, number: h.number, hash: h.hash, publisher: self };
        const ok = await this.#c.net.dhtPut(holderDirectoryKey(h.scope), encodeHolderEntry(entry), { signal }).then(
          (n) => n > 0,
          (err: unknown) => {
            this.#c.logger.debug({ err, scope: h.scope }, 'holder directory: publish failed (re-published later)');
            return false;
          },
        );
        if (ok) stored++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, heads.length) }, worker));
    this.#negative.clear();
    return stored;
  }

  /** The DHT's entry for partition chain `scope` (undefined when absent or malformed). */
  async read(scope: Scope, signal?: AbortSignal): Promise<HolderEntry | undefined> {
    const s = AbortSignal.any([AbortSignal.timeout(this.#o.lookupTimeoutMs), ...(signal ? [signal] : [])]);
    const bytes = await this.#c.net.dhtGet(holderDirectoryKey(scope), { signal: s });
    if (bytes === undefined) return undefined;
    return decodeHolderEntry(bytes, scope);
  }

  /** Reads the entry of `key`'s partition and, when this daemon's chain is behind it, fetches and verifies the epochs. */
  async lookup(key: string, signal?: AbortSignal): Promise<DirectoryLookup> {
    const scope: Scope = `partition:${this.#c.ring.ring.partitionOf(key)}`;
    const head = await this.read(scope, signal);
    if (head === undefined) return { entry: undefined, status: 'none' };
    const chain = () => {
      const c = this.#c.sync.layout().chain(scope);
      return { number: c.head.number, hashAt: (n: number) => c.hashAt(n) };
    };
    const view = (verified: boolean): KeyDirectoryEntry => {
      if (!verified) return { ...head, key, replicas: [], overridden: false };
      const o = this.#c.sync.layout().chain(scope).layoutAt(head.number).overrides.get(key);
      const replicas = o?.replicas ?? this.#c.ring.placementOf(key).ringReplicas;
      return { ...head, key, replicas, overridden: o !== undefined };
    };
    const before = compareWithChain(head, chain());
    if (before === 'current') return { entry: view(true), status: 'current' };
    if (before === 'conflict') {
      this.#c.logger.warn({ key, entry: head }, 'holder directory names an epoch that conflicts with the local chain');
      return { entry: view(false), status: 'conflict' };
    }
    const self = this.#c.ring.self;
    const sources = [head.publisher, ...this.#c.ring.upPeers()].filter((p, i, a) => p !== self && a.indexOf(p) === i);
    for (const peer of sources.slice(0, 4)) {
      try {
        await this.#c.sync.fetch(peer, scope, signal);
      } catch (err) {
        this.#c.logger.debug({ err, peer, key }, 'holder directory: fetching epochs failed');
      }
      if (chain().number >= head.number) break;
    }
    const after = compareWithChain(head, chain());
    if (after === 'current') this.#c.logger.info({ key, scope, number: head.number }, 'holder directory: learned');
    const status = after === 'current' ? 'learned' : after === 'behind' ? 'unverified' : after;
    return { entry: view(after === 'current'), status };
  }

  /** A read found no copy of `key`: true when the directory led to a new (verified) placement for it. */
  resolveMiss(key: string, signal?: AbortSignal): Promise<boolean> {
    const until = this.#negative.get(key);
    if (until !== undefined && until > Date.now()) return Promise.resolve(false);
    let running = this.#inflight.get(key);
    if (running === undefined) {
      running = this.#resolve(key, signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, running);
    }
    return running;
  }

  async #resolve(key: string, signal?: AbortSignal): Promise<boolean> {
    const before = this.#c.ring.replicasOf(key);
    let status: DirectoryLookup['status'] = 'none';
    let failed = false;
    try {
      status = (await this.lookup(key, signal)).status;
    } catch (err) {
      failed = true;
      this.#c.logger.debug({ err, key }, 'holder directory: look-up failed');
    }
    const after = this.#c.ring.replicasOf(key);
    // `current` counts too: a pull or another key's look-up may have brought the epoch in meanwhile.
    const verified = status === 'learned' || status === 'current';
    const changed = verified && (before.length !== after.length || before.some((p, i) => p !== after[i]));
    // A failed look-up (DHT timeout, the reader gave up) is not evidence of absence: no negative entry.
    if (!changed && !failed) {
      if (this.#negative.size >= this.#o.maxNegative) this.#negative.delete(this.#negative.keys().next().value!);
      this.#negative.set(key, Date.now() + this.#o.negativeTtlMs);
    }
    return changed;
  }

  #schedule(ms: number): void {
    if (this.#ac.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#republishing = this.republish(this.#ac.signal)
        .then((n) => {
          if (n > 0) this.#c.logger.debug({ entries: n }, 'holder directory: re-published');
        })
        .catch((err: unknown) => this.#c.logger.debug({ err }, 'holder directory: re-publishing failed'))
        .finally(() => this.#schedule(this.#o.republishIntervalMs));
    }, ms);
    this.#timer.unref();
  }

  /** Re-publishes the head of every non-empty partition chain this daemon coordinates; resolves to how many. */
  async republish(signal: AbortSignal): Promise<number> {
    const self = this.#c.ring.self;
    const gap = 1000 / this.#o.republishPerSecond;
    const layout = this.#c.sync.layout();
    let n = 0;
    for (const head of layout.heads()) {
      if (signal.aborted) break;
      if (head.scope === 'cluster') continue;
      const partition = Number(head.scope.slice('partition:'.length));
      if (layout.coordinatorOf(partition) !== self) continue;
      n += await this.publishHeads([head], AbortSignal.any([signal, AbortSignal.timeout(5000)]));
      await sleep(gap, signal);
    }
    return n;
  }
}
