import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness({ maxValueBytes: 1024 });
});
afterEach(async () => h.close());

async function expectError(
  res: { statusCode: number; json: () => { code: string; message: string } },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  const body = res.json();
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
}

describe('bad input gets a 4xx with a stable code and changes nothing', () => {
  it('rejects empty, over-long, NUL and invalid UTF-8 keys', async () => {
    await expectError(await h.app.inject({ method: 'PUT', url: '/v1/records/', payload: 'v' }), 400, 'INVALID_KEY');
    await expectError(
      await h.app.inject({ method: 'PUT', url: recUrl('x'.repeat(1025)), payload: 'v' }),
      400,
      'INVALID_KEY',
    );
    await expectError(
      await h.app.inject({ method: 'PUT', url: recUrl('é'.repeat(513)), payload: 'v' }),
      400,
      'INVALID_KEY',
    );
    await expectError(
      await h.app.inject({ method: 'PUT', url: '/v1/records/a%00b', payload: 'v' }),
      400,
      'INVALID_KEY',
    );
    await expectError(
      await h.app.inject({ method: 'PUT', url: '/v1/records/%ff%fe', payload: 'v' }),
      400,
      'INVALID_KEY',
    );
    await expectError(await h.app.inject({ method: 'GET', url: '/v1/records/%ED%A0%80' }), 400, 'INVALID_KEY');
    expect((await h.app.inject({ method: 'PUT', url: recUrl('x'.repeat(1024)), payload: 'v' })).statusCode).toBe(201);
    expect((await h.app.inject({ method: 'GET', url: '/v1/records?limit=100' })).json().items.length).toBe(1);
  });

  it('rejects over-size bodies with 413', async () => {
    await expectError(
      await h.app.inject({ method: 'PUT', url: recUrl('big'), payload: Buffer.alloc(1025) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expect((await h.app.inject({ method: 'GET', url: recUrl('big') })).statusCode).toBe(404);
  });

  it('answers wrong methods with 405 and unknown routes with 404', async () => {
    const res = await h.app.inject({ method: 'POST', url: recUrl('a') });
    await expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toContain('PUT');
    await expectError(await h.app.inject({ method: 'PATCH', url: '/v1/batch' }), 405, 'METHOD_NOT_ALLOWED');
    await expectError(await h.app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'ROUTE_NOT_FOUND');
  });

  it('rejects unknown query parameters and bad consistency levels', async () => {
    await expectError(await h.app.inject({ method: 'GET', url: recUrl('a', '?colour=red') }), 400, 'INVALID_QUERY');
    await expectError(
      await h.app.inject({ method: 'PUT', url: recUrl('a', '?consistency=eventual'), payload: 'v' }),
      400,
      'INVALID_QUERY',
    );
    expect((await h.app.inject({ method: 'GET', url: recUrl('a') })).statusCode).toBe(404);
  });

  it('rejects an empty or over-long origin zone and an over-long app tag before the request acts', async () => {
    // Each would become a name in the stats this daemon gossips, which its peers would refuse whole.
    for (const headers of [
      { 'x-shoal-origin': '' },
      { 'x-shoal-origin': 'z'.repeat(257) },
      { 'x-shoal-app': 'a'.repeat(257) },
    ]) {
      await expectError(
        await h.app.inject({ method: 'PUT', url: recUrl('tagged'), payload: 'v', headers }),
        400,
        'INVALID_HEADER',
      );
    }
    expect(h.accesses).toEqual([]);
    expect((await h.app.inject({ method: 'GET', url: recUrl('tagged') })).statusCode).toBe(404);
    const fine = await h.app.inject({
      method: 'PUT',
      url: recUrl('tagged'),
      payload: 'v',
      headers: { 'x-shoal-origin': 'eu' },
    });
    expect(fine.statusCode).toBe(201);
    expect(h.accesses.at(-1)?.origin).toBe('eu');
  });

  it('rejects malformed conditional headers', async () => {
    await expectError(
      await h.app.inject({ method: 'PUT', url: recUrl('a'), payload: 'v', headers: { 'if-none-match': '"v1"' } }),
      400,
      'INVALID_HEADER',
    );
  });
});

describe('operational routes', () => {
  it('serves health, readiness, Prometheus metrics and the OpenAPI document', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await h.app.inject({ method: 'GET', url: recUrl('a') });
    await h.app.inject({ method: 'PUT', url: recUrl('a'), payload: 'v' });
    for (let i = 0; i < 3; i++) await h.app.inject({ method: 'GET', url: recUrl('a') });
    await h.app.inject({ method: 'HEAD', url: recUrl('a') });
    await h.app.inject({ method: 'GET', url: '/no/such/route' });
    await h.app.inject({ method: 'GET', url: '/admin/status' });
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/# TYPE shoal_http_request_duration_seconds histogram/);
    const count = (labels: string) =>
      Number(metrics.body.match(new RegExp(`shoal_http_request_duration_seconds_count\\{${labels}\\} (\\d+)`))?.[1]);
    expect(count('route="/v1/records/:key",method="GET",status="404"')).toBe(1);
    expect(count('route="/v1/records/:key",method="PUT",status="201"')).toBe(1);
    expect(count('route="/v1/records/:key",method="GET",status="200"')).toBe(3);
    expect(count('route="/v1/records/:key",method="HEAD",status="200"')).toBe(1);
    expect(count('route="unmatched",method="GET",status="404"')).toBe(1);
    expect(count('route="/admin/status",method="GET",status="200"')).toBe(1);
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/records/{key}', '/v1/records', '/v1/batch', '/admin/status']),
    );
    expect((await h.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });
});

describe('admin authentication', () => {
  it('with a token, /admin needs Authorization: Bearer', async () => {
    const t = await apiHarness({ adminToken: 's3cret' });
    try {
      await expectError(await t.app.inject({ method: 'GET', url: '/admin/status' }), 401, 'UNAUTHORIZED');
      await expectError(
        await t.app.inject({ method: 'GET', url: '/admin/status', headers: { authorization: 'Bearer nope' } }),
        401,
        'UNAUTHORIZED',
      );
      const ok = await t.app.inject({
        method: 'GET',
        url: '/admin/status',
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(ok.json()).toMatchObject({
        peerId: 'p1',
        zone: 'z1',
        store: 'level',
        epoch: 0,
        peers: [],
        version: 'test',
      });
    } finally {
      await t.close();
    }
  });

  it('without a token, /admin answers only on loopback', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/admin/status' })).statusCode).toBe(200);
    await expectError(
      await h.app.inject({ method: 'GET', url: '/admin/status', remoteAddress: '10.1.2.3' }),
      403,
      'FORBIDDEN',
    );
  });
});
