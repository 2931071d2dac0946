import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness();
});
afterEach(async () => h.close());

const get = async (key: string) => (await h.app.inject({ method: 'GET', url: recUrl(key) })).json();

describe('doc records', () => {
  it('PUT ?type=doc stores JSON; reads return its canonical JSON', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: recUrl('d', '?type=doc'),
      payload: '{"b":1,"a":{"y":2,"x":1}}',
    });
    expect(put.statusCode).toBe(201);
    expect(put.json().type).toBe('doc');
    const res = await h.app.inject({ method: 'GET', url: recUrl('d') });
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toBe('{"a":{"x":1,"y":2},"b":1}');
  });

  it('PATCH applies a JSON merge patch: fields edited, nested fields kept, null deletes', async () => {
    await h.app.inject({
      method: 'PUT',
      url: recUrl('d', '?type=doc'),
      payload: { name: 'x', addr: { city: 'Oslo', zip: '1' }, tmp: 1 },
    });
    const patch = await h.app.inject({
      method: 'PATCH',
      url: recUrl('d'),
      payload: '{"addr":{"zip":"2"},"tmp":null,"n":3}',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patch.statusCode).toBe(200);
    expect(await get('d')).toEqual({ name: 'x', addr: { city: 'Oslo', zip: '2' }, n: 3 });
  });

  it('accepts raw Yjs updates and serves the Yjs state on request', async () => {
    const doc = new Y.Doc();
    doc.getMap('root').set('hello', 'world');
    const update = Y.encodeStateAsUpdate(doc);
    const put = await h.app.inject({
      method: 'PUT',
      url: recUrl('y'),
      payload: Buffer.from(update),
      headers: { 'content-type': 'application/vnd.shoal.yjs-update' },
    });
    expect(put.statusCode).toBe(201);
    expect(await get('y')).toEqual({ hello: 'world' });
    const state = await h.app.inject({
      method: 'GET',
      url: recUrl('y'),
      headers: { accept: 'application/vnd.shoal.yjs-state' },
    });
    const copy = new Y.Doc();
    Y.applyUpdate(copy, state.rawPayload);
    expect(copy.getMap('root').get('hello')).toBe('world');
  });

  it('rejects PATCH of a blob, bad JSON, garbage Yjs updates and wrong content types', async () => {
    await h.app.inject({ method: 'PUT', url: recUrl('b'), payload: 'bytes' });
    const onBlob = await h.app.inject({
      method: 'PATCH',
      url: recUrl('b'),
      payload: '{"a":1}',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(onBlob.statusCode).toBe(409);
    expect(onBlob.json().code).toBe('CONFLICT');
    const badJson = await h.app.inject({
      method: 'PUT',
      url: recUrl('j', '?type=doc'),
      payload: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.json().code).toBe('INVALID_BODY');
    const notObject = await h.app.inject({
      method: 'PUT',
      url: recUrl('j', '?type=doc'),
      payload: '[1,2]',
      headers: { 'content-type': 'application/json' },
    });
    expect(notObject.statusCode).toBe(400);
    const garbage = await h.app.inject({
      method: 'PATCH',
      url: recUrl('j'),
      payload: Buffer.from([1, 2, 3, 250, 9]),
      headers: { 'content-type': 'application/vnd.shoal.yjs-update' },
    });
    expect(garbage.statusCode).toBe(400);
    const wrongType = await h.app.inject({
      method: 'PATCH',
      url: recUrl('j'),
      payload: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await h.app.inject({ method: 'GET', url: recUrl('j') })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: recUrl('b') })).body).toBe('bytes');
  });
});
