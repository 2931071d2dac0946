import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { callScope } from './call.ts';
import { ClientChannel } from './channel-client.ts';
import { CHANNEL_MAX_FRAME_BYTES, MUX_PROTOCOL } from './channel-codec.ts';
import { type HandlerEntry, type RequestHandler, ServerChannel } from './channel-server.ts';
import type { NetCore } from './core.ts';
import { NetNotRunningError, ProtocolError } from './errors.ts';
import { acceptSideChannel, offerSideChannel } from './side-channel.ts';

export { decodeError, encodeError, MUX_PROTOCOL } from './channel-codec.ts';
export type { RequestHandler } from './channel-server.ts';

export interface HandleOptions {
  /** Largest request accepted; a bigger one is refused (the caller gets MessageTooLargeError). Default 16 MiB + 64 KiB. */
  maxFrameBytes?: number;
  /** How long the handler may take before its signal fires and the caller gets NetTimeoutError. Default 30 000 ms. */
  handlerTimeoutMs?: number;
  /** Concurrent requests of this protocol per calling peer; more are refused (PeerUnreachableError). Default 256. */
  maxInboundStreams?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Whole-call deadline (dial, send, remote handler, response). Default: the Net's requestTimeoutMs (5000). */
  timeoutMs?: number;
  /** Largest response accepted. Default 16 MiB + 64 KiB. */
  maxResponseBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Calls in flight towards one peer; more wait for a slot. */
const PEER_IN_FLIGHT = 256;
/** Channel streams one connection may open to us (one is normal; a few while reopening). */
const MAX_CHANNEL_STREAMS = 8;
/** A channel lives as long as both daemons: no idle timeout on its side-channel socket (TCP keep-alive instead). */
const CHANNEL_SIDE = { maxFrameBytes: CHANNEL_MAX_FRAME_BYTES, idleTimeoutMs: 0 } as const;

/**
 * Request/response over one long-lived multiplexed channel per peer ({@link MUX_PROTOCOL}; wire
 * format in channel-codec.ts): opened lazily on the first call, shared by every protocol and every
 * concurrent call, reopened on the next call after it dies. Calls that were pending on a channel
 * that died reject with PeerUnreachableError and are NOT retried (requests need not be
 * idempotent); a call that times out or is aborted only drops itself.
 */
export class Rpc {
  readonly #core: NetCore;
  readonly #defaultTimeoutMs: number;
  readonly #handlers = new Map<string, HandlerEntry>();
  readonly #channels = new Map<string, ClientChannel>();
  readonly #opening = new Map<string, Promise<ClientChannel>>();
  readonly #slots = new Map<string, { active: number; waiters: (() => void)[] }>();
  #serving: Promise<void> | undefined;

  constructor(core: NetCore, defaultTimeoutMs: number) {
    this.#core = core;
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  async handle(protocol: string, handler: RequestHandler, opts: HandleOptions = {}): Promise<void> {
    this.#handlers.set(protocol, {
      handler,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      handlerTimeoutMs: opts.handlerTimeoutMs ?? 30_000,
      maxConcurrent: opts.maxInboundStreams ?? PEER_IN_FLIGHT,
    });
    this.#serving ??= this.#core.libp2p.handle(MUX_PROTOCOL, (s, c) => this.#serve(s, c), {
      maxInboundStreams: MAX_CHANNEL_STREAMS,
      maxOutboundStreams: MAX_CHANNEL_STREAMS,
      force: true,
    });
    await this.#serving;
  }

  /** Stops serving `protocol`: its new requests are refused (the caller gets PeerUnreachableError). */
  unhandle(protocol: string): void {
    this.#handlers.delete(protocol);
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString();
    try {
      const transport = await acceptSideChannel(this.#core, stream, connection, CHANNEL_SIDE);
      await new ServerChannel(this.#core, transport, from, (p) => this.#handlers.get(p)).serve();
    } catch (err) {
      this.#core.logger.debug({ err, from }, 'rpc channel negotiation failed');
      stream.abort(err instanceof Error ? err : new ProtocolError(String(err)));
    }
  }

  async request(peerId: string, protocol: string, req: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    const core = this.#core;
    if (core.libp2p.status !== 'started') throw new NetNotRunningError();
    const timeoutMs = opts.timeoutMs ?? this.#defaultTimeoutMs;
    const scope = callScope(timeoutMs, opts.signal, `request ${protocol} to ${peerId}`);
    let release: (() => void) | undefined;
    try {
      await core.faults.delay(core.selfZone, core.zoneOf(peerId) ?? '', scope.signal);
      release = await this.#slot(peerId, scope.signal);
      const channel = await this.#channel(peerId, scope.signal);
      return await channel.call(protocol, req, opts.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES, scope.signal);
    } catch (err) {
      throw scope.fail(err, peerId, `${protocol} failed on`);
    } finally {
      release?.();
      scope.dispose();
    }
  }

  /** The open channel to `peerId`, or a new one (one dial shared by concurrent callers). */
  #channel(peerId: string, signal: AbortSignal): Promise<ClientChannel> {
    const open = this.#channels.get(peerId);
    if (open?.isOpen === true) return Promise.resolve(open);
    if (open !== undefined) this.#channels.delete(peerId);
    let opening = this.#opening.get(peerId);
    if (opening === undefined) {
      opening = this.#open(peerId).finally(() => this.#opening.delete(peerId));
      opening.catch(() => undefined);
      this.#opening.set(peerId, opening);
    }
    return raceSignal(opening, signal);
  }

  async #open(peerId: string): Promise<ClientChannel> {
    const signal = AbortSignal.timeout(this.#defaultTimeoutMs);
    const stream = await this.#core.libp2p.dialProtocol(peerIdFromString(peerId), MUX_PROTOCOL, {
      signal,
      maxOutboundStreams: MAX_CHANNEL_STREAMS,
    });
    const transport = await offerSideChannel(this.#core, stream, { ...CHANNEL_SIDE, peerId, signal });
    const channel = new ClientChannel(transport, peerId, this.#core.logger);
    this.#channels.set(peerId, channel);
    this.#core.logger.debug({ peerId, on: transport.kind }, 'rpc channel opened');
    return channel;
  }

  /** Waits for one of the PEER_IN_FLIGHT concurrent request slots towards `peerId`. */
  async #slot(peerId: string, signal: AbortSignal): Promise<() => void> {
    let s = this.#slots.get(peerId);
    if (s === undefined) {
      s = { active: 0, waiters: [] };
      this.#slots.set(peerId, s);
    }
    const slots = s;
    while (slots.active >= PEER_IN_FLIGHT) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          slots.waiters.splice(slots.waiters.indexOf(wake), 1);
          reject(signal.reason);
        };
        const wake = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        slots.waiters.push(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    slots.active++;
    return () => {
      slots.active--;
      const next = slots.waiters.shift();
      if (next !== undefined) next();
      else if (slots.active === 0) this.#slots.delete(peerId);
    };
  }
}

/** `promise`, or the signal's reason if it fires first (the promise itself keeps running). */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
