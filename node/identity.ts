import { randomBytes } from 'node:crypto';
import type { HlcPersistence } from '../src/crdt/hlc-persistent.ts';
import { internalEntry, KEYSPACE, prefixKey, type Store } from '../src/store/index.ts';

const NODE_ID_KEY = prefixKey(KEYSPACE.meta, new TextEncoder().encode('node-id'));

/**
 * The daemon's short node id (12 hex digits): the tie-break inside every HLC version it issues.
 * Created once and kept in the store, so versions stay comparable across restarts.
 */
export async function loadOrCreateNodeId(store: Store): Promise<string> {
  const existing = await store.get(NODE_ID_KEY);
  if (existing) return new TextDecoder().decode(existing.value);
  const id = randomBytes(6).toString('hex');
  await store.put(NODE_ID_KEY, internalEntry(new TextEncoder().encode(id), 'text/plain'));
  return id;
}

const HLC_KEY = prefixKey(KEYSPACE.meta, new TextEncoder().encode('hlc-ceiling'));

/** Where the persistent clock keeps its ceiling: the store's meta keyspace (fsync'd like every write). */
export function hlcPersistence(store: Store): HlcPersistence {
  return {
    async load() {
      const rec = await store.get(HLC_KEY);
      return rec ? new TextDecoder().decode(rec.value) : undefined;
    },
    async save(value) {
      await store.put(HLC_KEY, internalEntry(new TextEncoder().encode(value), 'text/plain'));
    },
  };
}
