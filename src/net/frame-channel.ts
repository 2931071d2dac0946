import type { Socket } from 'node:net';
import type { Stream } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import { NetAbortedError, NetTimeoutError, PeerUnreachableError } from './errors.ts';
import { encodeVarint, type FrameReader, writeTaggedFrame } from './frames.ts';
import type { SocketFrameReader } from './socket-frames.ts';

/**
 * The duplex a bulk transfer or an RPC channel runs on, once negotiated (side-channel.ts):
 * length-prefixed frames either on the libp2p stream itself, or on the TLS side channel (a node
 * socket tied to the libp2p stream that negotiated it). The bulk sender and receiver and the RPC
 * channel's ends do not know which.
 */
export interface FrameChannel {
  /** `tls` for the side channel, `libp2p` for the stream. */
  readonly kind: 'tls' | 'libp2p';
  /** The next frame, or undefined at a clean end; ProtocolError on a malformed or oversized frame. */
  next(): Promise<Uint8Array | undefined>;
  /** True when a whole frame is buffered, so next() will not wait for the network. */
  hasBufferedFrame(): boolean;
  /** Writes the frame `[tag, ...payload]`; resolves once the transport takes more (backpressure). */
  send(tag: number, payload: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Ends the writing side gracefully. */
  close(signal?: AbortSignal): Promise<void>;
  /** Tears the channel down; pending reads and writes fail. */
  abort(err: Error): void;
  /** Calls `fn` once when the channel closed, cleanly or not (with the error, if any). */
  onClose(fn: (err?: Error) => void): void;
  /** Hands bytes that are already framed to the transport at once (the RPC writer batches its frames). */
  write(bytes: Uint8ArrayList): void;
  /** True while the transport asks the writer to wait for {@link FrameChannel.drain}. */
  readonly needsDrain: boolean;
  /** Resolves when the transport takes more bytes; rejects when it closes first. */
  drain(): Promise<void>;
  /** False once the channel closed or stopped being writable. */
  readonly isOpen: boolean;
}

/**
 * Frames on the libp2p stream (no side channel, or the fallback). `held`: a frame already read from
 * `reader` while looking for a side-channel offer; next() returns it first.
 */
export function streamChannel(stream: Stream, reader: FrameReader, held?: Uint8Array): FrameChannel {
  let first = held;
  return {
    kind: 'libp2p',
    next: () => {
      if (first === undefined) return reader.next();
      const frame = first;
      first = undefined;
      return Promise.resolve(frame);
    },
    hasBufferedFrame: () => first !== undefined || reader.hasBufferedFrame(),
    send: (tag, payload, signal) => writeTaggedFrame(stream, tag, payload, signal),
    close: (signal) => stream.close({ signal }),
    abort: (err) => stream.abort(err),
    onClose: (fn) => stream.addEventListener('close', (evt) => fn(evt.error), { once: true }),
    write: (bytes) => void stream.send(bytes),
    get needsDrain() {
      return stream.writableNeedsDrain;
    },
    drain: () => stream.onDrain(),
    get isOpen() {
      return stream.status === 'open' && stream.writeStatus === 'writable';
    },
  };
}

/** TCP keep-alive probes on a long-lived side channel start after this much silence. */
const KEEPALIVE_MS = 15_000;

/**
 * Frames on the TLS side channel. The socket lives on its own once negotiated: the libp2p stream
 * that negotiated it is closed (a libp2p connection hiccup does not end it), and BulkTls ends it on
 * stop() or when fault injection blocks the peer. `idleTimeoutMs` 0: never idle out (an RPC channel
 * lives as long as both daemons; TCP keep-alive notices a peer that vanished).
 */
export function socketChannel(
  socket: Socket,
  reader: SocketFrameReader,
  opts: { peerId: string; idleTimeoutMs: number; viaOnread: boolean },
): FrameChannel {
  const { peerId, idleTimeoutMs } = opts;
  reader.attach(socket, opts.viaOnread);
  // an 'error' without a listener would crash the process; errors reach the reader and writers anyway
  socket.on('error', () => undefined);
  if (idleTimeoutMs > 0) {
    socket.setTimeout(idleTimeoutMs, () =>
      socket.destroy(new NetTimeoutError(`side channel idle for ${idleTimeoutMs} ms`)),
    );
  } else {
    socket.setKeepAlive(true, KEEPALIVE_MS);
  }
  let closeError: Error | undefined;
  socket.once('error', (err) => {
    closeError = err;
  });
  return {
    kind: 'tls',
    next: () => reader.next(),
    hasBufferedFrame: () => reader.hasBufferedFrame(),
    send: (tag, payload, signal) => sendOnSocket(socket, peerId, tag, payload, signal),
    close: (signal) => endSocket(socket, signal),
    abort: (err) => socket.destroy(err),
    onClose: (fn) => {
      if (socket.closed) fn(closeError);
      else socket.once('close', () => fn(closeError));
    },
    // one contiguous buffer: one TLS record run instead of one record per frame
    write: (bytes) => void socket.write(bytes.subarray()),
    get needsDrain() {
      return socket.writableNeedDrain;
    },
    drain: () => drained(socket, peerId),
    get isOpen() {
      return !socket.destroyed && socket.writable;
    },
  };
}

/** Closes the libp2p stream that negotiated a side channel, without waiting (reset if it does not close in time). */
export function releaseControl(stream: Stream, timeoutMs: number): void {
  stream
    .close({ signal: AbortSignal.timeout(timeoutMs) })
    .catch((err: unknown) => stream.abort(err instanceof Error ? err : new Error(String(err))));
}

/** Frames up to this size are copied behind their header and written in one piece. */
const SMALL_FRAME_BYTES = 1024;

async function sendOnSocket(
  socket: Socket,
  peerId: string,
  tag: number,
  payload: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  if (socket.destroyed || socket.writableEnded)
    throw new PeerUnreachableError(peerId, `side channel to ${peerId} is closed`);
  const len = encodeVarint(payload.byteLength + 1);
  const small = payload.byteLength <= SMALL_FRAME_BYTES;
  const head = Buffer.allocUnsafe(len.byteLength + 1 + (small ? payload.byteLength : 0));
  head.set(len);
  head[len.byteLength] = tag;
  let more: boolean;
  if (small) {
    head.set(payload, len.byteLength + 1); // ACKs, END, results: one buffer, one write
    more = socket.write(head);
  } else {
    // one TLS record run for head + payload instead of a tiny record for the head
    socket.cork();
    socket.write(head);
    more = socket.write(payload);
    socket.uncork();
  }
  if (!more || socket.writableNeedDrain) await drained(socket, peerId, signal);
}

function drained(socket: Socket, peerId: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new PeerUnreachableError(peerId, `side channel to ${peerId} closed`));
    const onAbort = (): void => done(new NetAbortedError('bulk write aborted', { cause: signal?.reason }));
    if (signal?.aborted === true) return onAbort();
    if (socket.destroyed) return onClose();
    socket.once('drain', onDrain);
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Ends our side and waits until it is flushed (or the socket closed); the peer's end then closes it. */
function endSocket(socket: Socket, signal?: AbortSignal): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      socket.off('finish', onDone);
      socket.off('close', onDone);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDone = (): void => done();
    const onAbort = (): void => {
      socket.destroy();
      done(new NetAbortedError('bulk close aborted', { cause: signal?.reason }));
    };
    if (signal?.aborted === true) return onAbort();
    socket.once('finish', onDone);
    socket.once('close', onDone);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.end();
  });
}
