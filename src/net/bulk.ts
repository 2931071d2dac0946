import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { Uint8ArrayList } from 'uint8arraylist';
import { ShoalError } from '../errors/index.ts';
import { callScope } from './call.ts';
import { type NetCore, type PeerInfo, peerInfo } from './core.ts';
import { NetAbortedError, NetNotRunningError, ProtocolError } from './errors.ts';
import { decodeVarint, encodeVarint, FrameReader, tagged, writeFrame, writeTaggedFrame } from './frames.ts';
import { decodeError, encodeError } from './rpc.ts';

/**
 * Bulk streams: one libp2p stream carries many frames from a sender to a receiver under an
 * application-level window. The sender keeps at most `windowBytes` of unacknowledged payload in
 * flight (a single frame larger than the window is allowed when nothing else is in flight); the
 * receiver acknowledges payload bytes once its handler has pulled the frames (so a slow consumer,
 * e.g. a store write, slows the sender), every `ackBytes` and whenever it runs out of buffered frames.
 * This keeps pnet/yamux from ever seeing megabytes queued on one stream.
 *
 * Wire: sender → receiver `[0x00, payload]` (DATA), `[0x01]` (END);
 * receiver → sender `[0x02, varint bytes]` (ACK), `[0x03, result]` (DONE), `[0x04, json {code,message}]` (ERROR).
 */
const DATA = 0;
const END = 1;
const ACK = 2;
const DONE = 3;
const ERROR = 4;

/** Consumes one inbound bulk stream; its return value is sent back to the sender's `end()`. */
export type BulkHandler = (
  frames: AsyncIterable<Uint8Array>,
  from: PeerInfo,
  opts: { signal: AbortSignal },
) => Promise<Uint8Array | undefined>;

export interface BulkHandleOptions {
  /** Largest single frame accepted. Default 16 MiB + 64 KiB. */
  maxFrameBytes?: number;
  /** Acknowledge after this many consumed payload bytes (and whenever the buffer runs dry). Default 64 KiB. */
  ackBytes?: number;
  /** Reset the stream when nothing moves for this long. Default 30 000 ms. */
  idleTimeoutMs?: number;
}

export interface BulkOpenOptions {
  signal?: AbortSignal;
  /** Deadline for opening the stream. Default: the Net's requestTimeoutMs. */
  timeoutMs?: number;
  /** Unacknowledged payload bytes allowed in flight. Default 512 KiB. */
  windowBytes?: number;
  /** Reset the stream when nothing moves for this long. Default 30 000 ms. */
  idleTimeoutMs?: number;
}

/** The sending end of a bulk stream. */
export interface BulkSender {
  readonly peerId: string;
  /** Queues one frame; resolves once it fits in the window and is handed to the stream. */
  write(frame: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Ends the stream and resolves with the receiver handler's result once everything was consumed. */
  end(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array>;
  /** Resets the stream; pending and later calls reject. */
  abort(reason?: Error): void;
}

export const DEFAULT_WINDOW_BYTES = 512 * 1024;
const DEFAULT_MAX_FRAME = 16 * 1024 * 1024 + 64 * 1024;
const DEFAULT_IDLE_MS = 30_000;

export async function handleBulk(
  core: NetCore,
  protocol: string,
  handler: BulkHandler,
  opts: BulkHandleOptions = {},
): Promise<void> {
  await core.libp2p.handle(protocol, (stream, conn) => serveBulk(core, stream, conn, handler, opts), {
    maxInboundStreams: 64,
    maxOutboundStreams: 64,
    force: true,
  });
}

async function serveBulk(
  core: NetCore,
  stream: Stream,
  conn: Connection,
  handler: BulkHandler,
  opts: BulkHandleOptions,
): Promise<void> {
  const from = conn.remotePeer.toString();
  stream.inactivityTimeout = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const ackBytes = opts.ackBytes ?? 64 * 1024;
  const reader = new FrameReader(stream, (opts.maxFrameBytes ?? DEFAULT_MAX_FRAME) + 1);
  const ac = new AbortController();
  stream.addEventListener('close', () => ac.abort(new NetAbortedError('bulk stream closed')), { once: true });
  let unacked = 0;
  async function* frames(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (unacked > 0 && (unacked >= ackBytes || !reader.hasBufferedFrame())) {
        await writeFrame(stream, tagged(ACK, encodeVarint(unacked)), ac.signal);
        unacked = 0;
      }
      const frame = await reader.next();
      if (frame === undefined) throw new ProtocolError('bulk stream ended without END');
      if (frame[0] === END && frame.byteLength === 1) return;
      if (frame[0] !== DATA) throw new ProtocolError(`unexpected bulk frame tag ${frame[0]}`);
      const payload = frame.subarray(1);
      yield payload;
      unacked += payload.byteLength;
    }
  }
  try {
    let result: Uint8Array;
    try {
      result = tagged(DONE, (await handler(frames(), peerInfo(core, from), { signal: ac.signal })) ?? new Uint8Array());
    } catch (err) {
      if (ac.signal.aborted || err instanceof ProtocolError) throw err;
      if (!(err instanceof ShoalError))
        core.logger.warn({ err, protocol: stream.protocol, from }, 'bulk handler failed');
      result = tagged(ERROR, encodeError(err));
    }
    await writeFrame(stream, result, ac.signal);
    await stream.close({ signal: ac.signal });
  } catch (err) {
    core.logger.debug({ err, protocol: stream.protocol, from }, 'bulk stream failed');
    stream.abort(err instanceof Error ? err : new ProtocolError(String(err)));
  }
}

export async function openBulk(
  core: NetCore,
  peerId: string,
  protocol: string,
  defaultTimeoutMs: number,
  opts: BulkOpenOptions = {},
): Promise<BulkSender> {
  if (core.libp2p.status !== 'started') throw new NetNotRunningError();
  const scope = callScope(opts.timeoutMs ?? defaultTimeoutMs, opts.signal, `open bulk ${protocol} to ${peerId}`);
  let stream: Stream;
  try {
    await core.faults.delay(core.selfZone, core.zoneOf(peerId) ?? '', scope.signal);
    stream = await core.libp2p.dialProtocol(peerIdFromString(peerId), protocol, { signal: scope.signal });
  } catch (err) {
    throw scope.fail(err, peerId, 'cannot open bulk stream to');
  } finally {
    scope.dispose();
  }
  stream.inactivityTimeout = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const zone = core.zoneOf(peerId) ?? '';
  const rttMs = core.faults.latencyMs(core.selfZone, zone) + core.faults.latencyMs(zone, core.selfZone);
  return new Sender(stream, peerId, opts.windowBytes ?? DEFAULT_WINDOW_BYTES, rttMs, opts.signal);
}

class Sender implements BulkSender {
  readonly peerId: string;
  readonly #stream: Stream;
  readonly #window: number;
  readonly #rttMs: number;
  #inFlight = 0;
  #failure: ShoalError | undefined;
  #wake: (() => void) | undefined;
  readonly #done: Promise<Uint8Array>;
  #writing: Promise<void> = Promise.resolve();

  constructor(stream: Stream, peerId: string, window: number, rttMs: number, signal?: AbortSignal) {
    this.#stream = stream;
    this.peerId = peerId;
    this.#window = window;
    this.#rttMs = rttMs;
    signal?.addEventListener('abort', () => this.abort(new NetAbortedError('bulk stream aborted')), { once: true });
    this.#done = this.#readReplies();
    this.#done.catch(() => undefined);
  }

  async #readReplies(): Promise<Uint8Array> {
    const reader = new FrameReader(this.#stream, DEFAULT_MAX_FRAME);
    try {
      for (;;) {
        const frame = await reader.next();
        if (frame === undefined) throw new ProtocolError(`${this.peerId} closed the bulk stream without a result`);
        if (frame[0] === ACK) {
          const n = decodeVarint(new Uint8ArrayList(frame.subarray(1)));
          if (n === undefined) throw new ProtocolError('malformed bulk ACK');
          this.#credit(n[0]);
        } else if (frame[0] === DONE) {
          return frame.subarray(1);
        } else if (frame[0] === ERROR) {
          throw decodeError(this.peerId, frame.subarray(1));
        } else {
          throw new ProtocolError(`unexpected bulk reply tag ${frame[0]}`);
        }
      }
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
  }

  #credit(n: number): void {
    const apply = (): void => {
      this.#inFlight = Math.max(0, this.#inFlight - n);
      this.#wake?.();
    };
    if (this.#rttMs > 0) setTimeout(apply, this.#rttMs);
    else apply();
  }

  #fail(err: unknown): void {
    if (this.#failure === undefined) {
      this.#failure =
        err instanceof ShoalError
          ? err
          : new ProtocolError(`bulk stream to ${this.peerId} failed: ${err instanceof Error ? err.message : err}`, {
              cause: err,
            });
      this.#stream.abort(this.#failure);
    }
    this.#wake?.();
  }

  write(frame: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const next = this.#writing.then(() => this.#write(frame, opts.signal));
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #write(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    while (this.#failure === undefined && this.#inFlight > 0 && this.#inFlight + frame.byteLength > this.#window) {
      if (signal?.aborted === true) throw new NetAbortedError('bulk write aborted', { cause: signal.reason });
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        this.#wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      this.#wake = undefined;
    }
    if (this.#failure !== undefined) throw this.#failure;
    if (signal?.aborted === true) throw new NetAbortedError('bulk write aborted', { cause: signal.reason });
    this.#inFlight += frame.byteLength;
    try {
      await writeTaggedFrame(this.#stream, DATA, frame, signal);
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
  }

  async end(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Uint8Array> {
    await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
    const scope = callScope(opts.timeoutMs ?? DEFAULT_IDLE_MS, opts.signal, `bulk end to ${this.peerId}`);
    const onAbort = (): void => this.#fail(scope.signal.reason);
    scope.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await writeFrame(this.#stream, Uint8Array.of(END), scope.signal);
      const result = await this.#done;
      await this.#stream.close({ signal: scope.signal });
      return result;
    } catch (err) {
      throw scope.fail(err, this.peerId, 'bulk stream failed on');
    } finally {
      scope.signal.removeEventListener('abort', onAbort);
      scope.dispose();
    }
  }

  abort(reason?: Error): void {
    this.#fail(reason ?? new NetAbortedError('bulk stream aborted'));
  }
}
