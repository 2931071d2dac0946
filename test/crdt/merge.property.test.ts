import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeDocValue, docToJson, isLiveDoc, mergeRecord, mergeRecords, recordsEqual } from '../../src/crdt/index.ts';
import type { StoredRecord } from '../../src/store/index.ts';
import { historyArb, runHistory } from './history.ts';

const m = (a: StoredRecord, b: StoredRecord) => mergeRecord(a, b).record;

/** A readable form for failure messages. */
function view(r: StoredRecord | undefined): unknown {
  if (!r) return undefined;
  if (r.meta.tombstone) return { tombstone: r.meta.version };
  if (isLiveDoc(r)) return { doc: docToJson(decodeDocValue(r.value).state), v: r.meta.version };
  return { blob: Array.from(r.value), v: r.meta.version };
}

function expectSame(a: StoredRecord | undefined, b: StoredRecord | undefined): void {
  const same = a === b || (a !== undefined && b !== undefined && recordsEqual(a, b));
  if (!same) expect(view(a)).toEqual(view(b)); // shows the difference
  expect(same).toBe(true);
}

const withPick = historyArb.chain((ops) => {
  const { produced } = runHistory(ops);
  const n = Math.max(produced.length, 1);
  const idx = fc.integer({ min: 0, max: n - 1 });
  return fc.tuple(fc.constant(produced), idx, idx, idx);
});

describe('mergeRecord over random histories (blobs, docs, tombstones, type changes)', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(withPick, ([pool, i, j]) => {
        if (pool.length === 0) return;
        expectSame(m(pool[i], pool[j]), m(pool[j], pool[i]));
      }),
      { numRuns: 300 },
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(withPick, ([pool, i, j, k]) => {
        if (pool.length === 0) return;
        const [a, b, c] = [pool[i], pool[j], pool[k]];
        expectSame(m(m(a, b), c), m(a, m(b, c)));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent, and merging again changes nothing', () => {
    fc.assert(
      fc.property(withPick, ([pool, i, j]) => {
        if (pool.length === 0) return;
        const [a, b] = [pool[i], pool[j]];
        const self = mergeRecord(a, a);
        expect(self.changed).toBe(false);
        expectSame(self.record, a);
        const ab = m(a, b);
        const again = mergeRecord(ab, b);
        expect(again.changed).toBe(false);
        expectSame(again.record, ab);
      }),
      { numRuns: 300 },
    );
  });

  it('reports changed exactly when the local copy differs from the result', () => {
    fc.assert(
      fc.property(withPick, ([pool, i, j]) => {
        if (pool.length === 0) return;
        const { record, changed } = mergeRecord(pool[i], pool[j]);
        expect(changed).toBe(!recordsEqual(record, pool[i]));
      }),
      { numRuns: 200 },
    );
  });

  it('converges: any delivery order of all copies gives the same record on every replica', () => {
    const deliveries = historyArb.chain((ops) => {
      const { produced } = runHistory(ops);
      const order = fc.shuffledSubarray(produced, { minLength: produced.length, maxLength: produced.length });
      return fc.tuple(fc.constant(produced), order, order);
    });
    fc.assert(
      fc.property(deliveries, ([produced, first, second]) => {
        // Each replica receives every copy once, in its own order, some of them twice.
        const r1 = mergeRecords(first);
        const r2 = mergeRecords([...second, ...first.slice(0, 3)]);
        expectSame(r1, r2);
        if (produced.length > 0) expect(r1).toBeDefined();
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every operation of both docs when their horizons are equal (concurrent edits survive)', () => {
    fc.assert(
      fc.property(withPick, ([pool, i, j]) => {
        if (pool.length === 0) return;
        const [a, b] = [pool[i], pool[j]];
        if (!isLiveDoc(a) || !isLiveDoc(b)) return;
        if (decodeDocValue(a.value).horizon !== decodeDocValue(b.value).horizon) return;
        const merged = decodeDocValue(m(a, b).value).state;
        const sv = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(merged));
        for (const input of [a, b]) {
          const inputSv = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(decodeDocValue(input.value).state));
          for (const [client, clock] of inputSv) expect(sv.get(client) ?? 0).toBeGreaterThanOrEqual(clock);
        }
      }),
      { numRuns: 200 },
    );
  });
});
