import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createPae,
  ForecastAccuracy,
  type Forecaster,
  type PaeSource,
  type SeriesBatch,
  type ZoneForecast,
} from '../../src/pae/index.ts';
import { ClusterView, createStats, decodeSummary, encodeSummary } from '../../src/stats/index.ts';

const logger = pino({ level: 'silent' });
const B = 60_000;
const H = 4;
const L = 8;
const T0 = Date.UTC(2025, 0, 6, 12);

/** Constant demand: key `k<i>` gets `rate(i, zone)` accesses per bucket from each zone. */
const rate = (key: string, zone: string) => (key === 'k0' ? 10 : 3) * (zone === 'eu' ? 2 : 1);
const KEYS = ['k0', 'k1'];
const ZONES = ['eu', 'us'];

/** The series of cycle `c`: the grid ends `c` buckets after T0 (one bucket later per cycle). */
function batchAt(c: number): SeriesBatch {
  const rows = KEYS.length * ZONES.length;
  const reads = new Float32Array(rows * L);
  const keys: string[] = [];
  const zones: string[] = [];
  let r = 0;
  for (const key of KEYS) {
    for (const zone of ZONES) {
      keys.push(key);
      zones.push(zone);
      reads.fill(rate(key, zone), r * L, (r + 1) * L);
      r++;
    }
  }
  return {
    bucketMs: B,
    startMs: T0 + (c - L) * B,
    buckets: L,
    rows,
    keys,
    zones,
    reads,
    writes: new Float32Array(rows * L),
    sizeBytes: new Float64Array(rows),
  };
}

/** Forecasts `factor` × the true demand over the horizon (1 = perfect). */
function scaled(factor: number): Forecaster {
  return {
    name: `x${factor}`,
    kind: 'baseline',
    horizonBuckets: H,
    async forecast(batch) {
      return Float32Array.from(batch.keys, (key, r) => factor * rate(key, batch.zones[r]) * H);
    },
  };
}

function cycling(): PaeSource & { cycle: number } {
  const src = {
    cycle: 0,
    async *series() {
      yield batchAt(src.cycle);
    },
  };
  return src;
}

async function runCycles(factor: number, cycles: number) {
  const source = cycling();
  const pae = createPae({ logger, source, forecaster: scaled(factor) }, { cpuBudget: 1, horizonBuckets: H });
  for (let c = 0; c < cycles; c++) {
    source.cycle = c;
    await pae.runCycle();
  }
  return pae;
}

describe('forecast access and measured accuracy', () => {
  it('forecastOf and horizonMs give the last cycle’s forecast; accuracy is undefined without history', async () => {
    const pae = createPae({ logger, source: cycling(), forecaster: scaled(1) }, { cpuBudget: 1, horizonBuckets: H });
    expect(pae.horizonMs()).toBeUndefined();
    expect(pae.forecastOf('k0')).toBeUndefined();
    await pae.runCycle();
    expect(pae.horizonMs()).toBe(H * B);
    expect(pae.forecastOf('k0')).toEqual([
      { zone: 'eu', expected: 80 },
      { zone: 'us', expected: 40 },
    ]);
    expect(pae.forecastOf('nope')).toBeUndefined();
    expect(pae.accuracy('k0')).toBeUndefined();
    expect(pae.zoneAccuracy()).toEqual({});
    expect(pae.modelInfo().accuracy).toEqual({ zones: {}, windows: 0, keys: 0 });
  });

  it('a perfect forecaster scores 1 once its windows closed; a wrong one scores low', async () => {
    // A forecast made at cycle c covers buckets [c, c + H): it is scored at cycle c + H. Three windows
    // scored (the minimum) need H + 3 cycles.
    const early = await runCycles(1, H + 2);
    expect(early.accuracy('k0')).toBeUndefined();
    const perfect = await runCycles(1, H + 3);
    expect(perfect.accuracy('k0')).toBeCloseTo(1, 5);
    expect(perfect.accuracy('k1')).toBeCloseTo(1, 5);
    expect(perfect.zoneAccuracy()).toEqual({ eu: expect.closeTo(1, 5), us: expect.closeTo(1, 5) });
    expect(perfect.modelInfo().accuracy).toMatchObject({ windows: 3, keys: 2 });
    const double = await runCycles(2, H + 3);
    expect(double.accuracy('k0')).toBeCloseTo(0, 5); // WAPE 1
    const half = await runCycles(0.5, H + 3);
    expect(half.accuracy('k0')).toBeCloseTo(0.5, 5);
    expect(half.zoneAccuracy().eu).toBeCloseTo(0.5, 5);
  });
});

describe('ForecastAccuracy', () => {
  const f = (entries: Array<[string, ZoneForecast]>) => new Map(entries);

  /** One window [w, w + H) forecast `fc`, observed `obs` per bucket from eu. */
  function windowOf(acc: ForecastAccuracy, w: number, fc: number, obs: number, key = 'k') {
    acc.remember(T0 + w * B, B, H, f([[key, [{ zone: 'eu', expected: fc }]]]));
    const batch: SeriesBatch = {
      bucketMs: B,
      startMs: T0 + (w + H - L) * B,
      buckets: L,
      rows: 1,
      keys: [key],
      zones: ['eu'],
      reads: new Float32Array(L).fill(obs),
      writes: new Float32Array(L),
      sizeBytes: new Float64Array(1),
    };
    acc.observe(batch);
    acc.endCycle(batch.startMs);
  }

  it('counts demand from a zone the forecast missed as error, and forecasts of demand that never came', () => {
    const acc = new ForecastAccuracy();
    for (let w = 0; w < 3; w++) {
      acc.remember(T0 + w * B, B, H, f([['k', [{ zone: 'eu', expected: 40 }]]]));
      const batch: SeriesBatch = {
        bucketMs: B,
        startMs: T0 + (w + H - L) * B,
        buckets: L,
        rows: 2,
        keys: ['k', 'k'],
        zones: ['eu', 'us'],
        reads: new Float32Array(2 * L).fill(10),
        writes: new Float32Array(2 * L),
        sizeBytes: new Float64Array(2),
      };
      acc.observe(batch);
      acc.endCycle(batch.startMs);
    }
    // eu right (40 vs 40), us all missed (0 vs 40): E = 40, O = 80 per window.
    expect(acc.accuracy('k')).toBeCloseTo(0.5, 5);
    expect(acc.zoneAccuracy()).toEqual({ eu: expect.closeTo(1, 5), us: expect.closeTo(0, 5) });
    const ghost = new ForecastAccuracy();
    for (let w = 0; w < 3; w++) windowOf(ghost, w, 100, 0);
    expect(ghost.accuracy('k')).toBe(0);
  });

  it('needs enough windows and traffic, uses only the last windows, and caps the keys it tracks', () => {
    const acc = new ForecastAccuracy({ windows: 4, minWindows: 2, minAccesses: 10, maxKeys: 2 });
    windowOf(acc, 0, 12, 3); // 12 forecast, 12 seen (3 per bucket)
    expect(acc.accuracy('k')).toBeUndefined(); // one window: fewer than minWindows
    windowOf(acc, 1, 12, 3);
    expect(acc.accuracy('k')).toBe(1);
    const quiet = new ForecastAccuracy({ minWindows: 2 });
    windowOf(quiet, 0, 0.4, 0);
    windowOf(quiet, 1, 0.4, 0);
    expect(quiet.accuracy('k')).toBeUndefined(); // too little traffic to tell
    const recent = new ForecastAccuracy({ windows: 2, minWindows: 2 });
    windowOf(recent, 0, 400, 1); // a bad window, then two perfect ones push it out
    windowOf(recent, 1, 40, 10);
    windowOf(recent, 2, 40, 10);
    expect(recent.accuracy('k')).toBeCloseTo(1, 5);
    windowOf(acc, 2, 40, 10, 'a');
    windowOf(acc, 3, 40, 10, 'b');
    expect(acc.keys).toBe(2);
    expect(acc.accuracy('k')).toBeUndefined(); // the least recently scored key was dropped
  });

  it('keeps exactly the maxKeys most recently scored keys, over any order of scoring (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { maxLength: 12 }), { maxLength: 40 }),
        (maxKeys, windows) => {
          // minAccesses 0: every key with a history has an accuracy, so `accuracy` tells which keys are held.
          const acc = new ForecastAccuracy({ windows: 2, minWindows: 1, minAccesses: 0, maxKeys });
          let lru: number[] = []; // the reference: least recently scored first
          windows.forEach((keys, w) => {
            acc.remember(T0 + w * B, B, 1, new Map(keys.map((k) => [`k${k}`, [{ zone: 'eu', expected: 1 }]])));
            const batch: SeriesBatch = {
              bucketMs: B,
              startMs: T0 + w * B,
              buckets: 1,
              rows: 0,
              keys: [],
              zones: [],
              reads: new Float32Array(0),
              writes: new Float32Array(0),
              sizeBytes: new Float64Array(0),
            };
            acc.observe(batch);
            acc.endCycle(batch.startMs);
            for (const k of keys) {
              lru = [...lru.filter((x) => x !== k), k];
              if (lru.length > maxKeys) lru.shift();
            }
          });
          const held = Array.from({ length: 12 }, (_, k) => k).filter((k) => acc.accuracy(`k${k}`) !== undefined);
          expect(held).toEqual([...lru].sort((a, b) => a - b));
          expect(acc.keys).toBe(lru.length);
        },
      ),
    );
  });
});

describe('the PAE over the cluster view', () => {
  it('forecasts a key that only a peer’s summary mentions', async () => {
    let now = T0;
    const local = createStats({ logger, clock: () => now });
    const peer = createStats({ logger, clock: () => now });
    for (let m = 0; m < 6; m++) {
      for (let i = 0; i < 5; i++) peer.record('peer-only', 'r', 'us', 'app', 1, T0 + m * B + i, 'one');
      local.record('mine', 'r', 'eu', 'app', 1, T0 + m * B);
    }
    now = T0 + 6 * B + 1;
    const view = new ClusterView({ bucketMs: B, local });
    view.ingest(decodeSummary(encodeSummary(peer, { node: 'peer', zone: 'us', seq: 1, buckets: 6 })), 'peer');
    const pae = createPae(
      { logger, source: view.paeSource({ lookback: 24 }) },
      { cpuBudget: 1, fallback: 'ewma', horizonBuckets: H },
    );
    await pae.runCycle();
    const fc = pae.forecastOf('peer-only');
    expect(fc?.map((z) => z.zone)).toEqual(['us']);
    expect(fc?.[0].expected).toBeGreaterThan(5);
    expect(pae.forecastOf('mine')?.[0].zone).toBe('eu');
    expect(pae.horizonMs()).toBe(H * B);
  });
});
