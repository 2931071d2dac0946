/**
 * A client that declares a large body and stops sending (slowloris) is cut off after the request timeout
 * (`--http-request-timeout-ms`, also the longest a connection may send nothing) instead of holding its connection and buffers forever (#18: 40 stalled 16 MiB
 * uploads used to raise a daemon's memory by 275 MiB for good), and the listener keeps serving others.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';

let h: ApiHarness;
let port = 0;
beforeAll(async () => {
  h = await apiHarness({ requestTimeoutMs: 800 });
  port = Number(new URL(await h.app.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(async () => h?.close());

/** Opens a connection, declares `declared` bytes of body, sends 1 KiB; resolves with ms until the server closed it. */
function stall(declared: number): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `PUT /v1/records/stalled HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${declared}\r\n\r\n`,
      );
      s.write(Buffer.alloc(1024, 7));
    });
    let answer = '';
    s.on('data', (b) => {
      answer += b.toString();
    });
    s.on('close', () => resolve({ closedAfterMs: Date.now() - t0, answer }));
    s.on('error', () => {});
    setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
  });
}

describe('stalled uploads', () => {
  it('are cut off after the request timeout, store nothing, and the listener serves the next client', async () => {
    const stalled = await Promise.all(Array.from({ length: 20 }, () => stall(8 * 1024 * 1024)));
    for (const s of stalled) {
      expect(s.closedAfterMs).toBeGreaterThanOrEqual(700);
      expect(s.closedAfterMs).toBeLessThan(5_000);
    }
    expect((await fetch(`http://127.0.0.1:${port}${recUrl('stalled')}`)).status).toBe(404);
    const ok = await fetch(`http://127.0.0.1:${port}${recUrl('fine')}`, { method: 'PUT', body: 'ok' });
    expect(ok.status).toBe(201);
  });
});
