/**
 * The bugs the fuzz tests found, each pinned at its boundary with the exact kind of input that showed it, so a
 * regression fails here by name even if a fuzz seed stops reaching it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { type ClusterAdmin, clusterRoutes } from '../../src/api/cluster-routes.ts';
import { MAX_DOC_DEPTH, nestedDeeperThan } from '../../src/crdt/doc.ts';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';
import { deepJson } from './support.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await apiHarness({});
});
afterAll(async () => h?.close());

/** A Yjs update whose root map holds `levels` more maps, one inside the other (built level by level, as a client can). */
function nestedMapsUpdate(levels: number): Buffer {
  const doc = new Y.Doc();
  let map = doc.getMap('root');
  for (let i = 0; i < levels; i++) {
    const next = new Y.Map();
    map.set('a', next);
    map = next;
  }
  return Buffer.from(Y.encodeStateAsUpdate(doc));
}

describe('docs nested deeper than the stack allows (was: 500 INTERNAL on write, or a record whose every GET was 500)', () => {
  it('counts levels without recursion, the root object being level 1', () => {
    expect(nestedDeeperThan(JSON.parse(deepJson(3, 'object')), 3)).toBe(false);
    expect(nestedDeeperThan(JSON.parse(deepJson(4, 'object')), 3)).toBe(true);
    expect(nestedDeeperThan(JSON.parse(deepJson(4, 'array')), 3)).toBe(true);
    expect(nestedDeeperThan({ a: [1, { b: 2 }], c: 'x' }, 3)).toBe(false);
    expect(nestedDeeperThan(JSON.parse(deepJson(1_000_000, 'array')), MAX_DOC_DEPTH)).toBe(true);
  });

  it('a JSON doc (PUT) or merge patch (PATCH) up to the limit is stored and read back; one level more is 400 INVALID_BODY', async () => {
    for (const [method, type, query] of [
      ['PUT', 'application/json', '?type=doc'],
      ['PATCH', 'application/merge-patch+json', ''],
    ] as const) {
      const ok = await h.app.inject({
        method,
        url: recUrl(`ok-${method}`, query),
        payload: deepJson(MAX_DOC_DEPTH, 'object'),
        headers: { 'content-type': type },
      });
      expect(ok.statusCode, method).toBe(201);
      const read = await h.app.inject({ url: recUrl(`ok-${method}`) });
      expect(read.statusCode).toBe(200);
      expect(read.body).toBe(deepJson(MAX_DOC_DEPTH, 'object'));
      for (const depth of [MAX_DOC_DEPTH + 1, 5000, 200_000]) {
        const res = await h.app.inject({
          method,
          url: recUrl(`deep-${method}-${depth}`, query),
          payload: deepJson(depth, 'object'),
          headers: { 'content-type': type },
        });
        expect(res.statusCode, `${method} ${depth}`).toBe(400);
        expect(res.json()).toEqual({
          code: 'INVALID_BODY',
          message: expect.stringContaining('nested deeper than 100'),
        });
        expect((await h.app.inject({ url: recUrl(`deep-${method}-${depth}`) })).statusCode).toBe(404);
      }
    }
  });

  it('a raw Yjs update that nests maps or arrays past the limit is refused, not stored as an unreadable record', async () => {
    const yjs = { 'content-type': 'application/vnd.shoal.yjs-update' };
    const ok = await h.app.inject({
      method: 'PUT',
      url: recUrl('y-ok'),
      payload: nestedMapsUpdate(MAX_DOC_DEPTH - 1),
      headers: yjs,
    });
    expect(ok.statusCode).toBe(201);
    expect((await h.app.inject({ url: recUrl('y-ok') })).statusCode).toBe(200);
    const arrays = new Y.Doc();
    let v: unknown = 1;
    for (let i = 0; i < 5000; i++) v = [v];
    arrays.getMap('root').set('a', v);
    for (const [name, update] of [
      ['maps', nestedMapsUpdate(MAX_DOC_DEPTH)],
      ['maps', nestedMapsUpdate(5000)],
      ['arrays', Buffer.from(Y.encodeStateAsUpdate(arrays))],
    ] as const) {
      const res = await h.app.inject({ method: 'PUT', url: recUrl(`y-${name}`), payload: update, headers: yjs });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().code).toBe('INVALID_BODY');
      expect((await h.app.inject({ url: recUrl(`y-${name}`) })).statusCode).toBe(404);
    }
  });
});

describe('POST /admin/join with a malformed multiaddr (was: 503 REPLICAS_UNAVAILABLE, as if a peer were down)', () => {
  it('is 400 INVALID_BODY without a dial; a well-formed address still reaches the join', async () => {
    const dialled: string[] = [];
    const admin = {
      join: async (address: string) => {
        dialled.push(address);
        return { peerId: 'p2' };
      },
    } as unknown as ClusterAdmin;
    const t = await apiHarness({ adminRoutes: [clusterRoutes(admin)] });
    try {
      for (const bad of ['garbage', '/', '%F2%A2%A2%92', '/ip4/999.1.1.1/tcp/1', '/ip4/127.0.0.1/tcp/99999']) {
        const res = await t.app.inject({ method: 'POST', url: '/admin/join', payload: { multiaddr: bad } });
        expect(res.statusCode, bad).toBe(400);
        expect(res.json()).toEqual({ code: 'INVALID_BODY', message: expect.stringContaining('not a multiaddr') });
      }
      expect(dialled).toEqual([]);
      const ok = await t.app.inject({
        method: 'POST',
        url: '/admin/join',
        payload: { multiaddr: '/ip4/127.0.0.1/tcp/4001' },
      });
      expect(ok.statusCode).toBe(200);
      expect(dialled).toEqual(['/ip4/127.0.0.1/tcp/4001']);
    } finally {
      await t.close();
    }
  });
});
