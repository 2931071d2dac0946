import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { ERROR_CATALOGUE, type ErrorCode, ShoalError } from '../errors/index.ts';
import { callScope } from './call.ts';
import { type NetCore, type PeerInfo, peerInfo } from './core.ts';
import { NetAbortedError, NetNotRunningError, ProtocolError, RemoteError } from './errors.ts';
import { FrameReader, tagged, writeFrame } from './frames.ts';

/** Answers one request; throw a ShoalError to send its code and message back to the caller. */
export type RequestHandler = (req: Uint8Array, from: PeerInfo, opts: { signal: AbortSignal }) => Promise<Uint8Array>;

export interface HandleOptions {
  /** Largest request accepted; a bigger one resets the stream. Default 16 MiB + 64 KiB. */
  maxFrameBytes?: number;
  /** How long the handler may take before its signal fires and the stream is reset. Default 30 000 ms. */
  handlerTimeoutMs?: number;
  /** Concurrent inbound streams of this protocol per connection. Default 256 (request() sends at most 256 at once per peer). */
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
const OK = 0;
const ERR = 1;
const STREAM_LIMIT = 256;

/**
 * Request/response over a stream per call: the client opens a stream on the (reused) connection,
 * writes one frame and half-closes; the server answers one frame `[0x00, ...bytes]` on success or
 * `[0x01, ...json {code, message}]` when the handler threw, then closes.
 */
export class Rpc {
  readonly #core: NetCore;
  readonly #defaultTimeoutMs: number;
  readonly #slots = new Map<string, { active: number; waiters: (() => void)[] }>();

  constructor(core: NetCore, defaultTimeoutMs: number) {
    this.#core = core;
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  async handle(protocol: string, handler: RequestHandler, opts: HandleOptions = {}): Promise<void> {
    const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const handlerTimeoutMs = opts.handlerTimeoutMs ?? 30_000;
    const limit = opts.maxInboundStreams ?? STREAM_LIMIT;
    await this.#core.libp2p.handle(
      protocol,
      (stream, connection) => this.#serve(stream, connection, handler, maxFrameBytes, handlerTimeoutMs),
      { maxInboundStreams: limit, maxOutboundStreams: Math.max(limit, STREAM_LIMIT), force: true },
    );
  }

  async #serve(
    stream: Stream,
    connection: Connection,
    handler: RequestHandler,
    maxFrameBytes: number,
    timeoutMs: number,
  ): Promise<void> {
    const from = connection.remotePeer.toString();
    const log = this.#core.logger;
    // the handler's signal fires on its deadline and when the caller goes away (stream reset/closed)
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new NetAbortedError(`caller ${from} went away`));
    stream.addEventListener('close', onClose, { once: true });
    const scope = callScope(timeoutMs, gone.signal, `handler ${stream.protocol}`);
    scope.signal.addEventListener('abort', () => stream.abort(scope.signal.reason), { once: true });
    const reader = new FrameReader(stream, maxFrameBytes);
    try {
      const req = await reader.next();
      if (req === undefined) throw new ProtocolError('stream closed before the request frame');
      let answer: Uint8Array;
      try {
        answer = tagged(OK, await handler(req, peerInfo(this.#core, from), { signal: scope.signal }));
      } catch (err) {
        if (scope.signal.aborted) throw err;
        answer = tagged(ERR, encodeError(err));
        if (!(err instanceof ShoalError)) log.warn({ err, protocol: stream.protocol, from }, 'rpc handler failed');
      }
      await this.#core.faults.delay(this.#core.selfZone, this.#core.zoneOf(from) ?? '', scope.signal);
      await writeFrame(stream, answer, scope.signal);
      await stream.close({ signal: scope.signal });
    } catch (err) {
      log.debug({ err, protocol: stream.protocol, from }, 'rpc stream failed');
      stream.abort(err instanceof Error ? err : new ProtocolError(String(err)));
    } finally {
      scope.dispose();
      stream.removeEventListener('close', onClose);
    }
  }

  async request(peerId: string, protocol: string, req: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    const core = this.#core;
    if (core.libp2p.status !== 'started') throw new NetNotRunningError();
    const timeoutMs = opts.timeoutMs ?? this.#defaultTimeoutMs;
    const scope = callScope(timeoutMs, opts.signal, `request ${protocol} to ${peerId}`);
    let stream: Stream | undefined;
    let release: (() => void) | undefined;
    const abortStream = (): void => stream?.abort(scope.signal.reason);
    scope.signal.addEventListener('abort', abortStream, { once: true });
    try {
      await core.faults.delay(core.selfZone, core.zoneOf(peerId) ?? '', scope.signal);
      release = await this.#slot(peerId, scope.signal);
      try {
        stream = await core.libp2p.dialProtocol(peerIdFromString(peerId), protocol, {
          signal: scope.signal,
          maxOutboundStreams: STREAM_LIMIT,
        });
      } catch (err) {
        throw scope.fail(err, peerId, 'cannot reach');
      }
      if (scope.signal.aborted) abortStream();
      await writeFrame(stream, req, scope.signal);
      await stream.close({ signal: scope.signal });
      const reader = new FrameReader(stream, opts.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES);
      const frame = await reader.next();
      if (frame === undefined || frame.byteLength === 0) {
        throw new ProtocolError(`${peerId} closed ${protocol} without an answer`);
      }
      if (frame[0] === OK) return frame.subarray(1);
      if (frame[0] === ERR) throw decodeError(peerId, frame.subarray(1));
      throw new ProtocolError(`${peerId} sent an unknown response tag ${frame[0]}`);
    } catch (err) {
      const e = scope.fail(err, peerId, `${protocol} failed on`);
      if (e instanceof ProtocolError) stream?.abort(e);
      throw e;
    } finally {
      release?.();
      scope.signal.removeEventListener('abort', abortStream);
      scope.dispose();
    }
  }

  /** Waits for one of the STREAM_LIMIT concurrent request slots towards `peerId`. */
  async #slot(peerId: string, signal: AbortSignal): Promise<() => void> {
    let s = this.#slots.get(peerId);
    if (s === undefined) {
      s = { active: 0, waiters: [] };
      this.#slots.set(peerId, s);
    }
    const slots = s;
    while (slots.active >= STREAM_LIMIT) {
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

export function encodeError(err: unknown): Uint8Array {
  const e = err instanceof ShoalError ? err : new ShoalError('INTERNAL', 'internal error');
  return new TextEncoder().encode(JSON.stringify({ code: e.code, message: e.message }));
}

export function decodeError(peerId: string, bytes: Uint8Array): ShoalError {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed === 'object' && parsed !== null) {
      const { code, message } = parsed as { code?: unknown; message?: unknown };
      const known = typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
      return new RemoteError(peerId, known ? (code as ErrorCode) : 'INTERNAL', String(message ?? 'remote error'));
    }
  } catch {
    // fall through
  }
  return new ProtocolError(`${peerId} sent a malformed error frame`);
}
