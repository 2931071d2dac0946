/** Random histories of writes, deletes and syncs on a few simulated replicas of one key. */
import fc from 'fast-check';
import {
  blobRecord,
  createHlc,
  DocTypeConflictError,
  docRecord,
  mergeRecord,
  tombstoneRecord,
} from '../../src/crdt/index.ts';
import type { StoredRecord } from '../../src/store/index.ts';

export type Op =
  | { kind: 'blob'; at: number; advance: number; byte: number }
  | { kind: 'delete'; at: number; advance: number }
  | { kind: 'put'; at: number; advance: number; json: Record<string, unknown> }
  | { kind: 'patch'; at: number; advance: number; patch: Record<string, unknown> }
  | { kind: 'sync'; at: number; advance: number; from: number };

export const REPLICAS = 3;

const field = fc.constantFrom('a', 'b', 'c', 'n');
const leaf = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom('x', 'y'), fc.constant([1, 2]));
const nested = fc.dictionary(fc.constantFrom('p', 'q'), fc.oneof(leaf, fc.constant(null)), { maxKeys: 2 });
const patchValue = fc.oneof(leaf, fc.constant(null), nested);
const at = fc.integer({ min: 0, max: REPLICAS - 1 });
const advance = fc.integer({ min: 0, max: 3 });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('blob' as const), at, advance, byte: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, advance }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      at,
      advance,
      json: fc.dictionary(field, leaf, { maxKeys: 3 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('patch' as const),
      at,
      advance,
      patch: fc.dictionary(field, patchValue, { minKeys: 1, maxKeys: 2 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), at, advance, from: at }) },
);

export const historyArb = fc.array(opArb, { minLength: 1, maxLength: 25 });

/**
 * Runs a history; returns every record version any replica held (the pool to merge), and the final
 * record of each replica. Each replica has its own HLC with a small clock skew.
 */
export function runHistory(ops: Op[]): { produced: StoredRecord[]; finals: Array<StoredRecord | undefined> } {
  let t = 1_700_000_000_000;
  const replicas = Array.from({ length: REPLICAS }, (_, i) => ({
    clock: createHlc({ node: `node-${i}`, physical: () => t + i * 2 }),
    rec: undefined as StoredRecord | undefined,
  }));
  const produced: StoredRecord[] = [];
  for (const op of ops) {
    t += op.advance;
    const r = replicas[op.at];
    if (op.kind === 'sync') {
      const from = replicas[op.from].rec;
      if (!from) continue;
      r.clock.observe(from.meta.version);
      r.rec = mergeRecord(r.rec, from).record;
      produced.push(r.rec);
      continue;
    }
    if (r.rec) r.clock.observe(r.rec.meta.version);
    const ctx = { version: r.clock.now(), now: t };
    try {
      if (op.kind === 'blob') r.rec = blobRecord(r.rec, Uint8Array.of(op.byte, op.at), ctx);
      else if (op.kind === 'delete') r.rec = tombstoneRecord(r.rec, ctx);
      else if (op.kind === 'put') r.rec = docRecord(r.rec, { kind: 'put', json: op.json }, ctx);
      else r.rec = docRecord(r.rec, { kind: 'patch', patch: op.patch }, ctx);
    } catch (err) {
      if (err instanceof DocTypeConflictError) continue; // PATCH on a blob is refused, as the API does
      throw err;
    }
    produced.push(r.rec);
  }
  return { produced, finals: replicas.map((r) => r.rec) };
}
