import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness({ maxValueBytes: 64 * 1024 });
});
afterEach(async () => h.close());

describe('records API', () => {
  it('PUT then GET returns the same bytes and content type, with an ETag', async () => {
    const value = Buffer.from([0, 1, 2, 255, 254, 0x0a]);
    const put = await h.app.inject({
      method: 'PUT',
      url: recUrl('a'),
      payload: value,
      headers: { 'content-type': 'image/x-test' },
    });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({ key: 'a', created: true, size: 6, type: 'blob' });
    const get = await h.app.inject({ method: 'GET', url: recUrl('a') });
    expect(get.statusCode).toBe(200);
    expect(get.rawPayload.equals(value)).toBe(true);
    expect(get.headers['content-type']).toBe('image/x-test');
    expect(get.headers.etag).toBe(`"${put.json().version}"`);
    const again = await h.app.inject({ method: 'PUT', url: recUrl('a'), payload: 'x' });
    expect(again.statusCode).toBe(200);
    expect(again.json().version > put.json().version).toBe(true);
  });

  it('JSON bodies are stored as bytes, not parsed', async () => {
    const body = '{"b": 1,   "a": [2]}';
    await h.app.inject({
      method: 'PUT',
      url: recUrl('j'),
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    const get = await h.app.inject({ method: 'GET', url: recUrl('j') });
    expect(get.body).toBe(body);
    expect(get.headers['content-type']).toBe('application/json');
  });

  it('missing keys are 404 NOT_FOUND; DELETE is idempotent and hides the record', async () => {
    expect((await h.app.inject({ method: 'GET', url: recUrl('nope') })).json()).toEqual({
      code: 'NOT_FOUND',
      message: 'no record "nope"',
    });
    await h.app.inject({ method: 'PUT', url: recUrl('d'), payload: 'v' });
    expect((await h.app.inject({ method: 'DELETE', url: recUrl('d') })).statusCode).toBe(204);
    expect((await h.app.inject({ method: 'GET', url: recUrl('d') })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: recUrl('d') })).statusCode).toBe(204);
    const put = await h.app.inject({ method: 'PUT', url: recUrl('d'), payload: 'again' });
    expect(put.json().created).toBe(true);
  });

  it('If-Match makes writes conditional; If-None-Match: * creates only', async () => {
    const v1 = (await h.app.inject({ method: 'PUT', url: recUrl('c'), payload: '1' })).json().version;
    const stale = await h.app.inject({
      method: 'PUT',
      url: recUrl('c'),
      payload: '2',
      headers: { 'if-match': '"bogus"' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('PRECONDITION_FAILED');
    const ok = await h.app.inject({
      method: 'PUT',
      url: recUrl('c'),
      payload: '2',
      headers: { 'if-match': `"${v1}"` },
    });
    expect(ok.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: recUrl('c') })).body).toBe('2');
    const create = await h.app.inject({
      method: 'PUT',
      url: recUrl('c'),
      payload: '3',
      headers: { 'if-none-match': '*' },
    });
    expect(create.statusCode).toBe(412);
    expect(
      (await h.app.inject({ method: 'PUT', url: recUrl('new'), payload: '3', headers: { 'if-none-match': '*' } }))
        .statusCode,
    ).toBe(201);
    const del = await h.app.inject({ method: 'DELETE', url: recUrl('c'), headers: { 'if-match': `"${v1}"` } });
    expect(del.statusCode).toBe(412);
    expect((await h.app.inject({ method: 'GET', url: recUrl('c') })).body).toBe('2');
  });

  it('GET with If-None-Match of the current version is 304', async () => {
    const v = (await h.app.inject({ method: 'PUT', url: recUrl('e'), payload: 'v' })).json().version;
    expect(
      (await h.app.inject({ method: 'GET', url: recUrl('e'), headers: { 'if-none-match': `"${v}"` } })).statusCode,
    ).toBe(304);
  });

  it('?meta=1 returns metadata as JSON', async () => {
    await h.app.inject({ method: 'PUT', url: recUrl('m'), payload: 'abc', headers: { 'content-type': 'text/plain' } });
    const meta = (await h.app.inject({ method: 'GET', url: recUrl('m', '?meta=1') })).json();
    expect(meta).toMatchObject({ key: 'm', size: 3, type: 'blob', contentType: 'text/plain' });
    expect(meta.checksum).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('keys that look like paths or contain % and spaces are plain data', async () => {
    // Whole keys '.' and '..' cannot travel in a URL path (clients resolve them away): batch takes them.
    for (const key of ['../../etc/passwd', 'a/b/c', '50% off', ' ', '...', 'é/ü/\u{1F600}', '%2F']) {
      const put = await h.app.inject({ method: 'PUT', url: recUrl(key), payload: key });
      expect(put.statusCode, key).toBe(201);
      const get = await h.app.inject({ method: 'GET', url: recUrl(key) });
      expect(get.body, key).toBe(key);
    }
  });

  it('records each access for the stats, with origin and app tags', async () => {
    await h.app.inject({ method: 'PUT', url: recUrl('s'), payload: 'abcd', headers: { 'x-shoal-app': 'shop' } });
    await h.app.inject({ method: 'GET', url: recUrl('s'), headers: { 'x-shoal-origin': 'eu' } });
    expect(h.accesses).toEqual([
      { key: 's', op: 'w', origin: 'z1', app: 'shop', bytes: 4, cls: 'majority' },
      { key: 's', op: 'r', origin: 'eu', app: '', bytes: 4, cls: 'majority' },
    ]);
  });

  it('records the demand class of each access from its consistency level', async () => {
    await h.app.inject({ method: 'PUT', url: `${recUrl('c')}?consistency=all`, payload: 'x' });
    for (const level of ['one', 'quorum', 'linearizable', 'all'])
      await h.app.inject({ method: 'GET', url: `${recUrl('c')}?consistency=${level}` });
    await h.app.inject({ method: 'DELETE', url: `${recUrl('c')}?consistency=one` });
    expect(h.accesses.map((a) => `${a.op}:${a.cls}`)).toEqual([
      'w:all',
      'r:one',
      'r:majority',
      'r:majority',
      'r:all',
      'w:one',
    ]);
  });

  it('property: put then get returns the same bytes for arbitrary keys and values', async () => {
    const keyArb = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((k) => !k.includes('\u0000') && Buffer.byteLength(k) <= 1024 && k !== '.' && k !== '..');
    await fc.assert(
      fc.asyncProperty(keyArb, fc.uint8Array({ maxLength: 2048 }), async (key, value) => {
        const put = await h.app.inject({
          method: 'PUT',
          url: recUrl(key),
          payload: Buffer.from(value),
          headers: { 'content-type': 'application/octet-stream' },
        });
        expect(put.statusCode).toBeLessThan(300);
        const get = await h.app.inject({ method: 'GET', url: recUrl(key) });
        expect(get.statusCode).toBe(200);
        expect(Buffer.compare(get.rawPayload, Buffer.from(value))).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
