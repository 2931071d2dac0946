/**
 * Fuzzing the stats summaries a daemon receives over gossip (src/stats: codec, gossip handler, cluster view),
 * as units with an in-memory pubsub. Hostile messages: random bytes, valid summaries cut short or with a byte
 * changed, oversized ones, and forged ones (well-formed msgpack with one field wrong, another sender's name,
 * buckets from the future). Properties: the validator and the handler never throw; whatever the validator
 * refuses, or the handler rejects, leaves the cluster view exactly as it was.
 */
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StatsPubSub } from '../../src/stats/gossip.ts';
import { ClusterView, createStatsGossip, decodeSummary, type SummaryMessage } from '../../src/stats/index.ts';
import { fuzzRuns } from './support.ts';

const BUCKET_MS = 60_000;
const NOW = Date.UTC(2025, 0, 6, 12);
const NOW_BUCKET = Math.floor(NOW / BUCKET_MS);

/** A well-formed summary of `node` ending with the bucket before now. */
function summary(node: string, over: Partial<SummaryMessage> = {}): SummaryMessage {
  return {
    v: 1,
    node,
    zone: 'z1',
    seq: 10,
    bucketMs: BUCKET_MS,
    from: NOW_BUCKET - 3,
    n: 3,
    zones: ['z1', 'z2'],
    keys: ['a', 'b/..', 'é'],
    cells: [
      [0, 0, [1, 2, 3], [0, 1, 0]],
      [1, 1, [5, 0, 0], [0, 0, 2], [1, 0, 0], [0, 0, 1]],
      [2, 0, [0, 0, 9], [0, 0, 0]],
    ],
    ...over,
  };
}

/** A receiving daemon: its view (already holding two peers' summaries) and the gossip's handler and validator. */
function receiver() {
  const view = new ClusterView({ bucketMs: BUCKET_MS });
  let handler: ((data: Uint8Array, from: string) => void) | undefined;
  let validator: ((data: Uint8Array) => boolean) | undefined;
  const pubsub: StatsPubSub = {
    publish: () => undefined,
    subscribe: (_topic, h, v) => {
      handler = h;
      validator = v;
    },
  };
  const gossip = createStatsGossip(
    {
      stats: { recentBuckets: () => ({ from: 0, rows: [] }), bucketMs: BUCKET_MS, tick: () => undefined },
      view,
      pubsub,
      logger: pino({ level: 'silent' }),
      nodeId: 'self',
      zone: 'z1',
      clock: () => NOW,
    },
    { intervalMs: 3_600_000 },
  );
  gossip.start();
  for (const p of ['p1', 'p2']) handler!(encode(summary(p)), p);
  return { view, gossip, handler: handler!, validator: validator!, stop: () => gossip.stop() };
}

/** Everything the view answers with. */
function state(view: ClusterView): string {
  const demand = view.demand({ windowMs: 60 * BUCKET_MS });
  return JSON.stringify({
    nodes: view.nodes(),
    newest: view.newestBucket,
    totals: view.totals(),
    top: view.top({ limit: 1000 }),
    demand: [...demand.records],
    a: view.record('a'),
  });
}

/** One field of a valid summary set to a hostile value. */
const forgedField = fc.oneof(
  fc.record({
    field: fc.constantFrom(
      'v',
      'node',
      'zone',
      'seq',
      'bucketMs',
      'from',
      'n',
      'zones',
      'keys',
      'cells',
      '__proto__',
      'extra',
    ),
    value: fc.oneof(
      fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 0, 61, 3_600_001, 999),
      fc.constantFrom('', 'x'.repeat(300), null, true, {}, [], ['z1', 'z1'], [''], ['x'.repeat(1025)]),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
  // cells with out-of-range indices, wrong lengths, duplicates, negative or huge counts, class counts over the total
  fc.record({
    field: fc.constant('cells'),
    value: fc.constantFrom(
      [[3, 0, [1, 1, 1], [1, 1, 1]]],
      [[0, 2, [1, 1, 1], [1, 1, 1]]],
      [[0, 0, [1, 1], [1, 1, 1]]],
      [
        [0, 0, [1, 1, 1], [1, 1, 1]],
        [0, 0, [1, 1, 1], [1, 1, 1]],
      ],
      [[0, 0, [-1, 1, 1], [1, 1, 1]]],
      [[0, 0, [2 ** 32, 1, 1], [1, 1, 1]]],
      [[0, 0, [1, 1, 1], [1, 1, 1], [5, 0, 0], [0, 0, 0]]],
      [[0, 0, [1, 1, 1], [1, 1, 1], [0, 0, 0]]],
      [[-1, 0, [1, 1, 1], [1, 1, 1]]],
      Array.from({ length: 7 }, (_, i) => [i % 3, i % 2, [1, 1, 1], [1, 1, 1]]),
    ),
  }),
);

/** Bytes a peer (or anyone on the topic) might send, and who the authenticated sender is. */
const hostile = fc.oneof(
  fc.record({ bytes: fc.uint8Array({ maxLength: 2048 }), from: fc.constantFrom('p1', 'p3') }),
  fc.tuple(fc.nat(), fc.constantFrom('p1', 'p3')).map(([cut, from]) => {
    const b = encode(summary(from));
    return { bytes: b.subarray(0, cut % b.length), from };
  }),
  fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('p1', 'p3')).map(([at, byte, from]) => {
    const b = encode(summary(from));
    b[at % b.length] = byte;
    return { bytes: b, from };
  }),
  fc.constantFrom(256 * 1024 + 1, 64 * 1024 + 1).map((n) => ({ bytes: new Uint8Array(n), from: 'p3' })),
  fc.tuple(forgedField, fc.constantFrom('p1', 'p3')).map(([f, from]) => {
    const m: Record<string, unknown> = { ...summary(from) };
    if (f.field === '__proto__') Object.defineProperty(m, '__proto__', { value: f.value, enumerable: true });
    else m[f.field] = f.value;
    return { bytes: encode(m), from };
  }),
  // a well-formed summary under another sender's name
  fc.constantFrom('p1', 'p2', 'self').map((node) => ({ bytes: encode(summary(node, { seq: 99 })), from: 'p3' })),
  // buckets that have not happened yet: an honest daemon only sends closed ones
  fc
    .tuple(fc.integer({ min: 2, max: 2 ** 40 }), fc.constantFrom('p1', 'p3'))
    .map(([ahead, from]) => ({ bytes: encode(summary(from, { from: NOW_BUCKET + ahead, seq: 99 })), from })),
);

describe('stats summaries over gossip under hostile input', () => {
  it('the validator and the handler never throw, and a refused or rejected summary changes nothing', () => {
    fc.assert(
      fc.property(hostile, ({ bytes, from }) => {
        const r = receiver();
        try {
          const before = state(r.view);
          const accepted = r.validator(bytes);
          const rejectedBefore = r.gossip.rejected()[from] ?? 0;
          r.handler(bytes, from);
          const rejected = (r.gossip.rejected()[from] ?? 0) > rejectedBefore;
          if (!accepted) expect(rejected, 'the handler takes what the validator refuses').toBe(true);
          if (rejected) expect(state(r.view)).toBe(before);
          else {
            const m = decodeSummary(bytes);
            expect(m.node, 'only the sender itself can change its counts').toBe(from);
            expect(m.from + m.n - 1, 'closed buckets only (a bucket of clock skew allowed)').toBeLessThanOrEqual(
              NOW_BUCKET + 1,
            );
          }
        } finally {
          r.stop();
        }
      }),
      fuzzRuns(0x5eed_0003, 600),
    );
  });

  it('a summary from the future is refused: it would push every real bucket out of the retained window', () => {
    const r = receiver();
    try {
      const before = state(r.view);
      expect(JSON.parse(before).totals.z1.reads).toBeGreaterThan(0);
      const future = encode(summary('p1', { from: NOW_BUCKET + 1_000_000, seq: 99 }));
      expect(r.validator(future)).toBe(false);
      r.handler(future, 'p1');
      expect(state(r.view)).toBe(before);
      // A newer honest summary still applies (the check is not a frozen view).
      const next = encode(summary('p1', { from: NOW_BUCKET - 2, n: 1, cells: [[0, 0, [7], [0]]], seq: 100 }));
      expect(r.validator(next)).toBe(true);
      r.handler(next, 'p1');
      expect(state(r.view)).not.toBe(before);
    } finally {
      r.stop();
    }
  });
});
