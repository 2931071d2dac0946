import type { Logger } from 'pino';
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
  /** Most DHT puts per second while re-publishing. Default 10. */
  republishPerSecond?: number;
}

/** What a directory look-up found, and what this daemon made of it. */
export interface DirectoryLookup {
  readonly entry: HolderEntry | undefined;
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
 * The DHT as the directory of current holders: `/shoal/holders/<key>` holds the partition epoch that
 * last placed the key (number, hash) and its holders. It is a hint, never an authority: routing changes
 * only after the epochs it names were fetched from a holder and verified by the layout. The request path
 * never touches the DHT except when a read found no copy on any holder it knows ({@link resolveMiss},
 * cached negatively per key), or on an explicit look-up. DHT records live in the memory of the closest
 * peers, so the first available holder of each override re-publishes it every `republishIntervalMs`, at
 * most `republishPerSecond` puts per second.
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
      republishPerSecond: options.republishPerSecond ?? 10,
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

  /** Stores `entry` in the DHT; resolves to how many peers acknowledged. */
  publish(entry: HolderEntry, signal?: AbortSignal): Promise<number> {
    this.#negative.delete(entry.key);
    return this.#c.net.dhtPut(holderDirectoryKey(entry.key), encodeHolderEntry(entry), { signal });
  }

  /** The DHT's entry for `key` (undefined when absent or malformed). */
  async read(key: string, signal?: AbortSignal): Promise<HolderEntry | undefined> {
    const s = AbortSignal.any([AbortSignal.timeout(this.#o.lookupTimeoutMs), ...(signal ? [signal] : [])]);
    const bytes = await this.#c.net.dhtGet(holderDirectoryKey(key), { signal: s });
    if (bytes === undefined) return undefined;
    return decodeHolderEntry(bytes, key, `partition:${this.#c.ring.ring.partitionOf(key)}`);
  }

  /** Reads the entry of `key` and, when this daemon's chain is behind it, fetches and verifies the epochs. */
  async lookup(key: string, signal?: AbortSignal): Promise<DirectoryLookup> {
    const entry = await this.read(key, signal);
    if (entry === undefined) return { entry, status: 'none' };
    const chain = () => {
      const c = this.#c.sync.layout().chain(entry.scope);
      return { number: c.head.number, hashAt: (n: number) => c.hashAt(n) };
    };
    const before = compareWithChain(entry, chain());
    if (before === 'current') return { entry, status: 'current' };
    if (before === 'conflict') {
      this.#c.logger.warn({ key, entry }, 'holder directory names an epoch that conflicts with the local chain');
      return { entry, status: 'conflict' };
    }
    const self = this.#c.ring.self;
    const sources = [...entry.replicas, ...this.#c.ring.upPeers()].filter(
      (p, i, a) => p !== self && a.indexOf(p) === i,
    );
    for (const peer of sources.slice(0, 4)) {
      try {
        await this.#c.sync.fetch(peer, entry.scope, signal);
      } catch (err) {
        this.#c.logger.debug({ err, peer, key }, 'holder directory: fetching epochs failed');
      }
      if (chain().number >= entry.number) break;
    }
    const after = compareWithChain(entry, chain());
    if (after === 'current')
      this.#c.logger.info({ key, scope: entry.scope, number: entry.number }, 'holder directory: learned');
    return { entry, status: after === 'current' ? 'learned' : after === 'behind' ? 'unverified' : after };
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

  /** Re-publishes every override of which this daemon is the first available holder; resolves to how many. */
  async republish(signal: AbortSignal): Promise<number> {
    const self = this.#c.ring.self;
    const gap = 1000 / this.#o.republishPerSecond;
    let n = 0;
    for (const o of [...this.#c.ring.overrides.entries()]) {
      if (signal.aborted) break;
      const holders = this.#c.ring.replicasOf(o.key);
      if (holders.find((h) => this.#c.ring.isAvailable(h)) !== self) continue;
      const entry = {
        key: o.key,
        scope: o.scope,
        number: o.number,
        hash: o.hash,
        replicas: o.replicas,
        overridden: true,
      };
      await this.publish(entry, AbortSignal.any([signal, AbortSignal.timeout(5000)])).catch(() => 0);
      n++;
      await sleep(gap, signal);
    }
    return n;
  }
}
