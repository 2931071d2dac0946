import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fmtExpected, fmtShare, render } from '../../node/commands/heatmap.ts';
import { type PaeAdmin, paeRoutes } from '../../src/api/pae-routes.ts';
import type { HeatmapEntry } from '../../src/pae/index.ts';

async function heatmapOf(rows: HeatmapEntry[], run: { lastRunAt?: number; nextRunAt?: number }, query = '') {
  const admin: PaeAdmin = { heatmap: () => rows, model: () => run };
  const app = Fastify();
  await app.register(paeRoutes(admin));
  const body = (await app.inject({ url: `/admin/heatmap${query}` })).json();
  await app.close();
  return body;
}

describe('/admin/heatmap as people read it', () => {
  it('rounds expected accesses to 0.001 and probabilities to 0.0001', async () => {
    const row = {
      key: 'k1',
      expected: 5.325882196426392,
      zones: [
        { zone: 'us', probability: 0.689279508275649, expected: 3.6710214614868164 },
        { zone: 'eu', probability: 0.31072049172435107, expected: 1.6548607349395752 },
      ],
    };
    const body = await heatmapOf([row], { lastRunAt: 1, nextRunAt: 2 });
    expect(body.records).toEqual([
      {
        key: 'k1',
        expected: 5.326,
        zones: [
          { zone: 'us', probability: 0.6893, expected: 3.671 },
          { zone: 'eu', probability: 0.3107, expected: 1.655 },
        ],
      },
    ]);
    expect(body.note).toBeUndefined();
  });

  it('says when the first forecast runs, and why a forecast made is still empty', async () => {
    const next = Date.UTC(2026, 0, 1, 12, 0, 0);
    const before = await heatmapOf([], { nextRunAt: next });
    expect(before.note).toBe('no forecast yet: the first one runs 2026-01-01T12:00:00.000Z (every --pae-interval-ms)');
    const after = await heatmapOf([], { lastRunAt: next - 60_000, nextRunAt: next }, '?zone=eu');
    expect(after.note).toMatch(
      /^no record was accessed from zone eu in a closed statistics bucket: .*--stats-bucket-ms/,
    );
    expect(after.note).toContain('at the next forecast (2026-01-01T12:00:00.000Z)');
    // shoal heatmap prints the note as it is
    expect(render(before)).toBe(`(${before.note})\n`);
  });

  it('shoal heatmap prints figures with sensible precision', () => {
    expect([1234.56, 42.04, 5.3258, 0.04213, 0.0004, 0].map(fmtExpected)).toEqual([
      '1235',
      '42.0',
      '5.3',
      '0.042',
      '0.0004',
      '0',
    ]);
    expect([0.6893, 0.004, 0, 1].map(fmtShare)).toEqual(['69 %', '<1 %', '0 %', '100 %']);
  });
});
