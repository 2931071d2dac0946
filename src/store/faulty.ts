/**
 * Fault injection for a store (tests only: the daemon wraps its store with this under
 * `--fault-injection on`): a slow disk (every asynchronous call waits `latencyMs` first) and a full disk
 * (every write fails with a {@link StoreError} caused by `ENOSPC`, as a backend would report it; reads
 * still work). The synchronous read path (`getSync`, an in-memory cache hit) is not slowed, as a page-cache
 * hit would not be. Faults are read on every call, so a test changes them while the daemon runs.
 */
import { StoreError } from './errors.ts';
import type { Store } from './index.ts';

export interface StoreFaults {
  /** Added before every asynchronous store call, ms (0: none). */
  latencyMs: number;
  /** Every write (put, delete, batch) fails with ENOSPC. */
  full: boolean;
}

export function withStoreFaults(store: Store, faults: StoreFaults): Store {
  // No fault set: the call goes straight through (no extra promise), so benchmarks that enable fault
  // injection for latency emulation measure the store as it is.
  const read = <T>(call: () => Promise<T>): Promise<T> =>
    faults.latencyMs > 0 ? delay(faults.latencyMs).then(call) : call();
  const write = <T>(call: () => Promise<T>): Promise<T> => {
    if (faults.latencyMs === 0 && !faults.full) return call();
    return delay(faults.latencyMs).then(() => {
      if (!faults.full) return call();
      const cause = Object.assign(new Error('ENOSPC: no space left on device (fault injection)'), { code: 'ENOSPC' });
      throw new StoreError('the store cannot write: no space left on device', { cause });
    });
  };
  const wrapped: Store = {
    kind: store.kind,
    supports: store.supports,
    open: (o) => store.open(o),
    close: () => store.close(),
    get: (k, o) => read(() => store.get(k, o)),
    getMany: (ks, o) => read(() => store.getMany(ks, o)),
    put: (k, r, o) => write(() => store.put(k, r, o)),
    delete: (k, o) => write(() => store.delete(k, o)),
    batch: (ops, o) => write(() => store.batch(ops, o)),
    scan: (o) => read(() => store.scan(o)),
  };
  if (store.getSync) wrapped.getSync = store.getSync.bind(store);
  if (store.approximateBytes) wrapped.approximateBytes = store.approximateBytes.bind(store);
  return wrapped;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
