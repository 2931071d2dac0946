import type { Logger } from 'pino';
import { mergeRecord, recordsEqual } from '../crdt/merge.ts';
import type { Net } from '../net/index.ts';
import { KEYSPACE, prefixKey, type Store, type StoredRecord } from '../store/index.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import type { ReplicationObserver } from './observer.ts';
import { sendRecords } from './transfer.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface HintQueueComponents {
  store: Store;
  net: Net;
  logger: Logger;
  observer?: ReplicationObserver;
}

/** Hints sent per bulk stream. */
const REPLAY_PAGE = 2000;
/** replayIfQueued: retries after 250 ms, 500 ms, 1 s, 2 s while the peer still starts up. */
const RETRIES = 4;
const RETRY_MS = 250;

/**
 * Hinted handoff: a write a replica missed (down, timed out) is kept in this daemon's store under
 * the hint keyspace and replayed when the replica is back. Hints merge at the replica like any other
 * copy, so replaying twice or out of order is harmless. Hints older than `maxAgeMs` are dropped:
 * anti-entropy repairs those replicas instead.
 */
export class HintQueue {
  readonly #c: HintQueueComponents;
  readonly #maxAgeMs: number;
  readonly #replaying = new Set<string>();
  /** Peers that got hints since this daemon started and have not been replayed to in full since. */
  readonly #queued = new Set<string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  /** Per hint: adding (read, merge, write) and deleting after a replay (read, compare, delete). */
  readonly #locks = new KeyedMutex();
  /** Hints held in the store: counted by {@link load}, then kept by every add and delete. */
  #pending = 0;

  constructor(components: HintQueueComponents, options: { maxAgeMs: number }) {
    this.#c = components;
    this.#maxAgeMs = options.maxAgeMs;
  }

  /** A hint's name: its store key (under the hint keyspace) and its lock. `key` '' gives the peer's prefix. */
  static #id(peer: string, key = ''): string {
    return `${peer}\u0000${key}`;
  }

  static #storeKey(id: string): Uint8Array {
    return prefixKey(KEYSPACE.hint, enc.encode(id));
  }

  /** Hints held for every peer (the `shoal_hints_pending` gauge). */
  get pending(): number {
    return this.#pending;
  }

  #count(delta: number): void {
    this.#pending = Math.max(0, this.#pending + delta);
    this.#c.observer?.hintsPending(this.#pending);
  }

  /** Counts the hints already in the store (left from before a restart); call once at start. */
  async load(signal?: AbortSignal): Promise<number> {
    const prefix = prefixKey(KEYSPACE.hint, new Uint8Array());
    let n = 0;
    let after: Uint8Array | undefined;
    do {
      const page = await this.#c.store.scan({ prefix, after, limit: REPLAY_PAGE, keysOnly: true, signal });
      n += page.entries.length;
      after = page.cursor;
    } while (after !== undefined);
    this.#count(n - this.#pending);
    return n;
  }

  /**
   * Keeps `record` for `peer`, merged with a hint already held for the key: hints of two writes can
   * arrive in either order (a failed put is hinted only once every put of its write settled).
   */
  async add(peer: string, key: string, record: StoredRecord): Promise<void> {
    const id = HintQueue.#id(peer, key);
    const hintKey = HintQueue.#storeKey(id);
    await this.#locks.run(id, async () => {
      const held = await this.#c.store.get(hintKey);
      const { record: merged, changed } = mergeRecord(held, record);
      if (changed) await this.#c.store.put(hintKey, merged);
      if (held === undefined && changed) this.#count(1);
    });
    this.#queued.add(peer);
    this.#c.observer?.hintQueued();
  }

  /**
   * Replays `peer`'s hints now if this daemon queued any for it (a member that came back, or restarted
   * before the failure detector noticed it was gone: then it is never "down", only its record changes),
   * retrying a few times while it still starts up (its protocols come up after its membership record).
   * The periodic maintenance pass covers hints left from before this daemon's own restart.
   */
  replayIfQueued(peer: string, isUp: () => boolean, signal?: AbortSignal, attempt = 0): void {
    if (!this.#queued.has(peer) || this.#retries.has(peer) || !isUp()) return;
    void this.replay(peer, signal).then(() => {
      if (!this.#queued.has(peer) || attempt >= RETRIES || signal?.aborted) return;
      const t = setTimeout(
        () => {
          this.#retries.delete(peer);
          this.replayIfQueued(peer, isUp, signal, attempt + 1);
        },
        RETRY_MS * 2 ** attempt,
      );
      t.unref();
      this.#retries.set(peer, t);
    });
  }

  /** Cancels pending retries of {@link replayIfQueued}. */
  stop(): void {
    for (const t of this.#retries.values()) clearTimeout(t);
    this.#retries.clear();
  }

  /** Deletes every hint held for `peer` (a member that left or was removed); resolves to how many. */
  async drop(peer: string): Promise<number> {
    this.#queued.delete(peer);
    clearTimeout(this.#retries.get(peer));
    this.#retries.delete(peer);
    const prefix = HintQueue.#storeKey(HintQueue.#id(peer));
    let dropped = 0;
    try {
      for (;;) {
        const page = await this.#c.store.scan({ prefix, limit: REPLAY_PAGE, keysOnly: true });
        if (page.entries.length === 0) return dropped;
        for (const e of page.entries) {
          await this.#c.store.delete(e.key);
          this.#count(-1);
        }
        dropped += page.entries.length;
      }
    } catch (err) {
      this.#c.logger.debug({ err, peer }, 'dropping hints failed');
      return dropped;
    }
  }

  /**
   * Sends every hint for `peer` over bulk streams, a page at a time, and deletes a page's hints once
   * the peer acknowledged the whole page (a hint rewritten meanwhile stays for the next pass); stops at
   * the first failure (the peer went away again).
   */
  async replay(peer: string, signal?: AbortSignal): Promise<number> {
    if (this.#replaying.has(peer)) return 0;
    this.#replaying.add(peer);
    const prefix = HintQueue.#storeKey(HintQueue.#id(peer));
    let sent = 0;
    try {
      for (;;) {
        const page = await this.#c.store.scan({ prefix, limit: REPLAY_PAGE, signal });
        if (page.entries.length === 0) {
          this.#queued.delete(peer);
          return sent;
        }
        const hints = page.entries.map((e) => ({ ...e, recordKey: dec.decode(e.key.subarray(prefix.length)) }));
        const fresh = hints
          .filter((h) => Date.now() - h.record.meta.updatedAt <= this.#maxAgeMs)
          .map((h) => ({ key: h.recordKey, record: h.record }));
        let rejected = 0;
        if (fresh.length > 0) {
          const res = await sendRecords(this.#c.net, peer, fresh, signal);
          sent += res.applied;
          rejected = res.rejected;
          this.#c.observer?.hintsReplayed(res.applied);
          this.#c.observer?.handedOff('hints', res.bytes);
        }
        if (rejected > 0) {
          // Which ones is not known: keep the page for the next pass (hints expire after maxAgeMs).
          this.#c.logger.warn({ peer, rejected }, 'hint replay: records rejected; the page is kept');
          return sent;
        }
        // Only hints that no write replaced while the page was on its way.
        for (const h of hints) {
          await this.#locks.run(HintQueue.#id(peer, h.recordKey), async () => {
            const now = await this.#c.store.get(h.key, { signal });
            if (now !== undefined && recordsEqual(now, h.record)) {
              await this.#c.store.delete(h.key, { signal });
              this.#count(-1);
            }
          });
        }
      }
    } catch (err) {
      this.#c.logger.debug({ err, peer }, 'hint replay stopped');
      return sent;
    } finally {
      this.#replaying.delete(peer);
    }
  }
}
