import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

const TOKEN = 'right-token-0123456789';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** A client on another host, as the TCP peer address fastify sees. */
const REMOTE = '10.9.8.7';

let guarded: ApiHarness;
let open: ApiHarness;
beforeAll(async () => {
  guarded = await apiHarness({ adminToken: TOKEN, dataAuth: true });
  open = await apiHarness({});
});
afterAll(async () => {
  await guarded.close();
  await open.close();
});

describe('admin and data authentication', () => {
  it('the admin API needs the token when one is configured: missing and wrong are 401, right is 200', async () => {
    const missing = await guarded.app.inject({ url: '/admin/status' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    for (const header of [bearer('wrong-token-0123456789'), bearer(`${TOKEN}x`), { authorization: TOKEN }]) {
      const wrong = await guarded.app.inject({ url: '/admin/status', headers: header });
      expect(wrong.statusCode, JSON.stringify(header)).toBe(401);
      expect(wrong.json().code).toBe('UNAUTHORIZED');
    }
    const right = await guarded.app.inject({ url: '/admin/status', headers: bearer(TOKEN) });
    expect(right.statusCode).toBe(200);
    expect(right.json().peerId).toBe('p1');
  });

  it('without a token the admin API answers loopback clients only (403 FORBIDDEN beyond)', async () => {
    expect((await open.app.inject({ url: '/admin/status' })).statusCode).toBe(200);
    const remote = await open.app.inject({ url: '/admin/status', remoteAddress: REMOTE });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().code).toBe('FORBIDDEN');
  });

  it('with --data-auth every data route needs the same token: missing and wrong are 401, right works', async () => {
    const routes = [
      { method: 'PUT' as const, url: recUrl('k1'), payload: 'v' },
      { method: 'GET' as const, url: recUrl('k1') },
      { method: 'GET' as const, url: '/v1/records?prefix=k' },
      { method: 'POST' as const, url: '/v1/batch', payload: { ops: [{ op: 'get', key: 'k1' }] } },
      { method: 'DELETE' as const, url: recUrl('k1') },
    ];
    for (const r of routes) {
      for (const headers of [{}, bearer('nope')]) {
        const res = await guarded.app.inject({ ...r, headers });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('--data-auth') });
      }
    }
    // Nothing was written by the refused requests.
    expect(guarded.accesses).toEqual([]);
    const put = await guarded.app.inject({ ...routes[0], headers: bearer(TOKEN) });
    expect(put.statusCode).toBe(201);
    const get = await guarded.app.inject({ ...routes[1], headers: bearer(TOKEN) });
    expect(get.statusCode).toBe(200);
    expect(get.body).toBe('v');
    // Health and the index stay open (probes carry no token).
    expect((await guarded.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('without --data-auth the data API needs no token', async () => {
    expect((await open.app.inject({ method: 'PUT', url: recUrl('k'), payload: 'v' })).statusCode).toBe(201);
  });

  it('refuses --data-auth without a token to check', async () => {
    await expect(apiHarness({ dataAuth: true })).rejects.toThrow(/adminToken/);
  });
});

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with retry-after once a client passes the admin limit; others are not affected', async () => {
    const h = await apiHarness({ adminToken: TOKEN, adminRateLimit: { perSecond: 3, limitLoopback: true } });
    try {
      const codes: number[] = [];
      let last: Awaited<ReturnType<typeof h.app.inject>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await h.app.inject({ url: '/admin/status', headers: bearer(TOKEN) });
        codes.push(last.statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expect(last!.json()).toEqual({ code: 'RATE_LIMITED', message: expect.stringContaining('more than 3 admin') });
      expect(last!.headers['content-type']).toContain('application/json');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(last!.headers['x-ratelimit-limit']).toBe('3');
      // Per client IP: another client still gets through; data routes have their own (here: no) limit.
      const other = await h.app.inject({ url: '/admin/status', remoteAddress: REMOTE, headers: bearer(TOKEN) });
      expect(other.statusCode).toBe(200);
      expect((await h.app.inject({ method: 'PUT', url: recUrl('x'), payload: 'v' })).statusCode).toBe(201);
    } finally {
      await h.close();
    }
  });

  it('limits data requests per client, before the token check (guessing tokens is limited too)', async () => {
    const h = await apiHarness({ adminToken: TOKEN, dataAuth: true, dataRateLimit: { perSecond: 2 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push(
          (await h.app.inject({ url: recUrl('k'), remoteAddress: REMOTE, headers: bearer('guess') })).statusCode,
        );
      expect(codes).toEqual([401, 401, 429, 429]);
      // Loopback clients are exempt by default (this host's tools and benchmarks).
      for (let i = 0; i < 5; i++)
        expect((await h.app.inject({ url: recUrl('k'), headers: bearer(TOKEN) })).statusCode).toBe(404);
    } finally {
      await h.close();
    }
  });
});
