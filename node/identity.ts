import { randomBytes } from 'node:crypto';
import { checksumOf, KEYSPACE, prefixKey, type Store } from '../src/store/index.ts';

const NODE_ID_KEY = prefixKey(KEYSPACE.meta, new TextEncoder().encode('node-id'));

/**
 * The daemon's short node id (12 hex digits): the tie-break inside every HLC version it issues.
 * Created once and kept in the store, so versions stay comparable across restarts.
 */
export async function loadOrCreateNodeId(store: Store): Promise<string> {
  const existing = await store.get(NODE_ID_KEY);
  if (existing) return new TextDecoder().decode(existing.value);
  const id = randomBytes(6).toString('hex');
  const value = new TextEncoder().encode(id);
  const now = Date.now();
  await store.put(NODE_ID_KEY, {
    value,
    meta: {
      version: '',
      type: 'blob',
      contentType: 'text/plain',
      size: value.length,
      checksum: checksumOf(value),
      createdAt: now,
      updatedAt: now,
    },
  });
  return id;
}
