import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../node/commands/pae.ts';
import { chooseBucketMs } from '../../src/pae/trace-series.ts';

let dir: string;
const T0 = 1_700_000_000_000;
const rows: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-predict-'));
  // 3 hours: /a read from eu every 10 s, /b from na every 60 s, /c only after the cut (must not appear)
  for (let t = 0; t < 3 * 3600_000; t += 10_000) rows.push(`${T0 + t},/a,r,eu,100`);
  for (let t = 0; t < 3 * 3600_000; t += 60_000) rows.push(`${T0 + t},/b,w,na,5`);
  rows.push(`${T0 + 2 * 3600_000 + 1},/c,r,eu,1`);
  rows.sort((a, b) => Number(a.split(',')[0]) - Number(b.split(',')[0]));
  await writeFile(join(dir, 't.csv'), `ts_ms,key,op,origin,size\n${rows.join('\n')}\n`);
  await writeFile(join(dir, 'zones.json'), JSON.stringify({ eu: 'europe', '*': 'elsewhere' }));
});

async function predict(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await run(['predict', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('shoal pae predict', () => {
  const at = T0 + 2 * 3600_000;
  it('forecasts every (key, zone) seen before --at from earlier rows only', async () => {
    const { code, out } = await predict(['--trace', join(dir, 't.csv'), '--at', String(at), '--json']);
    expect(code).toBe(0);
    const res = JSON.parse(out);
    expect(res.bucketMs).toBe(chooseBucketMs(2 * 3600_000));
    expect(res.horizonBuckets).toBe(4);
    const pairs = res.forecasts.map((f: { key: string; zone: string }) => `${f.key}@${f.zone}`).sort();
    expect(pairs).toEqual(['/a@eu', '/b@na']);
    const a = res.forecasts.find((f: { key: string }) => f.key === '/a').expected;
    const horizonMs = res.bucketMs * res.horizonBuckets;
    // steady 0.1/s: any sane forecaster lands near the true count
    expect(a).toBeGreaterThan((horizonMs / 10_000) * 0.5);
    expect(a).toBeLessThan((horizonMs / 10_000) * 1.5);
  });

  it('does not look at rows at or after --at', async () => {
    const cut = join(dir, 'cut.csv');
    const before = rows.filter((r) => Number(r.split(',')[0]) < at);
    await writeFile(cut, `ts_ms,key,op,origin,size\n${before.join('\n')}\n`);
    const full = await predict(['--trace', join(dir, 't.csv'), '--at', String(at), '--json']);
    const part = await predict(['--trace', cut, '--at', String(at), '--json']);
    expect(JSON.parse(part.out)).toEqual(JSON.parse(full.out));
  });

  it('maps zones with a mapping file and honours --stats-bucket-ms (and its older name --bucket-ms)', async () => {
    const run = (flag: string) =>
      predict([
        '--trace',
        join(dir, 't.csv'),
        '--at',
        String(at),
        '--zones',
        join(dir, 'zones.json'),
        flag,
        '30000',
        '--json',
      ]);
    const res = JSON.parse((await run('--stats-bucket-ms')).out);
    expect(res.bucketMs).toBe(30000);
    expect(res.forecasts.map((f: { zone: string }) => f.zone).sort()).toEqual(['elsewhere', 'europe']);
    expect(JSON.parse((await run('--bucket-ms')).out)).toEqual(res);
  });

  it('exits 2 with usage on a missing --at and 1 on a malformed trace', async () => {
    const missing = await predict(['--trace', join(dir, 't.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^shoal pae: /); // every CLI error starts with shoal
    await writeFile(join(dir, 'bad.csv'), 'ts_ms,key,op,origin,size\n1,/a,q,eu,1\n');
    const bad = await predict(['--trace', join(dir, 'bad.csv'), '--at', '5', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^shoal pae predict: TRACE_FORMAT.*line 2/);
  });
});

describe('bucket width rule', () => {
  it('scales with the history span and stays "nice"', () => {
    expect(chooseBucketMs(5_000)).toBe(1000);
    expect(chooseBucketMs(3 * 3600_000)).toBe(120_000);
    expect(chooseBucketMs(24 * 3600_000)).toBe(900_000);
    expect(chooseBucketMs(62 * 86_400_000)).toBe(12 * 3600_000);
  });
});
