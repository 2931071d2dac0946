import type { Logger } from 'pino';
import { KEYSPACE, prefixKey, type Store, type StoredRecord } from '../store/index.ts';
import type { ReplicaClient } from './replica-client.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface HintQueueComponents {
  store: Store;
  client: ReplicaClient;
  logger: Logger;
}

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

  /** Number of hints waiting for `peer` (counted by a scan; for tests and admin). */
  async count(peer?: string): Promise<number> {
    const prefix = peer ? HintQueue.#prefix(peer) : Uint8Array.of(KEYSPACE.hint);
    let n = 0;
    let after: Uint8Array | undefined;
    for (;;) {
      const page = await this.#c.store.scan({ prefix, after, limit: 1000, keysOnly: true });
      n += page.entries.length;
      if (!page.cursor) return n;
      after = page.cursor;
    }
  }

  /** Sends every hint for `peer`; stops at the first failure (the peer went away again). */
  async replay(peer: string, signal?: AbortSignal): Promise<number> {
    if (this.#replaying.has(peer)) return 0;
    this.#replaying.add(peer);
    const prefix = HintQueue.#prefix(peer);
    let sent = 0;
    try {
      for (;;) {
        const page = await this.#c.store.scan({ prefix, limit: 100, signal });
        if (page.entries.length === 0) return sent;
        for (const e of page.entries) {
          const key = dec.decode(e.key.subarray(prefix.length));
          if (Date.now() - e.record.meta.updatedAt <= this.#maxAgeMs) {
            await this.#c.client.put(peer, key, e.record, signal);
            sent++;
          }
          await this.#c.store.delete(e.key);
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
