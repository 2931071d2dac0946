import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRegisterHistory, createHistoryRecorder, type RegisterOp } from '../support/linearizability.ts';

const w = (process: number, value: number, invoke: number, complete?: number): RegisterOp<number> => ({
  process,
  type: 'write',
  value,
  invoke,
  complete,
});
const r = (
  process: number,
  value: number | undefined,
  invoke: number,
  complete?: number,
): RegisterOp<number | undefined> => ({
  process,
  type: 'read',
  value,
  invoke,
  complete,
});

describe('checkRegisterHistory', () => {
  it('accepts a sequential history and returns its order', () => {
    const h = [w(1, 1, 0, 1), r(2, 1, 2, 3), w(1, 2, 4, 5), r(2, 2, 6, 7)];
    expect(checkRegisterHistory(h)).toEqual({ ok: true, order: [0, 1, 2, 3] });
  });

  it('accepts a read overlapping a write that returns either the old or the new value', () => {
    for (const seen of [undefined, 1]) {
      expect(checkRegisterHistory([w(1, 1, 0, 10), r(2, seen, 2, 5)]).ok).toBe(true);
    }
  });

  it('rejects a stale read after a completed write', () => {
    const h = [w(1, 1, 0, 1), w(1, 2, 2, 3), r(2, 1, 4, 5)];
    const result = checkRegisterHistory(h);
    expect(result.ok).toBe(false);
    if (result.ok === false) expect(result.reason).toMatch(/not linearizable/);
  });

  it('rejects a new-then-old inversion of two reads during one write', () => {
    const h = [w(1, 1, 0, 10), r(2, 1, 1, 2), r(3, undefined, 3, 4)];
    expect(checkRegisterHistory(h).ok).toBe(false);
  });

  it('rejects a read of a value nobody wrote', () => {
    expect(checkRegisterHistory([w(1, 1, 0, 1), r(2, 7, 2, 3)]).ok).toBe(false);
  });

  it('lets an incomplete write take effect late, or never, but not undo itself', () => {
    const crashed = w(1, 1, 0);
    expect(checkRegisterHistory([crashed, r(2, 1, 5, 6)]).ok).toBe(true);
    expect(checkRegisterHistory([crashed, r(2, undefined, 5, 6), r(2, undefined, 7, 8)]).ok).toBe(true);
    expect(checkRegisterHistory([crashed, r(2, undefined, 5, 6), r(2, 1, 7, 8)]).ok).toBe(true);
    expect(checkRegisterHistory([crashed, r(2, 1, 5, 6), r(2, undefined, 7, 8)]).ok).toBe(false);
    // It cannot take effect before it was invoked.
    expect(checkRegisterHistory([r(2, 1, 0, 1), w(1, 1, 2)]).ok).toBe(false);
  });

  it('proves a stale read wrong in spite of many incomplete writes nobody read', () => {
    // 40 crashed writers: 2^40 subsets of them may have taken effect. None was read, so none matters.
    const crashed = Array.from({ length: 40 }, (_, i) => w(10 + i, 100 + i, i));
    const h = [w(1, 1, 0, 1), ...crashed, w(1, 2, 50, 51), r(2, 1, 52, 53)];
    const result = checkRegisterHistory(h, { maxSteps: 100_000 });
    expect(result.ok).toBe(false);
    expect(checkRegisterHistory([...crashed, w(1, 2, 50, 51), r(2, 2, 52, 53)], { maxSteps: 100_000 }).ok).toBe(true);
  });

  it('ignores incomplete reads', () => {
    expect(checkRegisterHistory([w(1, 1, 0, 1), r(2, 99, 2)]).ok).toBe(true);
  });

  /** A true atomic register, 5 processes: each op takes effect at a random instant inside its interval. */
  const atomicHistory = fc
    .array(
      fc.record({
        process: fc.integer({ min: 0, max: 4 }),
        write: fc.boolean(),
        gap: fc.integer({ min: 0, max: 5 }),
        len: fc.integer({ min: 1, max: 40 }),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        crash: fc.integer({ min: 0, max: 30 }),
      }),
      { minLength: 200, maxLength: 200 },
    )
    .map((specs) => {
      const free = [0, 0, 0, 0, 0];
      const planned = specs.map((s, i) => {
        const invoke = free[s.process] + s.gap;
        const complete = invoke + s.len;
        free[s.process] = complete + 1;
        return { ...s, i, invoke, complete, effect: invoke + s.at * s.len };
      });
      let value: number | undefined;
      const history: RegisterOp<number | undefined>[] = [];
      for (const p of [...planned].sort((a, b) => a.effect - b.effect)) {
        if (p.write) value = p.i;
        const crashed = p.write && p.crash === 0;
        history[p.i] = {
          process: p.process,
          type: p.write ? 'write' : 'read',
          value: p.write ? p.i : value,
          invoke: p.invoke,
          complete: crashed ? undefined : p.complete,
        };
      }
      const end = Math.max(...free) + 1;
      return { history, end };
    });

  it('accepts 200-operation histories of an atomic register from 5 processes', () => {
    fc.assert(
      fc.property(atomicHistory, ({ history }) => {
        expect(checkRegisterHistory(history).ok).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects the same histories once a final read returns an overwritten value', () => {
    fc.assert(
      fc.property(atomicHistory, ({ history, end }) => {
        const earlier = history.find((op) => op.type === 'write' && op.complete !== undefined);
        if (earlier) {
          const stale = [...history, w(9, -1, end, end + 1), r(9, earlier.value, end + 2, end + 3)];
          expect(checkRegisterHistory(stale).ok).toBe(false);
        }
        const overwritten = [
          ...history,
          w(9, -1, end, end + 1),
          w(9, -2, end + 2, end + 3),
          r(8, -1, end + 4, end + 5),
        ];
        expect(checkRegisterHistory(overwritten).ok).toBe(false);
      }),
      { numRuns: 10 },
    );
  });

  it('records histories from clients with the recorder', () => {
    let t = 0;
    const rec = createHistoryRecorder<number>(() => t++);
    const a = rec.invoke(1, 'write', 5);
    const b = rec.invoke(2, 'read');
    a.ok();
    b.ok(5);
    rec.invoke(3, 'write', 6).fail();
    rec.invoke(4, 'write', 7).info();
    const h = rec.history();
    expect(h).toHaveLength(3);
    expect(h[2].complete).toBeUndefined();
    expect(checkRegisterHistory(h).ok).toBe(true);
  });
});
