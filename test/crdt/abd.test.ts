/**
 * Linearizable mode as replication will run it (ABD: majority reads with write-back, writes with a
 * fresh HLC version above a majority's), simulated over in-memory replicas with mergeRecord, under
 * random message interleavings; every recorded history must pass the linearizability checker. The
 * same simulation without the read write-back produces a history the checker rejects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blobRecord, createHlc, type HlcClock, mergeRecord, mergeRecords } from '../../src/crdt/index.ts';
import type { StoredRecord } from '../../src/store/index.ts';
import { checkRegisterHistory, type RegisterOp } from '../support/linearizability.ts';

const N = 3;
const MAJORITY = 2;

interface Op {
  process: number;
  type: 'write' | 'read';
  value?: number;
  phase: 1 | 2;
  contacted: Set<number>;
  replies: Array<StoredRecord | undefined>;
  record?: StoredRecord;
  entry: RegisterOp<number | undefined>;
}

/** A step starts the next operation, or delivers one message of an active operation to a replica. */
type Step = { start: true } | { start?: false; op?: number; process?: number; replica: number };

function simulate(schedule: Step[], specs: Array<{ write: boolean }>, writeBack: boolean) {
  const replicas: Array<StoredRecord | undefined> = Array.from({ length: N }, () => undefined);
  const clocks: HlcClock[] = specs.map((_, p) => createHlc({ node: `p${p}`, physical: () => 1_000 }));
  const history: RegisterOp<number | undefined>[] = [];
  let time = 0;
  const active: Op[] = [];
  let next = 0;
  const start = () => {
    const p = next++;
    const spec = specs[p];
    const entry: RegisterOp<number | undefined> = {
      process: p,
      type: spec.write ? 'write' : 'read',
      value: spec.write ? p : undefined,
      invoke: time++,
    };
    history.push(entry);
    active.push({
      process: p,
      type: entry.type,
      value: entry.value,
      phase: 1,
      contacted: new Set(),
      replies: [],
      entry,
    });
  };
  const registerValue = (r: StoredRecord | undefined) => (r && !r.meta.tombstone ? r.value[0] : undefined);
  for (const step of schedule) {
    if (step.start || active.length === 0) {
      if (next < specs.length) start();
      continue;
    }
    const op =
      step.process !== undefined
        ? active.find((o) => o.process === step.process)
        : active[(step.op ?? 0) % active.length];
    if (!op) continue;
    let replica = step.replica % N;
    while (op.contacted.has(replica)) replica = (replica + 1) % N;
    op.contacted.add(replica);
    if (op.phase === 1) {
      op.replies.push(replicas[replica]);
      if (op.replies.length < MAJORITY) continue;
      const merged = mergeRecords(op.replies);
      if (op.type === 'write') {
        const clock = clocks[op.process];
        if (merged) clock.observe(merged.meta.version);
        op.record = blobRecord(merged, Uint8Array.of(op.value!), { version: clock.now(), now: 0 });
      } else {
        op.record = merged;
        if (!writeBack || !merged) {
          op.entry.value = registerValue(merged);
          op.entry.complete = time++;
          active.splice(active.indexOf(op), 1);
          continue;
        }
      }
      op.phase = 2;
      op.contacted = new Set();
      op.replies = [];
    } else {
      replicas[replica] = mergeRecord(replicas[replica], op.record!).record;
      op.replies.push(undefined);
      if (op.replies.length < MAJORITY) continue;
      if (op.type === 'read') op.entry.value = registerValue(op.record);
      op.entry.complete = time++;
      active.splice(active.indexOf(op), 1);
    }
  }
  return history; // operations still running stay incomplete
}

describe('ABD over mergeRecord', () => {
  it('gives linearizable histories under random interleavings', () => {
    const arb = fc.tuple(
      fc.array(
        fc.oneof(
          fc.record({ start: fc.constant(true as const) }),
          fc.record({ op: fc.nat(5), replica: fc.nat(N - 1) }),
          fc.record({ op: fc.nat(5), replica: fc.nat(N - 1) }),
        ),
        { minLength: 20, maxLength: 300 },
      ),
      fc.array(fc.record({ write: fc.boolean() }), { minLength: 2, maxLength: 25 }),
    );
    fc.assert(
      fc.property(arb, ([schedule, specs]) => {
        const result = checkRegisterHistory(simulate(schedule, specs, true));
        expect(result.ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('without the read write-back, the checker finds a new-then-old read', () => {
    const specs = [{ write: true }, { write: false }, { write: false }];
    const schedule: Step[] = [
      { start: true },
      { process: 0, replica: 0 },
      { process: 0, replica: 1 }, // p0 read a majority: nothing yet
      { process: 0, replica: 0 }, // p0 stored 0 on replica 0 only, still running
      { start: true },
      { process: 1, replica: 0 },
      { process: 1, replica: 1 }, // p1 saw 0 (without write-back: answers now)
      { process: 1, replica: 1 }, // with write-back: p1 writes 0 back to replicas 1 and 2
      { process: 1, replica: 2 },
      { start: true },
      { process: 2, replica: 1 },
      { process: 2, replica: 2 }, // p2 reads replicas 1 and 2
      { process: 2, replica: 1 }, // with write-back: p2 writes back
      { process: 2, replica: 2 },
    ];
    const broken = simulate(schedule, specs, false);
    expect(broken.map((o) => o.value)).toEqual([0, 0, undefined]);
    expect(checkRegisterHistory(broken).ok).toBe(false);
    const fixed = simulate(schedule, specs, true);
    expect(fixed.map((o) => o.value)).toEqual([0, 0, 0]);
    expect(checkRegisterHistory(fixed).ok).toBe(true);
  });
});
