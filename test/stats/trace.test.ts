import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadZoneMapping, readTrace, TraceFormatError, type TraceRow, zoneMapperFrom } from '../../src/stats/trace.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-trace-'));
});

async function collect(path: string): Promise<TraceRow[]> {
  const rows: TraceRow[] = [];
  for await (const r of readTrace(path)) rows.push(r);
  return rows;
}

const CSV = 'ts_ms,key,op,origin,size\n1000,/a,r,eu,10\n1001,"/b,c",w,na,\n\n1002,/a,r,eu,10\n';

describe('readTrace', () => {
  it('parses rows with line numbers, quoted keys and empty size', async () => {
    const p = join(dir, 'a.csv');
    await writeFile(p, CSV);
    const rows = await collect(p);
    expect(rows).toEqual([
      { tsMs: 1000, key: '/a', op: 'r', origin: 'eu', size: 10, line: 2 },
      { tsMs: 1001, key: '/b,c', op: 'w', origin: 'na', size: 0, line: 3 },
      { tsMs: 1002, key: '/a', op: 'r', origin: 'eu', size: 10, line: 5 },
    ]);
  });

  it('gunzips .gz files and gives the same rows', async () => {
    const p = join(dir, 'a.csv.gz');
    await writeFile(p, gzipSync(CSV));
    expect(await collect(p)).toEqual(await collect(join(dir, 'a.csv')));
  });

  it('accepts columns in another order', async () => {
    const p = join(dir, 'order.csv');
    await writeFile(p, 'key,ts_ms,size,origin,op\nk,5,1,z,w\n');
    expect(await collect(p)).toEqual([{ tsMs: 5, key: 'k', op: 'w', origin: 'z', size: 1, line: 2 }]);
  });

  it.each([
    ['1000,/a,x,eu,1', /op must be/],
    ['abc,/a,r,eu,1', /ts_ms/],
    ['1000,,r,eu,1', /key is empty/],
    ['1000,/a,r,,1', /origin is empty/],
    ['1000,/a,r,eu,-3', /size/],
    ['1000,/a,r', /expected at least 5 fields/],
    ['1000,"/a,r,eu,1', /unterminated/],
  ])('rejects malformed row %s with its line number', async (bad, msg) => {
    const p = join(dir, 'bad.csv');
    await writeFile(p, `ts_ms,key,op,origin,size\n1,/ok,r,eu,1\n${bad}\n`);
    const err = await collect(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as TraceFormatError).line).toBe(3);
    expect((err as TraceFormatError).code).toBe('TRACE_FORMAT');
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).toMatch(/line 3/);
  });

  it('rejects a file without the header', async () => {
    const p = join(dir, 'nohead.csv');
    await writeFile(p, '1,/a,r,eu,1\n');
    await expect(collect(p)).rejects.toThrow(/header/);
  });

  it('honours an aborted signal', async () => {
    const p = join(dir, 'a.csv');
    const c = new AbortController();
    c.abort();
    const it = readTrace(p, { signal: c.signal });
    await expect(it.next()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('round-trips arbitrary rows (property)', async () => {
    const row = fc.record({
      tsMs: fc.integer({ min: 0, max: 2 ** 45 }),
      key: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
      op: fc.constantFrom('r' as const, 'w' as const),
      origin: fc.stringMatching(/^[a-z]{1,6}$/),
      size: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 20 }), async (rows) => {
        const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
        const text = `ts_ms,key,op,origin,size\n${rows.map((r) => `${r.tsMs},${quote(r.key)},${r.op},${r.origin},${r.size}`).join('\n')}\n`;
        const p = join(dir, 'prop.csv');
        await writeFile(p, text);
        const got = await collect(p);
        // a key that is only whitespace is kept as is; lines are numbered from 2
        expect(got).toEqual(rows.map((r, i) => ({ ...r, line: i + 2 })));
      }),
      { numRuns: 30 },
    );
  });
});

describe('zone mapping', () => {
  it('maps listed origins, uses "*" for the rest, identity without "*"', async () => {
    const m = zoneMapperFrom({ en: 'eu-west', fr: 'eu-west', '*': 'other' });
    expect([m('en'), m('fr'), m('xx')]).toEqual(['eu-west', 'eu-west', 'other']);
    const id = zoneMapperFrom({ en: 'eu' });
    expect(id('xx')).toBe('xx');
  });

  it('loads a mapping file and rejects a malformed one', async () => {
    const good = join(dir, 'zones.json');
    await writeFile(good, JSON.stringify({ na: 'us', '*': 'rest' }));
    const m = await loadZoneMapping(good);
    expect([m('na'), m('eu')]).toEqual(['us', 'rest']);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ na: 3 }));
    await expect(loadZoneMapping(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await writeFile(bad, '[1]');
    await expect(loadZoneMapping(bad)).rejects.toThrow(/JSON object/);
  });
});
