import { internalEntry, KEYSPACE, prefixKey, type Store } from '../store/index.ts';
import { canonicalBytes } from './canonical.ts';
import type { Epoch, EpochLog, Scope } from './index.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function scopePrefix(scope: Scope): Uint8Array {
  return prefixKey(KEYSPACE.epoch, enc.encode(`${scope}\u0000`));
}

function epochKey(scope: Scope, number: number): Uint8Array {
  const p = scopePrefix(scope);
  const key = new Uint8Array(p.length + 4);
  key.set(p);
  new DataView(key.buffer).setUint32(p.length, number);
  return key;
}

/**
 * The daemon's epoch log: one store entry per epoch under the epoch keyspace, keyed by scope and
 * big-endian number (so a prefix scan returns a chain in order), valued by the canonical JSON bytes.
 */
export class StoreEpochLog implements EpochLog {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async append(scope: Scope, epoch: Epoch): Promise<void> {
    await this.#store.put(epochKey(scope, epoch.number), internalEntry(canonicalBytes(epoch), 'application/json'));
  }

  async load(scope: Scope): Promise<Epoch[]> {
    const out: Epoch[] = [];
    const prefix = scopePrefix(scope);
    let after: Uint8Array | undefined;
    for (;;) {
      const page = await this.#store.scan({ prefix, after, limit: 1000 });
      for (const e of page.entries) out.push(JSON.parse(dec.decode(e.record.value)) as Epoch);
      if (!page.cursor) return out;
      after = page.cursor;
    }
  }

  async scopes(): Promise<Scope[]> {
    const found = new Set<Scope>();
    let after: Uint8Array | undefined;
    for (;;) {
      const page = await this.#store.scan({
        prefix: Uint8Array.of(KEYSPACE.epoch),
        after,
        limit: 1000,
        keysOnly: true,
      });
      for (const e of page.entries) found.add(dec.decode(e.key.subarray(1, e.key.indexOf(0, 1))) as Scope);
      if (!page.cursor) return [...found];
      after = page.cursor;
    }
  }

  /** Drops a whole chain (a daemon adopting the cluster's chain after its own forked). */
  async reset(scope: Scope): Promise<void> {
    await this.truncate(scope, 0);
  }

  async truncate(scope: Scope, after: number): Promise<void> {
    const epochs = (await this.load(scope)).filter((e) => e.number > after);
    await this.#store.batch(epochs.map((e) => ({ type: 'del' as const, key: epochKey(scope, e.number) })));
  }
}
