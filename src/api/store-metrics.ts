/**
 * Prometheus metrics of the daemon's store, by wrapping it ({@link instrumentStore}):
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `shoal_store_operation_seconds` | histogram | `op` | duration of each store call (`_count`: calls), by operation |
 * | `shoal_store_errors_total` | counter | `op` | store calls that failed, by operation |
 *
 * `op` is `get` (a synchronous cache hit included), `get_many`, `put`, `delete`, `batch` or `scan`. Each
 * operation's label children are bound once, so a call costs two clock reads and one observation.
 *
 * @packageDocumentation
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Store } from '../store/index.ts';

export const STORE_OPS = ['get', 'get_many', 'put', 'delete', 'batch', 'scan'] as const;
type StoreOp = (typeof STORE_OPS)[number];

/** The store with every call timed into `registry`; same behaviour, same manifest. */
export function instrumentStore(store: Store, registry: Registry): Store {
  const seconds = new Histogram({
    name: 'shoal_store_operation_seconds',
    help: 'Store call duration by operation (get, get_many, put, delete, batch, scan); _count is the number of calls',
    labelNames: ['op'] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'shoal_store_errors_total',
    help: 'Store calls that failed, by operation',
    labelNames: ['op'] as const,
    registers: [registry],
  });
  const bound = new Map(STORE_OPS.map((op) => [op, { seconds: seconds.labels(op), errors: errors.labels(op) }]));
  for (const op of STORE_OPS) errors.inc({ op }, 0);
  const getBound = bound.get('get')!;
  const timed = async <T>(op: StoreOp, call: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await call();
    } catch (err) {
      bound.get(op)!.errors.inc();
      throw err;
    } finally {
      bound.get(op)!.seconds.observe((performance.now() - t0) / 1000);
    }
  };
  const wrapped: Store = {
    kind: store.kind,
    supports: store.supports,
    open: (o) => store.open(o),
    close: () => store.close(),
    get: (k, o) => timed('get', () => store.get(k, o)),
    getMany: (ks, o) => timed('get_many', () => store.getMany(ks, o)),
    put: (k, r, o) => timed('put', () => store.put(k, r, o)),
    delete: (k, o) => timed('delete', () => store.delete(k, o)),
    batch: (ops, o) => timed('batch', () => store.batch(ops, o)),
    scan: (o) => timed('scan', () => store.scan(o)),
  };
  const { getSync, approximateBytes } = store;
  if (getSync !== undefined) {
    wrapped.getSync = (k) => {
      const t0 = performance.now();
      const r = getSync.call(store, k);
      getBound.seconds.observe((performance.now() - t0) / 1000);
      return r;
    };
  }
  if (approximateBytes !== undefined) wrapped.approximateBytes = (o) => approximateBytes.call(store, o);
  return wrapped;
}
