import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../node/commands/stats.ts';

let dir: string;
let out: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-stats-cli-'));
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('shoal stats import / top', () => {
  it('imports a trace with its own timestamps, persists it, and top reads it back per zone', async () => {
    const t0 = Date.UTC(2025, 0, 6, 9);
    const lines = ['ts_ms,key,op,origin,size'];
    for (let i = 0; i < 300; i++) lines.push(`${t0 + i * 1000},/a,r,paris,100`);
    for (let i = 0; i < 120; i++) lines.push(`${t0 + i * 1000 + 500},/b,w,nyc,10`);
    lines.push(`${t0 + 400_000},/c,r,lyon,1`);
    const trace = join(dir, 'trace.csv');
    await writeFile(trace, `${lines.join('\n')}\n`);
    const zones = join(dir, 'zones.json');
    await writeFile(zones, JSON.stringify({ paris: 'eu', lyon: 'eu', '*': 'us' }));
    const dataDir = join(dir, 'data');

    expect(await run(['import', '--trace', trace, '--data-dir', dataDir, '--zones', zones, '--json'])).toBe(0);
    const report = JSON.parse(out.join(''));
    expect(report).toMatchObject({ rows: 421, keys: 3, zones: ['eu', 'us'], trackedKeys: 3 });
    expect(report.hot[0]).toEqual({ key: '/a', reads: 300, writes: 0, total: 300 });

    out = [];
    expect(await run(['top', '--data-dir', dataDir, '--zone', 'us', '--json'])).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual([{ key: '/b', reads: 0, writes: 120, total: 120, zone: 'us' }]);
    out = [];
    expect(await run(['top', '--data-dir', dataDir, '--zone', 'eu', '--limit', '1', '--json'])).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual([{ key: '/a', reads: 300, writes: 0, total: 300, zone: 'eu' }]);
  });

  it('exits 2 on usage errors and rejects a malformed trace with its line number', async () => {
    expect(await run(['import'])).toBe(2);
    expect(await run(['nope'])).toBe(2);
    const trace = join(dir, 'bad.csv');
    await writeFile(trace, 'ts_ms,key,op,origin,size\n1,/a,r,x,1\n2,/a,q,x,1\n');
    await expect(run(['import', '--trace', trace, '--data-dir', join(dir, 'd')])).rejects.toThrow(/line 3/);
  });
});
