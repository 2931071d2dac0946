import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShoalError } from '../../src/errors/index.ts';
import { MUX_PROTOCOL } from '../../src/net/channel-codec.ts';
import {
  generateClusterSecret,
  type Net,
  NetAbortedError,
  NetTimeoutError,
  PeerUnreachableError,
  RemoteError,
} from '../../src/net/index.ts';
import { cleanup, startCluster } from './helpers.ts';

const ECHO = '/shoal/test-echo/1.0.0';
const SILENT = '/shoal/test-silent/1.0.0';
const SMALL = '/shoal/test-small/1.0.0';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('request/response', () => {
  const secret = generateClusterSecret();
  let a: Net;
  let b: Net;
  const silentAborts: unknown[] = [];

  beforeAll(async () => {
    [a, b] = await startCluster(2, { clusterSecret: secret });
    await b.handle(ECHO, async (req, from) => {
      const text = dec(req);
      if (text === 'missing') throw new ShoalError('NOT_FOUND', 'no such thing');
      if (text === 'crash') throw new Error('secret internals');
      return enc(`${text} from ${from.peerId} in ${from.zone}`);
    });
    await b.handle(SILENT, (_req, _from, { signal }) => {
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          silentAborts.push(signal.reason);
          reject(signal.reason);
        });
      });
    });
    await b.handle(SMALL, async (req) => req, { maxFrameBytes: 1024 });
  });
  afterAll(cleanup);

  it('answers, and carries the remote error code back', async () => {
    expect(dec(await a.request(b.peerId, ECHO, enc('hi')))).toBe(`hi from ${a.peerId} in z0`);
    const err = await a.request(b.peerId, ECHO, enc('missing')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'no such thing', peerId: b.peerId });
    const crash = await a.request(b.peerId, ECHO, enc('crash')).catch((e: unknown) => e);
    expect(crash).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
  });

  it('times out against a handler that never answers, and the handler sees the caller leave', async () => {
    const err = await a.request(b.peerId, SILENT, enc('?'), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetTimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    await expect.poll(() => silentAborts.length).toBe(1);
  });

  it('honours an AbortSignal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await a.request(b.peerId, SILENT, enc('?'), { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetAbortedError);
    const pre = AbortSignal.abort();
    await expect(a.request(b.peerId, ECHO, enc('x'), { signal: pre })).rejects.toBeInstanceOf(NetAbortedError);
  });

  it('an oversized request is refused; the server keeps answering', async () => {
    const err = await a.request(b.peerId, SMALL, new Uint8Array(4096)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShoalError);
    expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // bigger than one channel frame: refused on the first fragment, the rest is discarded
    const huge = await a.request(b.peerId, SMALL, new Uint8Array(300_000)).catch((e: unknown) => e);
    expect(huge).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await a.request(b.peerId, SMALL, new Uint8Array(1000))).byteLength).toBe(1000);
  });

  it('garbage frames from a raw libp2p peer close that channel without crashing the server', async () => {
    const raw = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: preSharedKey({ psk: secret }),
    });
    try {
      const target = multiaddr(b.multiaddrs()[0]);
      for (const garbage of [
        new Uint8Array(12).fill(0xff),
        Uint8Array.of(0x05, 1, 2),
        Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x08),
        Uint8Array.of(0x02, 0x09, 0x01), // unknown frame type
        Uint8Array.of(0x02, 0x01, 0x01), // a response frame sent to the server
        Uint8Array.of(0x03, 0x00, 0x01, 0x7f), // request whose protocol id runs past the frame
        Uint8Array.of(0x03, 0x05, 0x01, 0x02), // a side-channel offer too short to hold a token
      ]) {
        const stream = await raw.dialProtocol(target, MUX_PROTOCOL);
        stream.send(garbage);
        await stream.close();
        const chunks: number[] = [];
        try {
          for await (const chunk of stream) chunks.push(chunk.byteLength);
        } catch {
          // reset by the server: expected
        }
        expect(chunks).toEqual([]);
      }
      expect(dec(await a.request(b.peerId, ECHO, enc('still')))).toContain('still from');
    } finally {
      await raw.stop();
    }
  });

  it('rejects with PeerUnreachableError for an unknown peer or an unserved protocol', async () => {
    const stranger = '12D3KooWDztqc9rv6M5pPQUQiviiC2dhaXYWkGCWL8pb5pGc3yQo';
    await expect(a.request(stranger, ECHO, enc('x'), { timeoutMs: 1000 })).rejects.toBeInstanceOf(PeerUnreachableError);
    await expect(a.request(b.peerId, '/shoal/nope/1.0.0', enc('x'))).rejects.toBeInstanceOf(PeerUnreachableError);
  });

  it('emulated zone latency delays requests (and can push them past their deadline)', async () => {
    const [x, y] = await startCluster(2, { faults: { enabled: true } });
    await y.handle(ECHO, async (req) => req);
    expect(dec(await x.request(y.peerId, ECHO, enc('fast'), { timeoutMs: 1000 }))).toBe('fast');
    x.setLatency((from, to) => (from === 'z0' && to === 'z1' ? 400 : 0));
    await expect(x.request(y.peerId, ECHO, enc('slow'), { timeoutMs: 200 })).rejects.toBeInstanceOf(NetTimeoutError);
    x.setLatency(undefined);
    expect(dec(await x.request(y.peerId, ECHO, enc('fast again'), { timeoutMs: 1000 }))).toBe('fast again');
  });

  it('many concurrent requests share one connection', async () => {
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => a.request(b.peerId, ECHO, enc(String(i))).then(dec)),
    );
    expect(answers.map((s) => s.split(' ')[0])).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(a.peers()).toEqual([b.peerId]);
  });
});
