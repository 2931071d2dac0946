import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkTls, bulkPsk, candidateHosts, decodeOffer, encodeOffer, type OfferWire } from '../../src/net/bulk-tls.ts';
import { PeerUnreachableError, ProtocolError } from '../../src/net/index.ts';

const logger = pino({ level: process.env.SHOAL_TEST_LOG ?? 'silent' });
const LOCAL = ['127.0.0.1'];
const opts = () => ({ signal: AbortSignal.timeout(5_000) });

/** 'pending' when `p` has not settled within `ms`. */
const settledWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

const received = (socket: TLSSocket, bytes: number) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.byteLength;
      if (n >= bytes) resolve(Buffer.concat(chunks));
    });
  });

describe('bulk side channel (TLS 1.3, external PSK)', () => {
  const clusterKey = randomBytes(32);
  // in a transfer the sender listens and makes the offer, the receiver dials
  const listener = new BulkTls({ logger }, { hosts: LOCAL, port: 0, clusterKey });
  const dialler = new BulkTls({ logger }, { hosts: [], port: 0, clusterKey }); // dials only
  const stranger = new BulkTls({ logger }, { hosts: [], port: 0, clusterKey: randomBytes(32) });
  const open: TLSSocket[] = [];
  beforeAll(async () => {
    await listener.start();
    await dialler.start();
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await Promise.all([listener.stop(), dialler.stop(), stranger.stop()]);
  });

  it('listens on an ephemeral port; a dial-only instance makes no offers', () => {
    expect(listener.port).toBeGreaterThan(0);
    expect(dialler.port).toBe(0);
    expect(dialler.offer('someone')).toBeUndefined();
  });

  it('a holder of the cluster secret and the offer gets an encrypted, authenticated socket', async () => {
    const offer = listener.offer('peer-a')!;
    const client = await dialler.connect('r', LOCAL, offer.wire, opts());
    open.push(client);
    const server = (await offer.accepted)!;
    open.push(server);
    expect(client.getProtocol()).toBe('TLSv1.3');
    expect(client.getCipher().name).toBe('TLS_AES_128_GCM_SHA256');
    const payload = randomBytes(100_000);
    const got = received(server, payload.byteLength);
    client.write(payload);
    expect((await got).equals(payload)).toBe(true);
  });

  it('a peer with another cluster secret fails the handshake and the offer stays unclaimed', async () => {
    const offer = listener.offer('peer-a')!;
    const err = await stranger.connect('r', LOCAL, offer.wire, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerUnreachableError);
    expect(await settledWithin(offer.accepted, 100)).toBe('pending'); // nothing handed to a handler
    // the failed attempt did not spend the token: the rightful dialler still gets in
    open.push(await dialler.connect('r', LOCAL, offer.wire, opts()));
    expect(await offer.accepted).toBeDefined();
  });

  it('a spent, withdrawn or unknown token is refused', async () => {
    const spent = listener.offer('peer-a')!;
    open.push(await dialler.connect('r', LOCAL, spent.wire, opts()));
    await spent.accepted;
    await expect(dialler.connect('r', LOCAL, spent.wire, opts())).rejects.toBeInstanceOf(PeerUnreachableError);

    const withdrawn = listener.offer('peer-a')!;
    withdrawn.withdraw();
    expect(await withdrawn.accepted).toBeUndefined();
    await expect(dialler.connect('r', LOCAL, withdrawn.wire, opts())).rejects.toBeInstanceOf(PeerUnreachableError);

    const real = listener.offer('peer-a')!;
    const forged: OfferWire = { ...real.wire, token: randomBytes(16) };
    await expect(dialler.connect('r', LOCAL, forged, opts())).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(await settledWithin(real.accepted, 50)).toBe('pending');
    real.withdraw();
  });

  it('garbage instead of a TLS handshake closes that socket only', async () => {
    const raw = connect(listener.port, '127.0.0.1');
    raw.on('error', () => undefined);
    await new Promise((r) => raw.once('connect', r));
    const closed = new Promise((r) => raw.once('close', r));
    raw.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), randomBytes(4096)]));
    await closed;
    const offer = listener.offer('peer-a')!;
    open.push(await dialler.connect('r', LOCAL, offer.wire, opts()));
    expect(await offer.accepted).toBeDefined();
  });

  it('honours the signal while dialling', async () => {
    const offer = listener.offer('peer-a')!;
    const ac = new AbortController();
    ac.abort(new Error('caller gave up'));
    await expect(dialler.connect('r', LOCAL, offer.wire, { signal: ac.signal })).rejects.toThrow('caller gave up');
    offer.withdraw();
  });

  it('tries the next host when one refuses', async () => {
    const offer = listener.offer('peer-a')!;
    // 127.0.0.2 is loopback too, but nothing listens there on this port
    open.push(await dialler.connect('r', ['127.0.0.2', '127.0.0.1'], offer.wire, opts()));
    expect(await offer.accepted).toBeDefined();
  });

  it('after a fallback, a peer is not dialled again for a while', async () => {
    const quiet = new BulkTls({ logger }, { hosts: [], port: 0, clusterKey });
    quiet.noteFallback('flaky', new Error('unreachable'));
    const offer = listener.offer('flaky')!;
    const t0 = performance.now();
    await expect(quiet.connect('flaky', LOCAL, offer.wire, opts())).rejects.toThrow(/failed recently/);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(await settledWithin(offer.accepted, 20)).toBe('pending'); // it never dialled
    open.push(await quiet.connect('steady', LOCAL, offer.wire, opts())); // other peers are unaffected
    expect(await offer.accepted).toBeDefined();
  });

  it('stop() ends pending offers', async () => {
    const other = new BulkTls({ logger }, { hosts: LOCAL, port: 0, clusterKey });
    await other.start();
    const offer = other.offer('peer-a')!;
    await other.stop();
    expect(await offer.accepted).toBeUndefined();
    expect(other.port).toBe(0);
  });
});

describe('bulk side channel helpers', () => {
  it('derives a different key per cluster secret and per nonce', () => {
    const k = randomBytes(32);
    const n = randomBytes(32);
    expect(bulkPsk(k, n)).toHaveLength(32);
    expect(bulkPsk(k, n).equals(bulkPsk(k, n))).toBe(true);
    expect(bulkPsk(k, n).equals(bulkPsk(randomBytes(32), n))).toBe(false);
    expect(bulkPsk(k, n).equals(bulkPsk(k, randomBytes(32)))).toBe(false);
    expect(bulkPsk(undefined, n).equals(bulkPsk(k, n))).toBe(false);
  });

  it('round-trips offers and rejects malformed ones', () => {
    const wire: OfferWire = { port: 40123, token: randomBytes(16), nonce: randomBytes(32), hosts: ['10.0.0.5', '::1'] };
    const back = decodeOffer(encodeOffer(wire));
    expect(back.port).toBe(40123);
    expect(Buffer.from(back.token).equals(wire.token)).toBe(true);
    expect(Buffer.from(back.nonce).equals(wire.nonce)).toBe(true);
    expect(back.hosts).toEqual(['10.0.0.5', '::1']);
    expect(decodeOffer(encodeOffer({ ...wire, hosts: [] })).hosts).toEqual([]);
    expect(() => decodeOffer(new Uint8Array(10))).toThrow(ProtocolError);
    expect(() => decodeOffer(encodeOffer({ ...wire, port: 0 }))).toThrow(ProtocolError);
  });

  it('tries the address the libp2p connection reached first', () => {
    expect(candidateHosts('/ip4/10.0.0.5/tcp/4001/p2p/x', [])).toEqual(['10.0.0.5']);
    expect(candidateHosts('/ip4/10.0.0.5/tcp/4001', ['10.0.0.9', '10.0.0.5'])).toEqual(['10.0.0.5', '10.0.0.9']);
    expect(candidateHosts('/ip4/192.168.1.2/tcp/4001', ['10.0.0.9'])).toEqual(['10.0.0.9']);
    expect(candidateHosts('/ip6/::1/tcp/4001', [])).toEqual(['::1']);
    expect(candidateHosts('/dns4/example.org/tcp/4001', [])).toEqual([]);
  });
});
