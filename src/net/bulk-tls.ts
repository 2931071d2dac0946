import { hkdfSync, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { Uint8ArrayList } from 'uint8arraylist';
import { ShoalError } from '../errors/index.ts';
import { NetAbortedError, PeerUnreachableError, ProtocolError } from './errors.ts';
import { decodeVarint, encodeVarint } from './frames.ts';

/**
 * The bulk side channel: bulk transfers leave the libp2p stream (pnet's WASM xsalsa20, noise, yamux:
 * ~0.1x raw TCP) for a direct TLS 1.3 connection with an external pre-shared key, so OpenSSL's
 * AES-GCM does the encryption. The sender of a transfer listens; for every transfer it makes a
 * one-time offer (token, nonce, port) sent to the receiver over the noise-authenticated libp2p
 * stream; the receiver connects with the token as PSK identity and the key
 * HKDF-SHA256(cluster key ‖ nonce, info "shoal bulk tls v1"). Finishing the handshake proves to each
 * end that the other holds the cluster secret and the offer, i.e. is the libp2p peer of that stream;
 * the token is then spent. See src/net/README.md ("Bulk side channel").
 */
const HKDF_INFO = 'shoal bulk tls v1';
// TLS 1.3 only; an external PSK is bound to SHA-256 there, hence this suite (AES-GCM, native).
const TLS_VERSION = { ciphers: 'TLS_AES_128_GCM_SHA256', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
const TOKEN_BYTES = 16;
const NONCE_BYTES = 32;
const MAX_HOSTS = 4;
/** Budget of connect() over all hosts; the sender waits for the outcome within its open deadline (5 s). */
const CONNECT_TIMEOUT_MS = 2_000;
/** After a fallback, connect() to that peer fails at once for this long. */
const RETRY_AFTER_MS = 60_000;
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The key both ends derive for one offer. */
export function bulkPsk(clusterKey: Uint8Array | undefined, nonce: Uint8Array): Buffer {
  const ikm = Buffer.concat([clusterKey ?? new Uint8Array(), nonce]);
  return Buffer.from(hkdfSync('sha256', ikm, new Uint8Array(), HKDF_INFO, 32));
}

/** What the sender offers the receiver on the libp2p stream. */
export interface OfferWire {
  port: number;
  token: Uint8Array;
  nonce: Uint8Array;
  /** Addresses the sender listens on; empty when it listens on every interface. */
  hosts: string[];
}

/** `token(16) nonce(32) varint port` then the hosts, comma-separated UTF-8. */
export function encodeOffer(o: OfferWire): Uint8Array {
  return Buffer.concat([o.token, o.nonce, encodeVarint(o.port), Buffer.from(o.hosts.join(','), 'utf8')]);
}

export function decodeOffer(bytes: Uint8Array): OfferWire {
  const fixed = TOKEN_BYTES + NONCE_BYTES;
  const port = bytes.byteLength > fixed ? decodeVarint(new Uint8ArrayList(bytes.subarray(fixed))) : undefined;
  if (port === undefined || port[0] < 1 || port[0] > 65535)
    throw new ProtocolError('malformed bulk side-channel offer');
  const rest = Buffer.from(bytes.subarray(fixed + port[1])).toString('utf8');
  return {
    token: bytes.slice(0, TOKEN_BYTES),
    nonce: bytes.slice(TOKEN_BYTES, fixed),
    port: port[0],
    hosts: rest === '' ? [] : rest.split(',').slice(0, MAX_HOSTS),
  };
}

/** The IP of a `/ip4/…/tcp/…` or `/ip6/…/tcp/…` multiaddr, else undefined. */
export function ipOf(multiaddr: string): string | undefined {
  return /^\/ip[46]\/([^/]+)\/tcp\//.exec(multiaddr)?.[1];
}

/**
 * Where the sender tries to connect, in order: the address its libp2p connection reached, when the
 * receiver listens there (or everywhere), then the receiver's own listen addresses.
 */
export function candidateHosts(remoteAddr: string, offered: string[]): string[] {
  const out: string[] = [];
  const remote = ipOf(remoteAddr);
  if (remote !== undefined && (offered.length === 0 || offered.includes(remote))) out.push(remote);
  // a peer reached over the network is not on this host's loopback
  const usable = remote === undefined || isLoopback(remote) ? offered : offered.filter((h) => !isLoopback(h));
  for (const h of usable) if (!out.includes(h)) out.push(h);
  return out.slice(0, MAX_HOSTS);
}

const isLoopback = (ip: string): boolean => ip === '::1' || ip.startsWith('127.');

/** `onread` of `tls.connect`: read into buffers the caller lends (see SocketFrameReader). */
export interface OnRead {
  buffer: () => Uint8Array;
  callback: (bytesWritten: number, buf: Uint8Array) => boolean;
}

/** One pending offer on the listening side. */
export interface BulkOffer {
  readonly wire: OfferWire;
  /** The authenticated socket, or undefined once withdrawn or when the listener stopped. */
  readonly accepted: Promise<tls.TLSSocket | undefined>;
  /** Forget the offer (the receiver declined it, or the sender gave up). Idempotent. */
  withdraw(): void;
}

export interface BulkTlsComponents {
  logger: Logger;
}

export interface BulkTlsOptions {
  /** Hosts to listen on (the libp2p listen hosts); none: this daemon only dials out. */
  hosts: string[];
  /** TCP port; 0 = any free port (it travels in every offer). */
  port: number;
  /** The 32-byte cluster key (pnet secret), mixed into every PSK; undefined without a cluster secret. */
  clusterKey?: Uint8Array;
  /** Deadline of a TLS handshake on the listener. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
}

interface Pending {
  key: Buffer;
  peerId: string;
  resolve: (socket: tls.TLSSocket | undefined) => void;
}

/** Listener and dialler of the bulk side channel. One per Net; start() / stop(). */
export class BulkTls {
  readonly #logger: Logger;
  readonly #options: BulkTlsOptions;
  readonly #servers: tls.Server[] = [];
  readonly #offers = new Map<string, Pending>();
  readonly #identities = new WeakMap<object, string>();
  readonly #sockets = new Map<Socket, string>(); // open side channels → peer id
  readonly #fellBack = new Set<string>();
  readonly #retryAt = new Map<string, number>(); // peer id → when its side channel may be tried again
  #port = 0;
  #advertised: string[] = [];
  #clientContext: tls.SecureContext | undefined; // one for every dial: building it per dial costs ~0.4 ms

  constructor(components: BulkTlsComponents, options: BulkTlsOptions) {
    this.#logger = components.logger;
    this.#options = options;
  }

  /** The listening port, 0 when not listening. */
  get port(): number {
    return this.#port;
  }

  /** Listens on every host (one port for all); a wildcard host makes the others redundant. */
  async start(): Promise<void> {
    const all = [...new Set(this.#options.hosts)];
    const wildcard = all.find((h) => WILDCARDS.has(h));
    const hosts = wildcard === undefined ? all : [wildcard];
    for (const host of hosts) {
      const server = tls.createServer(
        {
          ...TLS_VERSION,
          noDelay: true,
          handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10_000,
          pskCallback: (socket, identity) => this.#psk(socket, identity),
        },
        (socket) => this.#accept(socket),
      );
      server.on('tlsClientError', (err) => this.#logger.debug({ err }, 'bulk side channel: handshake refused'));
      try {
        await listen(server, this.#port || this.#options.port, host);
      } catch (err) {
        if (this.#servers.length === 0) {
          throw new ShoalError('CONFIG_INVALID', `cannot listen for bulk transfers on ${host}:${this.#options.port}`, {
            cause: err,
          });
        }
        this.#logger.warn({ err, host, port: this.#port }, 'bulk side channel: cannot listen on this host too');
        continue;
      }
      server.on('error', (err) => this.#logger.warn({ err, host }, 'bulk side channel: listener error'));
      this.#servers.push(server);
      this.#port ||= (server.address() as { port: number }).port;
      if (wildcard === undefined) this.#advertised.push(host);
    }
  }

  /** Stops listening, ends every side-channel socket and every pending offer. */
  async stop(): Promise<void> {
    const servers = this.#servers.splice(0);
    for (const s of this.#sockets.keys()) s.destroy();
    this.#sockets.clear();
    for (const p of this.#offers.values()) p.resolve(undefined);
    this.#offers.clear();
    this.#port = 0;
    this.#advertised = [];
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  /** A one-time offer to `peerId` (the receiver of a transfer), or undefined when not listening. */
  offer(peerId: string): BulkOffer | undefined {
    if (this.#port === 0) return undefined;
    const token = randomBytes(TOKEN_BYTES);
    const nonce = randomBytes(NONCE_BYTES);
    const id = token.toString('hex');
    let resolve!: (socket: tls.TLSSocket | undefined) => void;
    const accepted = new Promise<tls.TLSSocket | undefined>((r) => {
      resolve = r;
    });
    this.#offers.set(id, { key: bulkPsk(this.#options.clusterKey, nonce), peerId, resolve });
    return {
      wire: { port: this.#port, token, nonce, hosts: [...this.#advertised] },
      accepted,
      withdraw: () => {
        if (this.#offers.delete(id)) resolve(undefined);
      },
    };
  }

  /**
   * Connects to a peer's offer, trying `hosts` in order; `onread` (see SocketFrameReader) makes the
   * socket read into caller-lent buffers. Rejects with PeerUnreachableError (the caller falls back
   * to the libp2p stream), or with the signal's reason.
   */
  async connect(
    peerId: string,
    hosts: string[],
    offer: OfferWire,
    opts: { signal: AbortSignal; onread?: OnRead },
  ): Promise<tls.TLSSocket> {
    if (Date.now() < (this.#retryAt.get(peerId) ?? 0)) {
      throw new PeerUnreachableError(peerId, `bulk side channel to ${peerId} failed recently; not retried yet`);
    }
    // give up well before the sender's open deadline (5 s by default), so it still gets a DECLINE
    const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(CONNECT_TIMEOUT_MS)]);
    const key = bulkPsk(this.#options.clusterKey, offer.nonce);
    const identity = Buffer.from(offer.token).toString('hex');
    let last: unknown = new Error('no address to try');
    for (const host of hosts) {
      try {
        return await this.#dial(peerId, { host, port: offer.port, identity, key, onread: opts.onread }, signal);
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason instanceof ShoalError ? opts.signal.reason : err;
        if (signal.aborted) {
          last = new Error(`no TLS connection within ${CONNECT_TIMEOUT_MS} ms`);
          break;
        }
        last = err;
      }
    }
    const message = last instanceof Error ? last.message : String(last);
    throw new PeerUnreachableError(peerId, `cannot open the bulk side channel to ${peerId}: ${message}`, {
      cause: last,
    });
  }

  /** Ends every side channel to or from `peerId` (fault injection: the peer is partitioned away). */
  dropPeer(peerId: string): void {
    for (const [socket, peer] of this.#sockets) {
      if (peer === peerId) socket.destroy(new PeerUnreachableError(peerId, `${peerId} is blocked`));
    }
  }

  /**
   * Records a fallback to the libp2p stream: logged at warn the first time per peer, then at debug;
   * connect() to that peer then fails at once for {@link RETRY_AFTER_MS} (a filtered port would
   * otherwise cost every transfer the connect timeout).
   */
  noteFallback(peerId: string, err: unknown): void {
    const first = !this.#fellBack.has(peerId);
    this.#fellBack.add(peerId);
    const now = Date.now();
    // the window is not extended by the fast failures inside it: the peer is retried after it
    if (now >= (this.#retryAt.get(peerId) ?? 0)) this.#retryAt.set(peerId, now + RETRY_AFTER_MS);
    this.#logger[first ? 'warn' : 'debug']({ err, peerId }, 'bulk side channel unavailable, using the libp2p stream');
  }

  #psk(socket: tls.TLSSocket, identity: string): Buffer | null {
    const pending = this.#offers.get(identity);
    if (pending === undefined) return null; // unknown or spent token: the handshake fails
    this.#identities.set(socket, identity);
    return pending.key;
  }

  #accept(socket: tls.TLSSocket): void {
    socket.on('error', () => undefined);
    const id = this.#identities.get(socket);
    const pending = id === undefined ? undefined : this.#offers.get(id);
    // only a handshake that went through #psk counts (never a session resumed from a ticket)
    if (id === undefined || pending === undefined) {
      this.#logger.debug('bulk side channel: connection without a live token closed');
      socket.destroy();
      return;
    }
    this.#offers.delete(id);
    this.#track(socket, pending.peerId);
    pending.resolve(socket);
  }

  #dial(
    peerId: string,
    to: { host: string; port: number; identity: string; key: Buffer; onread?: OnRead },
    signal: AbortSignal,
  ): Promise<tls.TLSSocket> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      this.#clientContext ??= tls.createSecureContext(TLS_VERSION);
      const socket = tls.connect({
        ...TLS_VERSION,
        secureContext: this.#clientContext,
        host: to.host,
        port: to.port,
        // no certificate: the PSK authenticates both ends (checked below)
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ psk: to.key, identity: to.identity }),
        ...(to.onread === undefined ? {} : { onread: to.onread }),
      });
      const done = (err?: Error): void => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (err === undefined) {
          this.#track(socket, peerId);
          resolve(socket);
        } else {
          socket.destroy();
          reject(err);
        }
      };
      const onAbort = (): void => done(signal.reason ?? new NetAbortedError('bulk side channel dial aborted'));
      const onError = (err: Error): void => done(err);
      socket.setNoDelay(true); // ACKs and small frames must not wait for Nagle
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', onError);
      socket.once('secureConnect', () => {
        // a server that skipped the PSK and showed a certificate is not a shoal daemon of this cluster
        const cert = socket.getPeerCertificate();
        if (cert !== null && Object.keys(cert).length > 0) done(new ProtocolError('bulk side channel without PSK'));
        else done();
      });
    });
  }

  #track(socket: Socket, peerId: string): void {
    socket.on('error', () => undefined);
    this.#sockets.set(socket, peerId);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}

function listen(server: tls.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
