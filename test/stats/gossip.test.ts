import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StatsPubSub } from '../../src/stats/gossip.ts';
import {
  ClusterView,
  createStats,
  createStatsGossip,
  decodeSummary,
  encodeSummary,
  type StatsGossip,
  StatsSummaryError,
} from '../../src/stats/index.ts';

const logger = pino({ level: 'silent' });
const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 6, 12);

/** In-memory pubsub: messages queue up; the test delivers them, duplicated and in any order. */
class FakeBus {
  readonly queue: Array<{ from: string; data: Uint8Array }> = [];
  readonly handlers = new Map<
    string,
    { handler: (d: Uint8Array, from: string) => void; validate?: (d: Uint8Array) => boolean }
  >();
  rejectedByValidator = 0;

  endpoint(node: string): StatsPubSub {
    return {
      publish: (_topic, data) => {
        this.queue.push({ from: node, data });
      },
      subscribe: (_topic, handler, validate) => {
        this.handlers.set(node, { handler, validate });
      },
    };
  }

  /** Delivers `msg` to every subscriber except its sender, the way gossipsub does (validator first). */
  deliver(msg: { from: string; data: Uint8Array }): void {
    for (const [node, h] of this.handlers) {
      if (node === msg.from) continue;
      if (h.validate && !h.validate(msg.data)) {
        this.rejectedByValidator++;
        continue;
      }
      h.handler(msg.data, msg.from);
    }
  }
}

function expectedSum(perNode: Array<Array<{ key: string; zone: string; write: boolean }>>) {
  const m = new Map<string, [number, number]>();
  for (const list of perNode) {
    for (const a of list) {
      const id = `${a.key}|${a.zone}`;
      const c = m.get(id) ?? [0, 0];
      c[a.write ? 1 : 0]++;
      m.set(id, c);
    }
  }
  return m;
}

describe('stats gossip across 3 daemons', () => {
  it('aggregates to the sum of what each saw, under re-delivery and reordering', async () => {
    const access = fc.record({
      node: fc.integer({ min: 0, max: 2 }),
      minute: fc.integer({ min: 0, max: 3 }),
      key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
      zone: fc.constantFrom('eu', 'us', 'asia'),
      write: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(access, { maxLength: 200 }), fc.integer(), async (accesses, seed) => {
        let now = T0;
        const bus = new FakeBus();
        const nodes = ['n0', 'n1', 'n2'].map((id, i) => {
          const stats = createStats({ logger, clock: () => now });
          const view = new ClusterView({ bucketMs: MIN });
          const gossip: StatsGossip = createStatsGossip(
            { stats, view, pubsub: bus.endpoint(id), logger, nodeId: id, zone: `z${i}`, clock: () => now },
            { buckets: 5, intervalMs: 3_600_000 },
          );
          gossip.start();
          return { id, stats, view, gossip };
        });
        const seen: Array<Array<{ key: string; zone: string; write: boolean }>> = [[], [], []];
        for (const a of [...accesses].sort((x, y) => x.minute - y.minute)) {
          nodes[a.node].stats.record(a.key, a.write ? 'w' : 'r', a.zone, 'app', 1, T0 + a.minute * MIN);
          seen[a.node].push(a);
        }
        // Publish twice (after minute 3 and again after minute 4) so summaries overlap.
        now = T0 + 4 * MIN + 1;
        for (const n of nodes) await n.gossip.publishNow();
        now = T0 + 5 * MIN + 1;
        for (const n of nodes) await n.gossip.publishNow();
        // Deliver every message twice, in a shuffled order.
        const msgs = [...bus.queue, ...bus.queue];
        let x = seed >>> 0 || 7;
        for (let i = msgs.length - 1; i > 0; i--) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          const j = x % (i + 1);
          [msgs[i], msgs[j]] = [msgs[j], msgs[i]];
        }
        for (const m of msgs) bus.deliver(m);
        const want = expectedSum(seen);
        for (const n of nodes) {
          for (const key of ['k1', 'k2', 'k3', 'k4']) {
            const rec = n.view.record(key);
            for (const zone of ['eu', 'us', 'asia']) {
              const got = rec.zones[zone] ? [rec.zones[zone].reads, rec.zones[zone].writes] : [0, 0];
              expect(got, `${n.id} sees ${key}/${zone}`).toEqual(want.get(`${key}|${zone}`) ?? [0, 0]);
            }
          }
          expect(n.gossip.rejected()).toEqual({});
        }
        for (const n of nodes) n.gossip.stop();
      }),
      { numRuns: 30 },
    );
  });

  it('rejects garbage, oversized, forged and mismatched summaries and counts them per sender', async () => {
    let now = T0;
    const bus = new FakeBus();
    const stats = createStats({ logger, clock: () => now });
    const view = new ClusterView({ bucketMs: MIN });
    const gossip = createStatsGossip({ stats, view, pubsub: bus.endpoint('me'), logger, nodeId: 'me', zone: 'eu' });
    gossip.start();
    const other = createStats({ logger, clock: () => now });
    other.record('k', 'r', 'eu', 'a', 1, T0);
    now = T0 + 2 * MIN;
    const good = encodeSummary(other, { node: 'peer', zone: 'us', seq: 1 });
    expect(gossip.validate(good)).toBe(true);
    expect(gossip.validate(new Uint8Array([0xc1, 0x00]))).toBe(false);
    expect(gossip.validate(new Uint8Array(300 * 1024))).toBe(false);
    const slowBuckets = createStats({ logger, clock: () => now }, { bucketMs: 120_000 });
    slowBuckets.record('k', 'r', 'eu', 'a', 1, T0);
    expect(gossip.validate(encodeSummary(slowBuckets, { node: 'peer', zone: 'us', seq: 1 }))).toBe(false);
    // A validly encoded summary that claims another sender is rejected by the handler.
    bus.deliver({ from: 'mallory', data: good });
    bus.deliver({ from: 'mallory', data: encode({ v: 1, hello: 'world' }) });
    expect(bus.rejectedByValidator).toBe(1);
    expect(gossip.rejected()).toEqual({ mallory: 1 });
    expect(view.nodes()).toEqual([]);
    bus.deliver({ from: 'peer', data: good });
    expect(view.record('k').zones.eu.reads).toBe(1);
    gossip.stop();
  });

  it('keeps summaries under maxBytes by sending fewer keys', () => {
    const now = T0 + 2 * MIN;
    const stats = createStats({ logger, clock: () => now });
    for (let i = 0; i < 2000; i++) stats.record(`some/fairly/long/key/number/${i}`, 'r', 'eu', 'a', 1, T0 + (i % 500));
    stats.record('hottest', 'r', 'eu', 'a', 1, T0);
    for (let i = 0; i < 50; i++) stats.record('hottest', 'r', 'eu', 'a', 1, T0);
    const bytes = encodeSummary(stats, { node: 'n', zone: 'eu', seq: 1, maxKeys: 4096, maxBytes: 8 * 1024 });
    expect(bytes.length).toBeLessThanOrEqual(8 * 1024);
    const msg = decodeSummary(bytes);
    expect(msg.keys[0]).toBe('hottest');
    expect(msg.keys.length).toBeGreaterThan(10);
  });
});

describe('summary codec', () => {
  const base = { v: 1, node: 'n', zone: 'z', seq: 3, bucketMs: MIN, from: 100, n: 2, zones: ['eu'], keys: ['a'] };
  const ok = { ...base, cells: [[0, 0, [1, 2], [0, 5]]] };

  it('round-trips a valid message', () => {
    expect(decodeSummary(encode(ok))).toEqual(ok);
  });

  it.each([
    ['unknown version', { ...ok, v: 2 }],
    ['extra field', { ...ok, extra: 1 }],
    ['missing field', { ...base }],
    ['negative count', { ...ok, cells: [[0, 0, [-1, 2], [0, 5]]] }],
    ['fractional count', { ...ok, cells: [[0, 0, [1.5, 2], [0, 5]]] }],
    ['wrong length', { ...ok, cells: [[0, 0, [1], [0, 5]]] }],
    ['key index out of range', { ...ok, cells: [[1, 0, [1, 2], [0, 5]]] }],
    ['duplicate cell', { ...ok, cells: [ok.cells[0], ok.cells[0]] }],
    ['duplicate key', { ...ok, keys: ['a', 'a'] }],
    ['empty key', { ...ok, keys: [''] }],
    ['too many buckets', { ...ok, n: 61 }],
    ['bad bucket width', { ...ok, bucketMs: 0 }],
    ['string seq', { ...ok, seq: '3' }],
  ])('rejects %s', (_name, msg) => {
    expect(() => decodeSummary(encode(msg))).toThrow(StatsSummaryError);
  });

  it('rejects anything random with a StatsSummaryError and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeSummary(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(StatsSummaryError);
          expect((err as StatsSummaryError).code).toBe('PROTOCOL_ERROR');
        }
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(() => decodeSummary(encode(value))).toThrow(StatsSummaryError);
      }),
    );
  });
});
