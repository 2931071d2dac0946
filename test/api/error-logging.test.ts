import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { clientSignal } from '../../src/api/client-signal.ts';
import { createApi, createMetricsRegistry } from '../../src/api/index.ts';
import { ShoalError } from '../../src/errors/index.ts';
import type { RecordEngine } from '../../src/replication/engine.ts';

interface Line {
  level: number;
  msg: string;
  code?: string;
  err?: { stack?: string };
}

/** An API whose logger writes into `lines` (debug and up), with a few routes that fail on purpose. */
async function loggedApi(ready: boolean): Promise<{ app: FastifyInstance; lines: Line[] }> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const app = await createApi(
    {
      logger: pino({ level: 'debug' }, sink),
      // The failing routes below never reach the engine; a record upload cut short fails in body parsing.
      engine: {} as RecordEngine,
      registry: createMetricsRegistry(),
      ready: () => ready,
      status: () => {
        throw new Error('unused');
      },
    },
    { zone: 'z' },
  );
  app.get('/test/bug', async () => {
    throw new TypeError('cannot read properties of undefined');
  });
  app.get('/test/quorum', async () => {
    throw new ShoalError('QUORUM_NOT_REACHED', '1 of 2 replicas answered');
  });
  app.get('/test/wait-for-client', async (_req, reply) => {
    const signal = clientSignal(reply);
    await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  });
  return { app, lines };
}

const atError = (lines: Line[]) => lines.filter((l) => l.level >= 50);

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('request failure logging', () => {
  it('logs 503 NOT_READY (readiness polling) and 4xx answers below error level, without a stack', async () => {
    const api = await loggedApi(false);
    app = api.app;
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ url: '/v1/nope' })).statusCode).toBe(404);
    expect(atError(api.lines)).toEqual([]);
    expect(api.lines.filter((l) => l.code === 'NOT_READY').map((l) => l.level)).toEqual([20, 20, 20]);
    expect(api.lines.some((l) => l.err)).toBe(false);
  });

  it('logs a bug at error with its stack, and an unreachable quorum at warn', async () => {
    const api = await loggedApi(true);
    app = api.app;
    expect((await app.inject({ url: '/test/bug' })).statusCode).toBe(500);
    expect((await app.inject({ url: '/test/quorum' })).statusCode).toBe(503);
    const bug = api.lines.find((l) => l.code === 'INTERNAL');
    expect(bug?.level).toBe(50);
    expect(bug?.err?.stack).toMatch(/TypeError: cannot read properties/);
    expect(api.lines.find((l) => l.code === 'QUORUM_NOT_REACHED')?.level).toBe(40);
  });

  it('logs a client that disconnected at debug, not as an internal error', async () => {
    const api = await loggedApi(true);
    app = api.app;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    // A GET that waits for the client, which hangs up; and a PUT whose body stops halfway.
    for (const request of [
      'GET /test/wait-for-client HTTP/1.1\r\nhost: x\r\n\r\n',
      'PUT /v1/records/k HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\nonly a few bytes',
    ]) {
      const before = api.lines.length;
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(request);
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      await until(() => api.lines.length > before);
      expect(api.lines.length, request).toBeGreaterThan(before);
    }
    expect(atError(api.lines)).toEqual([]);
    const failures = api.lines.filter((l) => l.msg.startsWith('request'));
    expect(failures.map((l) => [l.code, l.level])).toEqual([
      ['ABORTED', 20],
      ['ABORTED', 20],
    ]);
  });
});
