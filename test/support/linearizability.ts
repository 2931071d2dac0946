/**
 * A linearizability checker for a single read/write register: Wing & Gong's search with Lowe's
 * just-in-time linearisation and memoisation of (set of linearised operations, register value), as in
 * Knossos and Porcupine. Used by the `linearizable` consistency tests: record a concurrent history of
 * client operations against one key, then check it.
 *
 * An operation has an invocation time and, if the client saw an answer, a completion time. An
 * incomplete write (crashed client, timeout) may have taken effect at any time after its invocation,
 * or never; one whose value no read returned is left out of the search. An incomplete read tells nothing and is ignored. Operations whose intervals overlap are
 * concurrent; an operation that completed before another was invoked must be ordered first. At equal
 * timestamps an invocation counts as before a completion (overlap: the permissive reading).
 */

export interface RegisterOp<V> {
  process: string | number;
  type: 'write' | 'read';
  /** Written value, or the value the read returned (ignored for incomplete reads). */
  value: V;
  invoke: number;
  /** Absent when the outcome is unknown. */
  complete?: number;
}

export interface CheckOptions<V> {
  /** Register value before the history (default undefined: reads of a missing key). */
  initial?: V;
  /** Identity of a value for comparison and memoisation (default JSON.stringify). */
  key?: (value: V | undefined) => string;
  /** Search budget; beyond it the answer is 'unknown' (default 5,000,000 steps). */
  maxSteps?: number;
}

export type CheckResult =
  | { ok: true /** indices into the history, in linearisation order */; order: number[] }
  | { ok: false /** the longest linearisable prefix found */; longestPrefix: number[]; reason: string }
  | { ok: 'unknown'; steps: number };

interface Entry {
  id: number;
  call: boolean;
  time: number;
  match?: Entry; // call -> its return
  prev?: Entry;
  next?: Entry;
}

const defaultKey = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v));

export function checkRegisterHistory<V>(
  history: ReadonlyArray<RegisterOp<V>>,
  options: CheckOptions<V> = {},
): CheckResult {
  const key = options.key ?? defaultKey;
  const maxSteps = options.maxSteps ?? 5_000_000;
  // An incomplete write whose value no read returned can be left out: wherever it took effect, the next
  // write came before any read, so dropping it keeps every linearisation valid. Without this, proving a
  // history wrong costs 2^(incomplete writes) orders.
  const readValues = new Set(
    history.filter((op) => op.type === 'read' && op.complete !== undefined).map((op) => key(op.value)),
  );
  const ops = history
    .map((op, index) => ({ op, index }))
    .filter(({ op }) =>
      op.type === 'write' ? op.complete !== undefined || readValues.has(key(op.value)) : op.complete !== undefined,
    );
  const events: Entry[] = [];
  for (let id = 0; id < ops.length; id++) {
    const { op } = ops[id];
    const call: Entry = { id, call: true, time: op.invoke };
    const ret: Entry = { id, call: false, time: op.complete ?? Number.POSITIVE_INFINITY };
    call.match = ret;
    events.push(call, ret);
  }
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? 0 : a.call ? -1 : 1));
  const head: Entry = { id: -1, call: false, time: Number.NEGATIVE_INFINITY };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (e: Entry) => {
    for (const x of [e, e.match!]) {
      x.prev!.next = x.next;
      if (x.next) x.next.prev = x.prev;
    }
  };
  const unlift = (e: Entry) => {
    for (const x of [e.match!, e]) {
      x.prev!.next = x;
      if (x.next) x.next.prev = x;
    }
  };

  const words = new Uint32Array(Math.ceil(ops.length / 32) || 1);
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: V | undefined }> = [];
  let remaining = ops.filter(({ op }) => op.complete !== undefined).length;
  let state: V | undefined = options.initial;
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];

  while (remaining > 0) {
    if (++steps > maxSteps) return { ok: 'unknown', steps };
    if (entry?.call) {
      const { op } = ops[entry.id];
      const legal = op.type === 'write' || key(op.value) === key(state);
      const next = op.type === 'write' ? op.value : state;
      if (legal) {
        words[entry.id >>> 5] ^= 1 << (entry.id & 31);
        const memo = `${words.join(',')}|${key(next)}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ entry, state });
          state = next;
          lift(entry);
          if (op.complete !== undefined) remaining--;
          if (stack.length > longest.length) longest = stack.map((s) => ops[s.entry.id].index);
          entry = head.next;
          continue;
        }
        words[entry.id >>> 5] ^= 1 << (entry.id & 31);
      }
      entry = entry.next;
    } else {
      // A completion (or the end) reached with no way to place its operation: backtrack.
      const top = stack.pop();
      if (!top) {
        const blocked = entry ? ops[entry.id] : undefined;
        const why = blocked
          ? `operation #${blocked.index} (process ${blocked.op.process}, ${blocked.op.type} ${key(blocked.op.value)}) cannot be placed`
          : 'no order fits';
        return { ok: false, longestPrefix: longest, reason: `not linearizable: ${why}` };
      }
      unlift(top.entry);
      words[top.entry.id >>> 5] ^= 1 << (top.entry.id & 31);
      state = top.state;
      if (ops[top.entry.id].op.complete !== undefined) remaining++;
      entry = top.entry.next;
    }
  }
  return { ok: true, order: stack.map((s) => ops[s.entry.id].index) };
}

/** Records a history from real clients: one monotonic clock, one entry per operation. */
export interface HistoryRecorder<V> {
  /** Marks the invocation; call the returned functions when the answer (or a failure) arrives. */
  invoke(
    process: string | number,
    type: 'write' | 'read',
    value?: V,
  ): {
    /** The operation took effect; a read passes the value it returned. */
    ok(readValue?: V): void;
    /** The operation certainly did not take effect (for example, refused before sending). */
    fail(): void;
    /** Outcome unknown (timeout, crash): the operation stays incomplete. */
    info(): void;
  };
  history(): RegisterOp<V>[];
}

export function createHistoryRecorder<V>(now: () => number = () => performance.now()): HistoryRecorder<V> {
  const ops: Array<RegisterOp<V> | undefined> = [];
  return {
    invoke(process, type, value) {
      const op: RegisterOp<V> = { process, type, value: value as V, invoke: now() };
      const slot = ops.push(op) - 1;
      return {
        ok(readValue) {
          if (type === 'read') op.value = readValue as V;
          op.complete = now();
        },
        fail() {
          ops[slot] = undefined;
        },
        info() {},
      };
    },
    history() {
      return ops.filter((o): o is RegisterOp<V> => o !== undefined);
    },
  };
}
