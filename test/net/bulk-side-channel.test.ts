import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BulkTls } from '../../src/net/bulk-tls.ts';
import { generateClusterSecret, type Net, PeerUnreachableError } from '../../src/net/index.ts';
import { cleanup, digestSink, startCluster, startNet, waitFor } from './helpers.ts';

const SINK = '/shoal/test-side-sink/1.0.0';
const SLOW = '/shoal/test-side-slow/1.0.0';
const HOLD = '/shoal/test-side-hold/1.0.0';
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bulk transfers on the TLS side channel', () => {
  let a: Net;
  let b: Net;
  let plain: Net; // a daemon with the side channel off
  let pulled = 0; // payload bytes SLOW's handler has taken so far
  const held: { signal?: AbortSignal; frames: number; failed?: unknown } = { frames: 0 };

  beforeAll(async () => {
    const clusterSecret = generateClusterSecret();
    [a, b] = await startCluster(2, { clusterSecret, faults: { enabled: true } });
    plain = await startNet({ clusterSecret, bulkTls: false, join: a.multiaddrs(), zone: 'z2' });
    await waitFor(() => a.member(plain.peerId)?.status === 'up');
    for (const n of [b, plain]) await n.handleBulk(SINK, digestSink());
    await b.handleBulk(SLOW, async (frames) => {
      for await (const f of frames) {
        pulled += f.byteLength;
        await sleep(2);
      }
      return undefined;
    });
    await b.handleBulk(HOLD, async (frames, _from, { signal }) => {
      held.signal = signal;
      try {
        for await (const _ of frames) {
          held.frames++;
          await sleep(20);
        }
      } catch (err) {
        held.failed = err;
        throw err;
      }
      return undefined;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(cleanup);

  it('round-trips many frames, from empty to 16 MiB, in order and intact', async () => {
    const sizes = [0, 1, 7, 70_000, 4 * 1024 * 1024, 16 * 1024 * 1024];
    for (let i = 0; i < 2000; i++) sizes.push(1 + ((i * 7919) % 5000));
    sizes.push(256 * 1024, 1);
    const hash = createHash('sha256');
    let bytes = 0;
    const s = await a.openBulk(b.peerId, SINK, { windowBytes: 1024 * 1024 });
    expect(s.channel).toBe('tls');
    for (const size of sizes) {
      const frame = randomBytes(size);
      hash.update(frame);
      bytes += size;
      await s.write(frame);
    }
    expect(dec(await s.end())).toEqual({ bytes, count: sizes.length, sha: hash.digest('hex') });
  });

  it('a slow consumer bounds the bytes in flight to the window', async () => {
    const windowBytes = 256 * 1024;
    const frame = 16 * 1024;
    pulled = 0;
    let sent = 0;
    let most = 0;
    const s = await a.openBulk(b.peerId, SLOW, { windowBytes });
    expect(s.channel).toBe('tls');
    for (let i = 0; i < 200; i++) {
      await s.write(new Uint8Array(frame));
      sent += frame;
      most = Math.max(most, sent - pulled);
    }
    await s.end();
    expect(pulled).toBe(sent);
    expect(most).toBeLessThanOrEqual(windowBytes);
    expect(most).toBeGreaterThan(windowBytes / 2); // the sender did run ahead, up to the window
  });

  it('an aborted sender fails its calls and the receiving handler sees the transfer end', async () => {
    held.frames = 0;
    held.failed = undefined;
    const ac = new AbortController();
    const s = await a.openBulk(b.peerId, HOLD, { signal: ac.signal, windowBytes: 64 * 1024 });
    expect(s.channel).toBe('tls');
    for (let i = 0; i < 4; i++) await s.write(new Uint8Array(32 * 1024));
    ac.abort();
    await expect(s.write(new Uint8Array(10))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(s.end()).rejects.toMatchObject({ code: 'ABORTED' });
    await waitFor(() => held.failed !== undefined, 5_000);
    expect(held.signal?.aborted).toBe(true);
    expect(held.frames).toBeLessThan(4 * 32); // it did not get the rest
    // the next transfer works
    const again = await a.openBulk(b.peerId, SINK);
    await again.write(Uint8Array.of(1, 2, 3));
    expect(dec(await again.end())).toMatchObject({ bytes: 3, count: 1 });
  });

  it('a partition (blockPeer) stops a transfer on the side channel', async () => {
    held.failed = undefined;
    const s = await a.openBulk(b.peerId, HOLD, { windowBytes: 64 * 1024 });
    expect(s.channel).toBe('tls');
    await s.write(new Uint8Array(1024));
    await a.blockPeer(b.peerId);
    try {
      const err = await (async () => {
        for (let i = 0; i < 100; i++) await s.write(new Uint8Array(32 * 1024));
        return s.end({ timeoutMs: 5_000 });
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: expect.stringMatching(/REPLICAS_UNAVAILABLE|PROTOCOL_ERROR/) });
      await waitFor(() => held.failed !== undefined, 5_000);
    } finally {
      a.unblockPeer(b.peerId);
    }
    await waitFor(async () => {
      const again = await a.openBulk(b.peerId, SINK).catch(() => undefined);
      if (again === undefined) return false;
      await again.write(Uint8Array.of(9));
      return dec(await again.end()).count === 1;
    }, 8_000);
  });

  it('an idle side channel times out', async () => {
    const s = await a.openBulk(b.peerId, HOLD, { idleTimeoutMs: 200 });
    expect(s.channel).toBe('tls');
    await s.write(new Uint8Array(10));
    await sleep(600);
    await expect(s.end()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('falls back to the libp2p stream when the side channel cannot be reached', async () => {
    vi.spyOn(BulkTls.prototype, 'connect').mockRejectedValue(new PeerUnreachableError(b.peerId, 'unreachable'));
    const source = randomBytes(3 * 1024 * 1024);
    const s = await a.openBulk(b.peerId, SINK);
    expect(s.channel).toBe('libp2p');
    for (let off = 0; off < source.byteLength; off += 100_000) await s.write(source.subarray(off, off + 100_000));
    expect(dec(await s.end())).toMatchObject({
      bytes: source.byteLength,
      sha: createHash('sha256').update(source).digest('hex'),
    });
    // an empty transfer falls back as well
    const empty = await a.openBulk(b.peerId, SINK);
    expect(empty.channel).toBe('libp2p');
    expect(dec(await empty.end())).toMatchObject({ bytes: 0, count: 0 });
  });

  it('uses the libp2p stream when either end has the side channel off', async () => {
    const toPlain = await a.openBulk(plain.peerId, SINK);
    expect(toPlain.channel).toBe('libp2p');
    await toPlain.write(randomBytes(300_000));
    expect(dec(await toPlain.end())).toMatchObject({ bytes: 300_000, count: 1 });
    const fromPlain = await plain.openBulk(b.peerId, SINK);
    expect(fromPlain.channel).toBe('libp2p');
    await fromPlain.write(Uint8Array.of(1));
    expect(dec(await fromPlain.end())).toMatchObject({ bytes: 1, count: 1 });
  });
});
