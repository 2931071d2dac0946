/**
 * Size and concurrency limits over real sockets (inject() enforces neither): headers past Node's 16 KiB limit
 * get 431 and the listener goes on serving; bodies past the value limit get 413 `PAYLOAD_TOO_LARGE` whether
 * declared or chunked, and nothing is stored; many concurrent requests (with a data rate limit, many concurrent
 * clients past it) all get an answer, a 2xx or catalogue JSON, never a 5xx.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';
import { expectCatalogueAnswer } from './support.ts';

const LIMIT = 64 * 1024;
let h: ApiHarness;
let base = '';

interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** The body in pieces; without a content-length header it goes chunked. */
  chunks?: Buffer[];
}

/** One request on its own connection; resolves with what came back (or how the connection ended). */
function send(
  s: Sent,
): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${s.path}`, { method: s.method ?? 'GET', headers: s.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${s.path}: no answer within 10 s`)));
    req.on('error', reject);
    for (const c of s.chunks ?? []) req.write(c);
    req.end();
  });
}

beforeAll(async () => {
  h = await apiHarness({ maxValueBytes: LIMIT, dataRateLimit: { perSecond: 40, limitLoopback: true } });
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => h?.close());

describe('header limits', () => {
  it('a header block past 16 KiB is 431 (from Node, before any route); the listener then serves the next request', async () => {
    for (const headers of [
      { 'x-big': 'a'.repeat(20 * 1024) },
      Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`x-h${i}`, 'v'.repeat(60)])),
    ]) {
      const res = await send({ path: recUrl('k'), headers });
      expect(res.statusCode).toBe(431);
    }
    expect((await send({ path: `/v1/records/${'k'.repeat(20 * 1024)}` })).statusCode).toBe(431);
    const just = await send({ path: recUrl('k'), headers: { 'x-big': 'a'.repeat(12 * 1024) } });
    expect(just.statusCode).toBe(404);
    expectCatalogueAnswer(just, 'just under the header limit');
  });
});

describe('body limits', () => {
  it('a value of exactly the limit is stored; one byte more is 413 PAYLOAD_TOO_LARGE, declared or chunked, and nothing is stored', async () => {
    const ok = await send({
      method: 'PUT',
      path: recUrl('at-limit'),
      headers: { 'content-type': 'application/octet-stream', 'content-length': LIMIT },
      chunks: [Buffer.alloc(LIMIT, 1)],
    });
    expect(ok.statusCode).toBe(201);
    const cases: Array<[string, Sent]> = [
      [
        'declared',
        {
          method: 'PUT',
          path: recUrl('over-1'),
          headers: { 'content-length': LIMIT + 1 },
          chunks: [Buffer.alloc(LIMIT + 1)],
        },
      ],
      [
        'chunked',
        { method: 'PUT', path: recUrl('over-2'), chunks: Array.from({ length: 17 }, () => Buffer.alloc(4096)) },
      ],
      [
        'ten times',
        {
          method: 'PUT',
          path: recUrl('over-3'),
          headers: { 'content-length': LIMIT * 10 },
          chunks: [Buffer.alloc(LIMIT * 10)],
        },
      ],
      [
        'doc patch',
        {
          method: 'PATCH',
          path: recUrl('over-4'),
          headers: { 'content-type': 'application/merge-patch+json' },
          chunks: [Buffer.from(`{"a":"${'x'.repeat(LIMIT)}"}`)],
        },
      ],
    ];
    for (const [what, s] of cases) {
      const res = await send({ ...s, headers: { 'content-type': 'application/octet-stream', ...s.headers } });
      expect(res.statusCode, what).toBe(413);
      expect(JSON.parse(res.body).code, what).toBe('PAYLOAD_TOO_LARGE');
      expect((await send({ path: s.path })).statusCode, `${what}: stored`).toBe(404);
    }
  });

  it('a batch past its body limit, or with one value past the value limit, is 413 and applies nothing', async () => {
    const big = JSON.stringify({
      ops: [{ op: 'put', key: 'b1', value: 'x'.repeat(Math.ceil(LIMIT * 1.4) + 1024 * 1024) }],
    });
    const oneTooBig = JSON.stringify({
      ops: [
        { op: 'put', key: 'b2', value: 'y' },
        { op: 'put', key: 'b3', value: Buffer.alloc(LIMIT + 1).toString('base64'), encoding: 'base64' },
      ],
    });
    for (const body of [big, oneTooBig]) {
      const res = await send({
        method: 'POST',
        path: '/v1/batch',
        headers: { 'content-type': 'application/json' },
        chunks: [Buffer.from(body)],
      });
      expect(res.statusCode).toBe(413);
      expectCatalogueAnswer(res, 'batch');
      expect(JSON.parse(res.body).code).toMatch(/PAYLOAD_TOO_LARGE/);
    }
    for (const k of ['b1', 'b2', 'b3']) expect((await send({ path: recUrl(k) })).statusCode, k).toBe(404);
  });
});

describe('concurrency', () => {
  it('200 requests at once, from one client past its rate limit: each answered, 2xx or catalogue JSON (429 RATE_LIMITED), no 5xx', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a fresh rate-limit window
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        send(
          i % 2 === 0
            ? {
                method: 'PUT',
                path: recUrl(`c${i}`),
                headers: { 'content-type': 'text/plain' },
                chunks: [Buffer.from('v')],
              }
            : { path: recUrl(`c${i - 1}`) },
        ),
      ),
    );
    const codes = answers.map((a, i) => expectCatalogueAnswer(a, `request ${i}`) ?? String(a.statusCode));
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThan(100);
    expect(codes.filter((c) => c === '201').length).toBeGreaterThan(0);
    expect(
      codes.every((c) => ['201', '200', 'NOT_FOUND', 'RATE_LIMITED'].includes(c)),
      codes.join(' '),
    ).toBe(true);
  });
});
