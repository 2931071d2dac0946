import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DONE, dsmApp, FAILED, FakeDsm, IN_FLIGHT, LAST_CYCLE, PLAN } from '../support/dsm-fake.ts';

let dsm: FakeDsm;
let app: FastifyInstance;
beforeEach(async () => {
  dsm = new FakeDsm();
  app = await dsmApp(() => dsm);
});
afterEach(async () => app.close());

async function expectError(res: { statusCode: number; json: () => unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { code: string; message: string };
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
  return body.message;
}

describe('GET /admin/dsm', () => {
  it('returns every field of DsmStatus, the last cycle whole', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/dsm' });
    expect(res.statusCode).toBe(200);
    // toEqual on the full object: a field the response schema forgot would be dropped and fail here.
    expect(res.json()).toEqual(dsm.status());
    expect(res.json().lastCycle).toEqual(LAST_CYCLE);
  });

  it('serialises a DSM that has not cycled yet (lastCycle and nextCycleAt null)', async () => {
    dsm.status = () => ({ ...FakeDsm.prototype.status.call(dsm), lastCycle: null, nextCycleAt: null });
    const body = (await app.inject({ method: 'GET', url: '/admin/dsm' })).json();
    expect(body.lastCycle).toBeNull();
    expect(body.nextCycleAt).toBeNull();
  });
});

describe('PUT /admin/dsm/policy', () => {
  it('reaches the Dsm and answers with the new status', async () => {
    for (const policy of ['off', 'reactive', 'proactive', 'hybrid']) {
      const res = await app.inject({ method: 'PUT', url: '/admin/dsm/policy', payload: { policy } });
      expect(res.statusCode).toBe(200);
      expect(res.json().policy).toBe(policy);
    }
    expect(dsm.calls).toEqual(['setPolicy off', 'setPolicy reactive', 'setPolicy proactive', 'setPolicy hybrid']);
  });

  it('refuses an unknown policy with INVALID_BODY naming the allowed values, and changes nothing', async () => {
    const message = await expectError(
      await app.inject({ method: 'PUT', url: '/admin/dsm/policy', payload: { policy: 'greedy' } }),
      400,
      'INVALID_BODY',
    );
    expect(message).toContain('off, reactive, proactive, hybrid');
    await expectError(await app.inject({ method: 'PUT', url: '/admin/dsm/policy', payload: {} }), 400, 'INVALID_BODY');
    await expectError(
      await app.inject({ method: 'PUT', url: '/admin/dsm/policy', payload: { policy: 'off', extra: 1 } }),
      400,
      'INVALID_BODY',
    );
    await expectError(
      await app.inject({
        method: 'PUT',
        url: '/admin/dsm/policy',
        payload: '{"policy":',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'INVALID_BODY',
    );
    expect(dsm.calls).toEqual([]);
    expect(dsm.state.policy).toBe('hybrid');
  });
});

describe('POST /admin/dsm/pause and /resume', () => {
  it('reach the Dsm and answer with the status', async () => {
    const paused = await app.inject({ method: 'POST', url: '/admin/dsm/pause' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ paused: true, nextCycleAt: null });
    const resumed = await app.inject({ method: 'POST', url: '/admin/dsm/resume' });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json().paused).toBe(false);
    expect(dsm.calls).toEqual(['pause', 'resume']);
  });

  it('are POST only', async () => {
    await expectError(await app.inject({ method: 'GET', url: '/admin/dsm/pause' }), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('GET /admin/dsm/plan', () => {
  it('returns the dry-run plan whole, with a default limit of 100 passed to the Dsm', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/dsm/plan' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(PLAN);
    expect(dsm.planOptions).toEqual([{ limit: 100 }]);
    expect(dsm.calls).toEqual([]);
  });

  it('holds the limit on moves and skipped records', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/dsm/plan?limit=1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.moves).toEqual([PLAN.moves[0]]);
    expect(body.skipped).toEqual([PLAN.skipped[0]]);
    expect(body).toMatchObject({ considered: 40, skipCounts: PLAN.skipCounts });
    expect(dsm.planOptions).toEqual([{ limit: 1 }]);
  });

  it('refuses a malformed query with INVALID_QUERY', async () => {
    for (const q of ['limit=0', 'limit=10001', 'limit=abc', 'limit=1.5', 'limit=-3', 'bogus=1']) {
      await expectError(await app.inject({ method: 'GET', url: `/admin/dsm/plan?${q}` }), 400, 'INVALID_QUERY');
    }
    expect(dsm.planOptions).toEqual([]);
  });
});

describe('GET /admin/migrations', () => {
  it('returns in-flight and history, every field of each migration', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/migrations?limit=5' });
    expect(res.statusCode).toBe(200);
    const { epoch: _none, ...failed } = FAILED;
    expect(res.json()).toEqual({ inFlight: [IN_FLIGHT], history: [DONE, failed] });
    expect(dsm.migrationQueries).toEqual([{ limit: 5 }]);
  });

  it('holds the limit on history', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/migrations?limit=1' });
    expect(res.json().history).toEqual([DONE]);
    expect(res.json().inFlight).toEqual([IN_FLIGHT]);
  });

  it('refuses a malformed query with INVALID_QUERY', async () => {
    for (const q of ['limit=0', 'limit=x', 'state=done']) {
      await expectError(await app.inject({ method: 'GET', url: `/admin/migrations?${q}` }), 400, 'INVALID_QUERY');
    }
  });
});

describe('before the DSM is running', () => {
  it('every route answers 503 NOT_READY', async () => {
    const starting = await dsmApp(() => undefined);
    try {
      for (const [method, url, payload] of [
        ['GET', '/admin/dsm'],
        ['PUT', '/admin/dsm/policy', { policy: 'off' }],
        ['POST', '/admin/dsm/pause'],
        ['POST', '/admin/dsm/resume'],
        ['GET', '/admin/dsm/plan'],
        ['GET', '/admin/migrations'],
      ] as const) {
        await expectError(await starting.inject({ method, url, payload }), 503, 'NOT_READY');
      }
    } finally {
      await starting.close();
    }
  });
});

describe('admin authentication and OpenAPI', () => {
  it('needs the bearer token when one is configured', async () => {
    const guarded = await dsmApp(() => dsm, { adminToken: 's3cret' });
    try {
      await expectError(await guarded.inject({ method: 'GET', url: '/admin/dsm' }), 401, 'UNAUTHORIZED');
      await expectError(await guarded.inject({ method: 'POST', url: '/admin/dsm/pause' }), 401, 'UNAUTHORIZED');
      expect(dsm.calls).toEqual([]);
      const ok = await guarded.inject({
        method: 'GET',
        url: '/admin/dsm',
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('documents every route with a summary under the dsm tag', async () => {
    await app.ready();
    const doc = app.swagger() as { paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
    const routes = [
      ['/admin/dsm', 'get'],
      ['/admin/dsm/policy', 'put'],
      ['/admin/dsm/pause', 'post'],
      ['/admin/dsm/resume', 'post'],
      ['/admin/dsm/plan', 'get'],
      ['/admin/migrations', 'get'],
    ];
    for (const [path, method] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op?.summary, `${method} ${path}`).toBeTruthy();
      expect(op?.tags).toEqual(['dsm']);
    }
  });
});
