import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PlacementBook, servedLocally } from '../../node/replay/placements.ts';
import { readSlice, UnknownZoneError, zonesOfOrigins } from '../../node/replay/slice.ts';
import { hashKey } from '../../src/ring/hash.ts';
import { zoneMapperFrom } from '../../src/stats/trace.ts';
import { tempDir } from '../support/daemon-process.ts';

const dir = tempDir('shoal-replay-slice-');
function trace(name: string, rows: string[], gz = false): string {
  const text = `ts_ms,key,op,origin,size\n${rows.join('\n')}\n`;
  const path = join(dir, name);
  writeFileSync(path, gz ? gzipSync(text) : text);
  return path;
}

describe('readSlice', () => {
  it('keeps at most limit rows, in time order, with keys, origins, counts and the largest size per key', async () => {
    const path = trace('a.csv.gz', ['20,k1,r,x,5', '10,k2,w,y,7', '30,k1,w,x,9', '40,k3,r,x,0', '50,k4,r,z,1'], true);
    const s = await readSlice(path, { limit: 4 });
    expect(s.rows).toBe(4);
    expect(s.stoppedBy).toBe('limit');
    expect([...s.ts]).toEqual([10, 20, 30, 40]);
    expect([...s.key].map((k) => s.keys[k])).toEqual(['k2', 'k1', 'k1', 'k3']);
    expect([...s.write]).toEqual([1, 0, 1, 0]);
    expect(s.keySize[s.keys.indexOf('k1')]).toBe(9);
    expect(Object.fromEntries(s.origins.map((o, i) => [o, s.originCounts[i]]))).toEqual({ x: 3, y: 1 });
  });

  it('stops at the first row beyond the span, reads to the end otherwise, and skips keys a URL path cannot carry', async () => {
    const path = trace('b.csv', ['0,a,r,x,0', '500,..,r,x,0', '1000,b,r,x,0', '1001,c,r,x,0', '1002,d,r,x,0']);
    const span = await readSlice(path, { limit: 100, maxSpanMs: 1000 });
    expect(span.stoppedBy).toBe('span');
    expect(span.keys).toEqual(['a', 'b']);
    expect(span.skipped).toBe(1);
    const all = await readSlice(path, { limit: 100 });
    expect(all.stoppedBy).toBe('end');
    expect(all.rows).toBe(4);
  });

  it('fails on a malformed row with its line number', async () => {
    const path = trace('c.csv', ['0,a,r,x,0', '1,b,q,x,0']);
    await expect(readSlice(path, { limit: 10 })).rejects.toMatchObject({ code: 'TRACE_FORMAT', line: 3 });
  });
});

describe('zonesOfOrigins', () => {
  it('the simulator rule: the busiest origins get the zones in order, ties by name, the rest by hash', () => {
    const origins = ['rare', 'b', 'busy', 'a', 'other'];
    const counts = Float64Array.from([1, 5, 9, 5, 2]);
    const zones = ['eu', 'us', 'ap'];
    const z = zonesOfOrigins({ origins, originCounts: counts }, zones);
    const zoneOf = Object.fromEntries(origins.map((o, i) => [o, zones[z[i]]]));
    expect(zoneOf.busy).toBe('eu');
    expect(zoneOf.a).toBe('us');
    expect(zoneOf.b).toBe('ap');
    expect(zoneOf.other).toBe(zones[(hashKey('other') >>> 0) % 3]);
    expect(zoneOf.rare).toBe(zones[(hashKey('rare') >>> 0) % 3]);
  });

  it('a mapping file sends each origin to its zone and refuses a zone no daemon is in', () => {
    const slice = { origins: ['en', 'fr'], originCounts: Float64Array.from([3, 1]) };
    const z = zonesOfOrigins(slice, ['eu', 'us'], zoneMapperFrom({ en: 'us', fr: 'eu' }));
    expect([...z]).toEqual([1, 0]);
    expect(() => zonesOfOrigins(slice, ['eu', 'us'], zoneMapperFrom({ en: 'ap', '*': 'eu' }))).toThrow(
      UnknownZoneError,
    );
  });
});

describe('remote-served rule', () => {
  it('one needs a holder in the zone, majority ⌊n/2⌋+1, all every holder', () => {
    expect(servedLocally(1, 3, 'one')).toBe(true);
    expect(servedLocally(0, 3, 'one')).toBe(false);
    expect(servedLocally(1, 3, 'majority')).toBe(false);
    expect(servedLocally(2, 3, 'majority')).toBe(true);
    expect(servedLocally(1, 2, 'majority')).toBe(false);
    expect(servedLocally(2, 3, 'all')).toBe(false);
    expect(servedLocally(3, 3, 'all')).toBe(true);
    expect(servedLocally(0, 0, 'one')).toBe(false);
  });

  it('a placement follows moves that ended after it was read, and not those before', () => {
    const members = new Map([
      ['p-eu', 'eu'],
      ['p-us', 'us'],
      ['p-ap', 'ap'],
    ]);
    const book = new PlacementBook(['k', 'j'], ['eu', 'us', 'ap'], members);
    book.moved('k', ['p-eu', 'p-ap'], 900); // ended before the read below: already in what it returned
    book.set(0, ['p-us', 'p-ap'], 1000);
    expect(book.local(0, 0, 'one')).toBe(false);
    book.moved('k', ['p-eu', 'p-us'], 1500);
    expect(book.local(0, 0, 'one')).toBe(true);
    expect(book.local(0, 2, 'one')).toBe(false);
    book.moved('j', ['p-ap'], 2000); // seen before j's holders were read, ended after: applied on set
    book.set(1, ['p-eu'], 1800);
    expect(book.local(1, 2, 'one')).toBe(true);
    book.moved('unknown', ['p-eu'], 3000);
    expect(book.known(1)).toBe(true);
  });
});
