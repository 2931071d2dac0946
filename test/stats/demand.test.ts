import { decode, encode } from '@msgpack/msgpack';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StatsPubSub } from '../../src/stats/gossip.ts';
import {
  ClusterView,
  createStats,
  createStatsGossip,
  type DemandClass,
  decodeSummary,
  encodeSummary,
  type Stats,
  StatsSummaryError,
} from '../../src/stats/index.ts';

const logger = pino({ level: 'silent' });
const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 6, 12);

function at(clock: { now: number }): Stats {
  return createStats({ logger, clock: () => clock.now });
}

/** Records `n` reads of `key` from `zone` at class `cls` at time `ts`. */
function reads(s: Stats, key: string, zone: string, cls: DemandClass | undefined, n: number, ts: number): void {
  for (let i = 0; i < n; i++) s.record(key, i % 2 ? 'w' : 'r', zone, 'app', 1, ts + i, cls);
}

const silentBus: StatsPubSub = { publish: () => {}, subscribe: () => {} };

describe('demand classes in the statistics', () => {
  it('counts each class per (key, zone) and bucket, with reads and writes unchanged', () => {
    const clock = { now: T0 };
    const s = at(clock);
    reads(s, 'k', 'eu', 'one', 3, T0);
    reads(s, 'k', 'eu', 'all', 2, T0);
    reads(s, 'k', 'eu', undefined, 4, T0); // default: majority
    reads(s, 'k', 'us', 'majority', 5, T0 + MIN);
    clock.now = T0 + 2 * MIN;
    const { from, rows } = s.recentBuckets(2, 10);
    expect(from).toBe(Math.floor(T0 / MIN));
    const eu = rows.find((r) => r.zone === 'eu')!;
    expect(eu.one).toEqual([3, 0]);
    expect(eu.all).toEqual([2, 0]);
    expect(eu.reads[0] + eu.writes[0]).toBe(9);
    const us = rows.find((r) => r.zone === 'us')!;
    expect([us.one, us.all, us.reads[1] + us.writes[1]]).toEqual([[0, 0], [0, 0], 5]);
    expect(s.top({ zone: 'eu' })[0]).toMatchObject({ key: 'k', reads: 5, writes: 4 });
  });

  it('bucketRows includes the open bucket, with its classes', () => {
    const clock = { now: T0 + 10 };
    const s = at(clock);
    reads(s, 'k', 'eu', 'one', 2, T0 - MIN); // closed bucket
    reads(s, 'open-only', 'eu', 'all', 3, T0);
    const open = s.openBucket();
    expect(open).toBe(Math.floor(T0 / MIN));
    const rows = s.bucketRows(open - 1, 2);
    expect(rows.find((r) => r.key === 'k')).toMatchObject({ zone: 'eu', one: [2, 0], all: [0, 0], total: 2 });
    expect(rows.find((r) => r.key === 'open-only')).toMatchObject({ one: [0, 0], all: [0, 3], total: 3 });
    expect(s.bucketRows(open - 1, 2, ['k']).map((r) => r.key)).toEqual(['k']);
  });
});

describe('demand classes in gossip summaries', () => {
  it('round-trip through the codec, and default-class cells stay in the old 4-field form', () => {
    const clock = { now: T0 };
    const s = at(clock);
    reads(s, 'mixed', 'eu', 'one', 3, T0);
    reads(s, 'mixed', 'eu', 'all', 1, T0);
    reads(s, 'plain', 'eu', undefined, 2, T0);
    clock.now = T0 + MIN;
    const bytes = encodeSummary(s, { node: 'n1', zone: 'eu', seq: 1, buckets: 1 });
    const msg = decodeSummary(bytes);
    const byKey = new Map(msg.cells.map((c) => [msg.keys[c[0]], c]));
    expect(byKey.get('mixed')).toEqual([expect.any(Number), expect.any(Number), [3], [1], [3], [1]]);
    expect(byKey.get('plain')?.length).toBe(4);
    const view = new ClusterView({ bucketMs: MIN });
    view.ingest(msg);
    const d = view.demand({ windowMs: MIN });
    expect(d.records.get('mixed')).toEqual([{ zone: 'eu', one: 3, majority: 0, all: 1 }]);
    expect(d.records.get('plain')).toEqual([{ zone: 'eu', one: 0, majority: 2, all: 0 }]);
  });

  it('an older daemon’s summary (no class arrays) counts as majority; inconsistent classes are rejected', () => {
    const old = {
      v: 1,
      node: 'old',
      zone: 'us',
      seq: 1,
      bucketMs: MIN,
      from: Math.floor(T0 / MIN),
      n: 1,
      zones: ['us'],
      keys: ['k'],
      cells: [[0, 0, [4], [1]]],
    };
    const view = new ClusterView({ bucketMs: MIN });
    view.ingest(decodeSummary(encode(old)));
    expect(view.demand({ windowMs: MIN }).records.get('k')).toEqual([{ zone: 'us', one: 0, majority: 5, all: 0 }]);
    const bad = { ...old, cells: [[0, 0, [4], [1], [4], [2]]] };
    expect(() => decodeSummary(encode(bad))).toThrow(StatsSummaryError);
    const short = { ...old, cells: [[0, 0, [4], [1], [1]]] };
    expect(() => decodeSummary(encode(short))).toThrow(StatsSummaryError);
    // The encoder's output for mixed traffic decodes as msgpack with 6-entry cells (documented format).
    expect((decode(encode(bad)) as { cells: unknown[][] }).cells[0].length).toBe(6);
  });
});

describe('cluster demand', () => {
  /** Two daemons over a shared in-memory bus: summaries of `b` reach `a`'s view when delivered. */
  function pair(clock: { now: number }) {
    const queue: Array<{ from: string; data: Uint8Array }> = [];
    const handlers = new Map<string, (d: Uint8Array, from: string) => void>();
    const node = (id: string, zone: string) => {
      const stats = at(clock);
      const view = new ClusterView({ bucketMs: MIN, local: stats });
      const pubsub: StatsPubSub = {
        publish: (_t, data) => {
          queue.push({ from: id, data });
        },
        subscribe: (_t, h) => {
          handlers.set(id, h);
        },
      };
      const gossip = createStatsGossip(
        { stats, view, pubsub, logger, nodeId: id, zone, clock: () => clock.now },
        { intervalMs: 3_600_000 },
      );
      gossip.start();
      return { id, stats, view, gossip };
    };
    const a = node('a', 'eu');
    const b = node('b', 'us');
    const deliver = () => {
      for (const m of queue.splice(0)) for (const [id, h] of handlers) if (id !== m.from) h(m.data, m.from);
    };
    return { a, b, deliver };
  }

  it('merges peers’ summaries with this daemon’s latest counts, per key and zone, by class', async () => {
    const clock = { now: T0 };
    const { a, b, deliver } = pair(clock);
    reads(a.stats, 'k', 'eu', 'one', 4, T0);
    reads(b.stats, 'k', 'eu', 'all', 2, T0);
    reads(b.stats, 'k', 'us', undefined, 3, T0);
    reads(b.stats, 'peer-only', 'us', 'one', 7, T0);
    clock.now = T0 + MIN + 1;
    await b.gossip.publishNow();
    deliver();
    // a never published: its own counts still appear, at once.
    const d = a.view.demand({ windowMs: MIN });
    expect(d.startMs).toBe(T0);
    expect(d.endMs).toBe(T0 + MIN);
    expect(d.records.get('k')).toEqual([
      { zone: 'eu', one: 4, majority: 0, all: 2 },
      { zone: 'us', one: 0, majority: 3, all: 0 },
    ]);
    expect(a.view.demand({ windowMs: MIN, keys: ['peer-only'] }).records).toEqual(
      new Map([['peer-only', [{ zone: 'us', one: 7, majority: 0, all: 0 }]]]),
    );
    // Once a's own summary is ingested (publishNow applies it to its view), nothing counts twice.
    await a.gossip.publishNow();
    deliver();
    expect(a.view.demand({ windowMs: MIN }).records.get('k')?.[0]).toEqual({ zone: 'eu', one: 4, majority: 0, all: 2 });
    expect(b.view.demand({ windowMs: MIN }).records.get('k')?.[0]).toEqual({ zone: 'eu', one: 4, majority: 0, all: 2 });
    // The window ends with the newest closed bucket: accesses in the open bucket are not demand yet.
    reads(a.stats, 'k', 'eu', 'one', 5, clock.now);
    expect(a.view.demand({ windowMs: MIN }).records.get('k')?.[0].one).toBe(4);
  });

  it('cluster top counts this daemon’s open bucket, once, and names the zone', async () => {
    const clock = { now: T0 };
    const stats = at(clock);
    const view = new ClusterView({ bucketMs: MIN, local: stats });
    const gossip = createStatsGossip({ stats, view, pubsub: silentBus, logger, nodeId: 'me', zone: 'eu' });
    gossip.start();
    for (let i = 0; i < 300; i++) stats.record('hot', 'r', 'eu', '', 1, T0 + i);
    expect(view.top({ zone: 'eu' })).toEqual([{ key: 'hot', reads: 300, writes: 0, total: 300, zone: 'eu' }]);
    expect(view.top({ zone: 'us' })).toEqual([]);
    clock.now = T0 + MIN + 1;
    await gossip.publishNow(); // its own summary reaches its view
    expect(view.top({ windowMs: 3_600_000 })).toEqual([{ key: 'hot', reads: 300, writes: 0, total: 300 }]);
    expect(view.record('hot').zones.eu).toMatchObject({ reads: 300, majority: 300, one: 0 });
    expect(view.totals()).toEqual({ eu: { reads: 300, writes: 0 } });
    gossip.stop();
  });

  it('without local statistics, the view is what the summaries say (the old behaviour)', async () => {
    const clock = { now: T0 };
    const stats = at(clock);
    const view = new ClusterView({ bucketMs: MIN });
    const gossip = createStatsGossip({ stats, view, pubsub: silentBus, logger, nodeId: 'me', zone: 'eu' });
    reads(stats, 'k', 'eu', 'one', 3, T0);
    expect(view.top()).toEqual([]);
    clock.now = T0 + MIN + 1;
    await gossip.publishNow();
    expect(view.demand({ windowMs: MIN }).records.get('k')).toEqual([{ zone: 'eu', one: 3, majority: 0, all: 0 }]);
  });

  it('the PAE source yields the merged series on the closed-bucket grid, rows of a key adjacent', async () => {
    const clock = { now: T0 };
    const { a, b, deliver } = pair(clock);
    for (let m = 0; m < 3; m++) {
      reads(a.stats, 'both', 'eu', undefined, 2, T0 + m * MIN);
      reads(b.stats, 'both', 'us', undefined, 1 + m, T0 + m * MIN);
      reads(b.stats, 'peer-only', 'us', 'one', 5, T0 + m * MIN);
      reads(a.stats, 'x', 'eu', undefined, 1, T0 + m * MIN);
      reads(b.stats, 'x', 'eu', undefined, 1, T0 + m * MIN);
    }
    a.stats.record('both', 'r', 'eu', 'app', 4096, T0 + 2 * MIN + 30);
    clock.now = T0 + 3 * MIN + 1;
    await b.gossip.publishNow();
    deliver();
    const batches = [];
    for await (const batch of a.view.paeSource({ lookback: 4 }).series({ batchRows: 2 })) batches.push(batch);
    const rows = batches.flatMap((bt) =>
      bt.keys.map((key, r) => ({
        key,
        zone: bt.zones[r],
        startMs: bt.startMs,
        buckets: bt.buckets,
        size: bt.sizeBytes[r],
        total: Array.from(bt.reads.subarray(r * bt.buckets, (r + 1) * bt.buckets)).map(
          (x, i) => x + bt.writes[r * bt.buckets + i],
        ),
      })),
    );
    expect(rows.every((r) => r.startMs === T0 - MIN && r.buckets === 4)).toBe(true);
    const row = (key: string, zone: string) => rows.find((r) => r.key === key && r.zone === zone);
    expect(row('both', 'eu')?.total).toEqual([0, 2, 2, 3]);
    expect(row('both', 'eu')?.size).toBe(4096);
    expect(row('both', 'us')?.total).toEqual([0, 1, 2, 3]);
    expect(row('peer-only', 'us')?.total).toEqual([0, 5, 5, 5]);
    expect(row('x', 'eu')?.total).toEqual([0, 2, 2, 2]);
    // Rows of one key are adjacent and a key is never split across batches.
    for (const bt of batches) {
      const seen = new Set<string>();
      bt.keys.forEach((k, i) => {
        if (i > 0 && bt.keys[i - 1] !== k) expect(seen.has(k)).toBe(false);
        seen.add(k);
      });
    }
    const keysPerBatch = batches.map((bt) => new Set(bt.keys));
    for (const key of ['both', 'peer-only', 'x']) expect(keysPerBatch.filter((s) => s.has(key)).length).toBe(1);
  });
});
