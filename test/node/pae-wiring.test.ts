import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../node/config.ts';
import { startPae } from '../../node/pae-wiring.ts';
import { type ClusterAdmin, clusterRoutes } from '../../src/api/cluster-routes.ts';
import { FEATURE_COUNT } from '../../src/pae/contract.ts';
import type { Pae, PaeSource, RttMember } from '../../src/pae/index.ts';
import { buildLinearOnnx } from '../../src/pae/onnx-build.ts';
import { seasonalBatch } from '../pae/helpers.ts';

const logger = pino({ level: 'silent' });
const dir = await mkdtemp(join(tmpdir(), 'shoal-pae-wiring-'));
const batch = seasonalBatch(8, 2, 3); // keys k0..k3, each read from eu and na
const source: PaeSource = {
  async *series() {
    yield batch;
  },
};
const running: Pae[] = [];
afterAll(async () => {
  for (const p of running) await p.stop();
});

describe("the daemon's PAE wiring", () => {
  it('scores migrations with the configured matrix, then measured RTTs from its zone, then the default', async () => {
    const matrixFile = join(dir, 'latency.json');
    await writeFile(matrixFile, JSON.stringify({ eu: { na: 300 } }));
    const cfg = resolveConfig(['--latency-matrix', matrixFile, '--zone', 'eu'], {});
    // A constant model (y = 2) keeps the run cheap; every (key, zone) gets a positive forecast.
    const modelPath = join(dir, 'const.onnx');
    await writeFile(modelPath, buildLinearOnnx({ lookback: 4, w: new Float32Array(4 * FEATURE_COUNT), b: 2 }, 4, 'c'));
    const members: RttMember[] = [
      { zone: 'eu', status: 'up', self: true },
      { zone: 'ap', status: 'up', self: false, rttMs: 40 },
      { zone: 'ap', status: 'up', self: false, rttMs: 60 },
      { zone: 'ap', status: 'down', self: false, rttMs: 900 },
    ];
    const { pae, admin } = await startPae(
      { logger, source, members: () => members },
      { modelPath, intervalMs: 60_000, zone: cfg.zone, latencyMs: cfg.latencyMatrix },
    );
    running.push(pae);
    await pae.runCycle();
    const [hot] = pae.heatmap({ limit: 1 });
    const e = (zone: string) => hot.zones.find((z) => z.zone === zone)?.expected ?? 0;
    expect(e('eu')).toBeGreaterThan(0);
    expect(e('na')).toBeGreaterThan(0);

    // Replica in na, candidate eu: eu's clients save the configured 300 ms; na's lose nothing.
    const [fromNa] = pae.scores([{ key: hot.key, sizeBytes: 0, replicaZones: ['na'], destinations: ['eu'] }]);
    expect(fromNa.latencySavedMs).toBeCloseTo(300 * e('eu'), 3);

    // Replica in ap, candidate eu: eu↔ap is measured (median of up peers: 50 ms); na↔ap is unknown (default
    // 100 ms) and na↔eu configured (300 ms), so na's clients keep the ap replica and save nothing.
    const [fromAp] = pae.scores([{ key: hot.key, sizeBytes: 0, replicaZones: ['ap'], destinations: ['eu'] }]);
    expect(fromAp.latencySavedMs).toBeCloseTo(50 * e('eu'), 3);

    expect(admin.model()).toMatchObject({
      name: 'c',
      latency: { configured: true, measuredZones: ['ap'], defaultMs: 100 },
    });
  });

  it('takes the matrix from env and config file (object or path), and refuses a bad one with CONFIG_INVALID', async () => {
    const cfgFile = join(dir, 'c.json');
    await writeFile(cfgFile, JSON.stringify({ latencyMatrix: { eu: { na: 70 } } }));
    expect(resolveConfig(['--config', cfgFile], {}).latencyMatrix).toEqual({ eu: { na: 70 } });
    expect(resolveConfig([], { SHOAL_LATENCY_MATRIX: '{"a": {"b": 5}}' }).latencyMatrix).toEqual({ a: { b: 5 } });
    expect(resolveConfig([], {}).latencyMatrix).toBeUndefined();
    await writeFile(cfgFile, JSON.stringify({ latencyMatrix: { eu: { na: -3 } } }));
    expect(() => resolveConfig(['--config', cfgFile], {})).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/"eu" → "na" .* got -3/) }),
    );
    expect(() => resolveConfig(['--latency-matrix', join(dir, 'nope.json')], {})).toThrow(
      /--latency-matrix .*nope\.json: cannot read the file/,
    );
  });

  it('GET /admin/peers shows each member’s smoothed RTT', async () => {
    const admin: ClusterAdmin = {
      peers: () => [{ peerId: 'p', zone: 'na', status: 'up', self: false, lastSeen: 1, rttMs: 12.5 }],
      ring: () => ({}),
      join: async () => ({}),
      leave: () => {},
      remove: async () => ({ removed: 'p', zone: 'na', state: 'down', status: 'down' }),
      layout: () => ({}),
      inspect: async () => [],
    };
    const app = Fastify();
    await app.register(clusterRoutes(admin));
    const res = await app.inject({ method: 'GET', url: '/admin/peers' });
    expect(res.json().members[0]).toMatchObject({ peerId: 'p', rttMs: 12.5 });
    await app.close();
  });
});
