import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import { KEYSPACE, prefixKey, type Store, type StoredRecord } from '../store/index.ts';
import { sendRecords } from './transfer.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface HintQueueComponents {
  store: Store;
  net: Net;
  logger: Logger;
}

/** Hints sent per bulk stream. */
const REPLAY_PAGE = 2000;

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

  constructor(components: HintQueueComponents, options: { maxAgeMs: number }) {
    this.#c = components;
    this.#maxAgeMs = options.maxAgeMs;
  }

  static #prefix(peer: string): Uint8Array {
    return prefixKey(KEYSPACE.hint, enc.encode(`${peer}\u0000`));
  }

  async add(peer: string, key: string, record: StoredRecord): Promise<void> {
    const hintKey = prefixKey(KEYSPACE.hint, enc.encode(`${peer}\u0000${key}`));
    await this.#c.store.put(hintKey, record);
  }

  /**
   * Sends every hint for `peer` over bulk streams, a page at a time, and deletes a page's hints once
   * the peer acknowledged the whole page; stops at the first failure (the peer went away again).
   */
  async replay(peer: string, signal?: AbortSignal): Promise<number> {
    if (this.#replaying.has(peer)) return 0;
    this.#replaying.add(peer);
    const prefix = HintQueue.#prefix(peer);
    let sent = 0;
    try {
      for (;;) {
        const page = await this.#c.store.scan({ prefix, limit: REPLAY_PAGE, signal });
        if (page.entries.length === 0) return sent;
        const fresh = page.entries
          .filter((e) => Date.now() - e.record.meta.updatedAt <= this.#maxAgeMs)
          .map((e) => ({ key: dec.decode(e.key.subarray(prefix.length)), record: e.record }));
        if (fresh.length > 0) {
          const res = await sendRecords(this.#c.net, peer, fresh, signal);
          if (res.rejected > 0) this.#c.logger.warn({ peer, rejected: res.rejected }, 'hint replay: records rejected');
          sent += res.applied;
        }
        await this.#c.store.batch(page.entries.map((e) => ({ type: 'del' as const, key: e.key })));
      }
    } catch (err) {
      this.#c.logger.debug({ err, peer }, 'hint replay stopped');
      return sent;
    } finally {
      this.#replaying.delete(peer);
    }
  }
}
