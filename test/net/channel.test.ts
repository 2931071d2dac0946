import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import pino from 'pino';
import { Uint8ArrayList } from 'uint8arraylist';
import { afterAll, describe, expect, it } from 'vitest';
import { ShoalError } from '../../src/errors/index.ts';
import {
  CHANNEL_MAX_FRAME_BYTES,
  encodeError,
  frameHeader,
  Kind,
  MUX_PROTOCOL,
  parseRequestHead,
} from '../../src/net/channel-codec.ts';
import { readChannel } from '../../src/net/channel-reader.ts';
import { streamChannel } from '../../src/net/frame-channel.ts';
import { FrameReader } from '../../src/net/frames.ts';
import {
  createNet,
  generateClusterSecret,
  type Net,
  type NetOptions,
  NetTimeoutError,
  PeerUnreachableError,
} from '../../src/net/index.ts';
import { SideTag } from '../../src/net/side-channel.ts';
import { cleanup, FAST_TIMINGS, tempDir, upCount, waitFor } from './helpers.ts';

const ECHO = '/shoal/test-echo/1.0.0';
const GATED = '/shoal/test-gated/1.0.0';
const SILENT = '/shoal/test-silent/1.0.0';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A Net whose debug log is kept, so a test can count the channels it opened. */
interface Logged {
  net: Net;
  channelsOpened(): number;
  /** Channels this Net opened on the TLS side channel or on a libp2p stream. */
  channelsOn(kind: 'tls' | 'libp2p'): number;
  malformed(): number;
}
const started: Net[] = [];

async function logged(options: Partial<NetOptions> = {}): Promise<Logged> {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const net = createNet(
    { logger },
    {
      dataDir: await tempDir(),
      zone: 'z0',
      capacity: 1,
      storeKind: 'memory',
      apiUrl: 'http://127.0.0.1:1',
      timings: FAST_TIMINGS,
      ...options,
    },
  );
  started.push(net);
  await net.start();
  const count = (msg: string): number => lines.filter((l) => l.includes(msg)).length;
  return {
    net,
    channelsOpened: () => count('"rpc channel opened"'),
    channelsOn: (kind: 'tls' | 'libp2p') =>
      lines.filter((l) => l.includes('"rpc channel opened"') && l.includes(`"on":"${kind}"`)).length,
    malformed: () => count('malformed frame'),
  };
}

async function serve(net: Net): Promise<(() => void)[]> {
  const gates: (() => void)[] = [];
  await net.handle(ECHO, async (req) => req);
  await net.handle(GATED, (req) => new Promise((resolve) => gates.push(() => resolve(req))));
  await net.handle(
    SILENT,
    (_req, _from, { signal }) =>
      new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  );
  return gates;
}

describe('multiplexed rpc channel', () => {
  afterAll(async () => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await cleanup();
  });

  it('runs many requests at once on one channel and matches answers that complete out of order', async () => {
    const a = await logged();
    const b = await logged({ zone: 'z1', join: a.net.multiaddrs() });
    const gates = await serve(b.net);
    await waitFor(() => upCount(a.net.members()) === 2);
    const done: number[] = [];
    const calls = Array.from({ length: 100 }, (_, i) =>
      a.net.request(b.net.peerId, GATED, enc(String(i))).then((r) => {
        done.push(i);
        return dec(r);
      }),
    );
    await waitFor(() => gates.length === 100);
    for (const open of gates.reverse()) open(); // answer the last request first
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(done).not.toEqual([...done].sort((x, y) => x - y));
    // a large request is fragmented and interleaved with small ones; every byte comes back
    const big = randomBytes(3 * 1024 * 1024);
    const [echoed, ...small] = await Promise.all([
      a.net.request(b.net.peerId, ECHO, big),
      ...Array.from({ length: 20 }, (_, i) => a.net.request(b.net.peerId, ECHO, enc(`s${i}`)).then(dec)),
    ]);
    expect(Buffer.from(echoed).equals(big)).toBe(true);
    expect(small).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
    expect(a.channelsOpened()).toBe(1);
  });

  it('runs on the TLS side channel when both ends allow it, else on the libp2p stream, and a blocked peer ends it', async () => {
    const secret = generateClusterSecret();
    const faults = { enabled: true };
    const a = await logged({ clusterSecret: secret, faults });
    const b = await logged({ zone: 'z1', clusterSecret: secret, faults, join: a.net.multiaddrs() });
    const c = await logged({ zone: 'z2', clusterSecret: secret, bulkTls: false, join: a.net.multiaddrs() });
    for (const n of [a, b, c]) await serve(n.net);
    await waitFor(() => upCount(a.net.members()) === 3);
    expect(dec(await a.net.request(b.net.peerId, ECHO, enc('a→b')))).toBe('a→b');
    expect(a.channelsOn('tls')).toBe(1);
    // c does not listen for side channels: its offers are none, and it declines a's
    expect(dec(await c.net.request(a.net.peerId, ECHO, enc('c→a')))).toBe('c→a');
    expect(dec(await a.net.request(c.net.peerId, ECHO, enc('a→c')))).toBe('a→c');
    expect(c.channelsOn('libp2p')).toBe(1);
    expect(a.channelsOn('libp2p')).toBe(1);
    // a partition ends the side channel too: calls fail while blocked and work on a fresh channel after
    await a.net.blockPeer(b.net.peerId);
    await expect(a.net.request(b.net.peerId, ECHO, enc('x'), { timeoutMs: 1000 })).rejects.toBeInstanceOf(
      PeerUnreachableError,
    );
    a.net.unblockPeer(b.net.peerId);
    await waitFor(
      async () => dec(await a.net.request(b.net.peerId, ECHO, enc('back')).catch(() => enc(''))) === 'back',
    );
    expect(a.channelsOn('tls')).toBe(2);
  });

  it('a call that times out does not disturb the others on the channel', async () => {
    const a = await logged();
    const b = await logged({ zone: 'z1', join: a.net.multiaddrs() });
    const gates = await serve(b.net);
    await waitFor(() => upCount(a.net.members()) === 2);
    const slow = Array.from({ length: 10 }, (_, i) => a.net.request(b.net.peerId, GATED, enc(`g${i}`)).then(dec));
    const timedOut = a.net.request(b.net.peerId, SILENT, enc('?'), { timeoutMs: 100 }).catch((e: unknown) => e);
    const aborted = new AbortController();
    const abortedCall = a.net.request(b.net.peerId, SILENT, enc('?'), { signal: aborted.signal }).catch((e) => e);
    aborted.abort();
    expect(await timedOut).toBeInstanceOf(NetTimeoutError);
    expect(await abortedCall).toMatchObject({ code: 'ABORTED' });
    await waitFor(() => gates.length === 10);
    for (const open of gates) open();
    expect(await Promise.all(slow)).toEqual(Array.from({ length: 10 }, (_, i) => `g${i}`));
    expect(dec(await a.net.request(b.net.peerId, ECHO, enc('after')))).toBe('after');
    expect(a.channelsOpened()).toBe(1);
  });

  it('pending calls fail when the remote stops, and the channel reopens after it restarts', async () => {
    const a = await logged();
    const bDir = await tempDir();
    const b = await logged({ zone: 'z1', dataDir: bDir, join: a.net.multiaddrs() });
    await serve(b.net);
    const bId = b.net.peerId;
    await waitFor(() => upCount(a.net.members()) === 2);
    expect(dec(await a.net.request(bId, ECHO, enc('one')))).toBe('one');
    const pending = a.net.request(bId, SILENT, enc('?'), { timeoutMs: 4000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await b.net.stop();
    expect(await pending).toBeInstanceOf(PeerUnreachableError);
    const b2 = await logged({ zone: 'z1', dataDir: bDir, join: a.net.multiaddrs() });
    await serve(b2.net);
    expect(b2.net.peerId).toBe(bId);
    await waitFor(() => a.net.member(bId)?.status === 'up' && a.net.peers().includes(bId));
    expect(dec(await a.net.request(bId, ECHO, enc('two')))).toBe('two');
    expect(a.channelsOpened()).toBe(2);
  });

  it('a malformed answer closes that channel; the next call works on a fresh one', async () => {
    const a = await logged();
    await serve(a.net);
    const raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    try {
      let channels = 0;
      await raw.handle(MUX_PROTOCOL, async (stream) => {
        channels++;
        // a daemon offers the TLS side channel first; this peer has none and declines it
        const reader = new FrameReader(stream, CHANNEL_MAX_FRAME_BYTES);
        const first = await reader.next();
        if (first?.[0] !== SideTag.SIDE) throw new Error('expected a side-channel offer first');
        stream.send(Uint8Array.of(1, SideTag.DECLINE));
        readChannel(streamChannel(stream, reader), (f) => {
          const { protocol, rest } = parseRequestHead(f.body);
          if (protocol !== ECHO) {
            const err = encodeError(new ShoalError('NOT_FOUND', 'not a member'));
            stream.send(new Uint8ArrayList(frameHeader(Kind.REFUSED, false, f.id, err.byteLength), err));
          } else if (dec(rest) === 'poison') {
            stream.send(Uint8Array.of(0x03, 0x07, 0x01, 0x00)); // unknown frame type 7
          } else {
            stream.send(new Uint8ArrayList(frameHeader(Kind.OK, false, f.id, rest.byteLength), rest));
          }
        }).catch(() => undefined);
      });
      await raw.dial(multiaddr(a.net.multiaddrs()[0]));
      const rawId = raw.peerId.toString();
      await waitFor(() => a.net.peers().includes(rawId));
      expect(dec(await a.net.request(rawId, ECHO, enc('before')))).toBe('before');
      const opened = channels;
      await expect(a.net.request(rawId, ECHO, enc('poison'))).rejects.toBeInstanceOf(PeerUnreachableError);
      expect(a.malformed()).toBe(1);
      expect(dec(await a.net.request(rawId, ECHO, enc('fresh')))).toBe('fresh');
      expect(channels).toBe(opened + 1);
      // the daemon still serves others on its own channels
      const b = await logged({ zone: 'z1', join: a.net.multiaddrs() });
      await waitFor(() => upCount(b.net.members()) === 2);
      expect(dec(await b.net.request(a.net.peerId, ECHO, enc('ok')))).toBe('ok');
    } finally {
      await raw.stop();
    }
  });
});
