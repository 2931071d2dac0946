import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness({ maxBatchOps: 5 });
});
afterEach(async () => h.close());

const batch = (ops: unknown[]) => h.app.inject({ method: 'POST', url: '/v1/batch', payload: { ops } });

describe('batch', () => {
  it('applies puts, deletes and gets; gets see the state before the batch', async () => {
    await h.app.inject({ method: 'PUT', url: recUrl('old'), payload: 'o' });
    const res = await batch([
      { op: 'put', key: 'x', value: 'hello' },
      {
        op: 'put',
        key: 'bin',
        value: Buffer.from([0, 255]).toString('base64'),
        encoding: 'base64',
        contentType: 'application/x-bin',
      },
      { op: 'delete', key: 'old' },
      { op: 'get', key: 'old' },
    ]);
    expect(res.statusCode).toBe(200);
    const results = res.json().results;
    expect(results.map((r: { op: string }) => r.op)).toEqual(['put', 'put', 'delete', 'get']);
    expect(results[2].deleted).toBe(true);
    expect(Buffer.from(results[3].value, 'base64').toString()).toBe('o');
    // A get says how its value is encoded, in the field a put takes: a result can be written back as it came.
    expect(results[3]).toMatchObject({ found: true, encoding: 'base64', value: Buffer.from('o').toString('base64') });
    const { value, encoding, contentType } = results[3];
    await batch([{ op: 'put', key: 'copy', value, encoding, contentType }]);
    expect((await h.app.inject({ method: 'GET', url: recUrl('copy') })).body).toBe('o');
    expect((await h.app.inject({ method: 'GET', url: recUrl('old') })).statusCode).toBe(404);
    const bin = await h.app.inject({ method: 'GET', url: recUrl('bin') });
    expect([...bin.rawPayload]).toEqual([0, 255]);
    expect(bin.headers['content-type']).toBe('application/x-bin');
  });

  it('takes keys that cannot travel in a URL path, such as "." and ".."', async () => {
    await batch([
      { op: 'put', key: '..', value: 'dots' },
      { op: 'put', key: '.', value: 'dot' },
    ]);
    const res = await batch([
      { op: 'get', key: '..' },
      { op: 'get', key: '.' },
    ]);
    expect(res.json().results.map((r: { value: string }) => Buffer.from(r.value, 'base64').toString())).toEqual([
      'dots',
      'dot',
    ]);
  });

  it('records one access per operation for the stats, with origin, app and demand class', async () => {
    await h.app.inject({ method: 'PUT', url: recUrl('g'), payload: 'abc' });
    h.accesses.length = 0;
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/batch?consistency=one',
      payload: {
        ops: [
          { op: 'put', key: 'p', value: 'hello' },
          { op: 'get', key: 'g' },
          { op: 'delete', key: 'p' },
        ],
      },
      headers: { 'x-shoal-origin': 'eu', 'x-shoal-app': 'shop' },
    });
    expect(res.statusCode).toBe(200);
    expect(h.accesses).toEqual([
      { key: 'p', op: 'w', origin: 'eu', app: 'shop', bytes: 5, cls: 'one' },
      { key: 'g', op: 'r', origin: 'eu', app: 'shop', bytes: 3, cls: 'one' },
      { key: 'p', op: 'w', origin: 'eu', app: 'shop', bytes: 0, cls: 'one' },
    ]);
  });

  it('rejects malformed batches with a code and changes nothing', async () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', 'INVALID_BODY'],
      [{ ops: 'no' }, 'INVALID_BODY'],
      [{ ops: [{ op: 'frobnicate', key: 'a' }] }, 'INVALID_BODY'],
      [{ ops: [{ op: 'put', key: 'a' }] }, 'INVALID_BODY'],
      [
        {
          ops: [
            { op: 'put', key: 'ok', value: '1' },
            { op: 'put', key: 'bad\u0000', value: '1' },
          ],
        },
        'INVALID_KEY',
      ],
      [{ ops: Array.from({ length: 6 }, (_, i) => ({ op: 'get', key: `k${i}` })) }, 'TOO_MANY_OPS'],
    ];
    for (const [payload, code] of cases) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/batch',
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect((await h.app.inject({ method: 'GET', url: recUrl('ok') })).statusCode).toBe(404);
  });
});

describe('list', () => {
  it('pages through records by prefix in key order, skipping deleted ones', async () => {
    const keys = ['u/3', 'u/1', 'u/2', 'u/10', 'v/1', 'u/gone'];
    for (const k of keys) await h.app.inject({ method: 'PUT', url: recUrl(k), payload: k });
    await h.app.inject({ method: 'DELETE', url: recUrl('u/gone') });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await h.app.inject({
        method: 'GET',
        url: `/v1/records?prefix=u%2F&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.items.map((x: { key: string }) => x.key));
      cursor = body.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(['u/1', 'u/10', 'u/2', 'u/3']);
  });

  it('rejects unknown query parameters and bad cursors', async () => {
    const bad = await h.app.inject({ method: 'GET', url: '/v1/records?colour=red' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_QUERY');
    expect((await h.app.inject({ method: 'GET', url: '/v1/records?cursor=***' })).json().code).toBe('INVALID_QUERY');
    expect((await h.app.inject({ method: 'GET', url: '/v1/records?limit=0' })).json().code).toBe('INVALID_QUERY');
  });
});
