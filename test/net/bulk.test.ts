import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShoalError } from '../../src/errors/index.ts';
import { generateClusterSecret, type Net, RemoteError } from '../../src/net/index.ts';
import { cleanup, digestSink, startCluster } from './helpers.ts';

const SINK = '/shoal/test-sink/1.0.0';
const PICKY = '/shoal/test-picky/1.0.0';
const HASTY = '/shoal/test-hasty/1.0.0';

// Every test runs on the TLS side channel (the default) and on the libp2p stream (side channel off).
describe.each([
  { bulkTls: true, channel: 'tls' },
  { bulkTls: false, channel: 'libp2p' },
] as const)('bulk stream over $channel', ({ bulkTls, channel }) => {
  let a: Net;
  let b: Net;
  beforeAll(async () => {
    [a, b] = await startCluster(2, { clusterSecret: generateClusterSecret(), bulkTls });
    // a slow consumer now and then: the sender must wait, not pile data up
    await b.handleBulk(SINK, digestSink({ pauseEvery: 64 }));
    await b.handleBulk(PICKY, async (frames) => {
      for await (const f of frames) if (f[0] === 0) throw new ShoalError('CONFLICT', 'zero frame');
      return undefined;
    });
    // Answers after the first frame, leaving the rest unread.
    await b.handleBulk(HASTY, async (frames) => {
      for await (const _ of frames) break;
      return Uint8Array.of(1);
    });
  });
  afterAll(cleanup);

  it('moves 20 MB with pnet on, in order and intact', async () => {
    const source = randomBytes(20 * 1024 * 1024);
    const sender = await a.openBulk(b.peerId, SINK, { windowBytes: 256 * 1024 });
    expect(sender.channel).toBe(channel);
    const frameBytes = 64 * 1024 + 7; // frames need not align with anything
    let count = 0;
    for (let off = 0; off < source.byteLength; off += frameBytes) {
      await sender.write(source.subarray(off, off + frameBytes));
      count++;
    }
    const result = JSON.parse(new TextDecoder().decode(await sender.end()));
    expect(result).toEqual({
      bytes: source.byteLength,
      count,
      sha: createHash('sha256').update(source).digest('hex'),
    });
    // the connection survived: a second transfer on it works, with a frame bigger than the window
    const again = await a.openBulk(b.peerId, SINK, { windowBytes: 64 * 1024 });
    await again.write(source.subarray(0, 1024 * 1024));
    expect(JSON.parse(new TextDecoder().decode(await again.end()))).toMatchObject({ bytes: 1024 * 1024, count: 1 });
  });

  it.runIf(!bulkTls)('pnet never encrypts more than 64 KiB at once, even with a window of megabytes', async () => {
    // pnet's xsalsa20 shares one WASM memory per process; one big update starts a growth spiral that
    // crashes the process (see src/net/libp2p.ts). Watch every update pnet makes during a transfer.
    const proto = createRequire(import.meta.url)('xsalsa20').prototype as { update: (input: Uint8Array) => Uint8Array };
    const original = proto.update;
    let largest = 0;
    proto.update = function (this: unknown, input: Uint8Array, ...rest: unknown[]) {
      largest = Math.max(largest, input.byteLength);
      return (original as (...args: unknown[]) => Uint8Array).call(this, input, ...rest);
    };
    try {
      const source = randomBytes(8 * 1024 * 1024);
      for (let round = 0; round < 2; round++) {
        const sender = await a.openBulk(b.peerId, SINK, { windowBytes: 8 * 1024 * 1024 });
        for (let off = 0; off < source.byteLength; off += 1024 * 1024) {
          await sender.write(source.subarray(off, off + 1024 * 1024));
        }
        expect(JSON.parse(new TextDecoder().decode(await sender.end()))).toMatchObject({ bytes: source.byteLength });
      }
    } finally {
      proto.update = original;
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  it("carries the receiver's error back to the sender", async () => {
    const sender = await a.openBulk(b.peerId, PICKY);
    await sender.write(Uint8Array.of(1, 2, 3));
    await sender.write(Uint8Array.of(0));
    const err = await sender.end().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'CONFLICT' });
  });

  it('a receiver that answers before the end fails the sender instead of leaving a writer waiting', async () => {
    const sender = await a.openBulk(b.peerId, HASTY, { windowBytes: 1024 });
    const writes = (async () => {
      for (let i = 0; i < 64; i++) await sender.write(new Uint8Array(1024));
    })();
    await expect(writes).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
    await expect(sender.end()).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  it('leaves no listener on a long-lived signal once its transfers ended', async () => {
    const daemonLifetime = new AbortController();
    for (let i = 0; i < 3; i++) {
      const sender = await a.openBulk(b.peerId, SINK, { signal: daemonLifetime.signal });
      await sender.write(Uint8Array.of(i));
      await sender.end();
    }
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(daemonLifetime.signal, 'abort')).toHaveLength(0);
  });

  it('an aborted sender fails its pending write and later calls', async () => {
    const ac = new AbortController();
    const sender = await a.openBulk(b.peerId, SINK, { signal: ac.signal, windowBytes: 1024 });
    await sender.write(new Uint8Array(1024));
    ac.abort();
    await expect(sender.write(new Uint8Array(10))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(sender.end()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
