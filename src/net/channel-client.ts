import type { Logger } from 'pino';
import type { ShoalError } from '../errors/index.ts';
import { Assembly, type ChannelFrame, decodeError, Kind, MAX_ID, requestBody } from './channel-codec.ts';
import { readChannel } from './channel-reader.ts';
import { ChannelWriter } from './channel-writer.ts';
import { MessageTooLargeError, NetTimeoutError, PeerUnreachableError, ProtocolError, RemoteError } from './errors.ts';
import type { FrameChannel } from './frame-channel.ts';

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(err: unknown): void;
  assembly: Assembly;
}

/**
 * The calling side of one multiplexed RPC channel (one outbound transport to a peer). Many calls are
 * in flight at once; each gets an id and its response is matched by id, in whatever order the
 * server finishes. A call that is aborted or times out is dropped locally and a CANCEL is sent; the
 * channel stays up and a late response is ignored. When the transport ends or fails, every pending
 * call rejects with PeerUnreachableError and the channel reports itself closed (the pool reopens).
 */
export class ClientChannel {
  readonly peerId: string;
  readonly #transport: FrameChannel;
  readonly #logger: Logger;
  readonly #writer: ChannelWriter;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(transport: FrameChannel, peerId: string, logger: Logger) {
    this.peerId = peerId;
    this.#transport = transport;
    this.#logger = logger;
    this.#writer = new ChannelWriter(transport, (err) => this.close(err));
    transport.onClose((err) => this.close(err ?? new Error('channel closed')));
    readChannel(transport, (frame) => this.#onFrame(frame)).then(
      () => this.close(new Error('the peer closed the channel')),
      (err: unknown) => this.close(err),
    );
  }

  /** False once the transport ended or failed; the pool then opens a fresh channel. */
  get isOpen(): boolean {
    return !this.#closed && this.#transport.isOpen;
  }

  /** Calls in flight on this channel. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Sends one request; resolves with the response bytes. `signal` drops the call (not the channel). */
  call(protocol: string, req: Uint8Array, maxResponseBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    if (this.#closed)
      return Promise.reject(new PeerUnreachableError(this.peerId, `rpc channel to ${this.peerId} is closed`));
    if (signal.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId;
    this.#nextId = id >= MAX_ID ? 1 : id + 1;
    const body = requestBody(protocol, req);
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.#pending.delete(id)) return;
        // tell the server only if part of the request went out; a queued request is just dropped
        if (this.#writer.drop(Kind.REQUEST, id)) this.#writer.enqueue(Kind.CANCEL, id, new Uint8Array(0));
        reject(signal.reason);
      };
      const done = (): void => signal.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (bytes) => {
          done();
          resolve(bytes);
        },
        reject: (err) => {
          done();
          reject(err);
        },
        assembly: new Assembly(maxResponseBytes),
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.#writer.enqueue(Kind.REQUEST, id, body);
    });
  }

  /** Closes the channel: pending calls reject with PeerUnreachableError; a ProtocolError is logged and resets the transport. */
  close(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close();
    const message = reason instanceof Error ? reason.message : String(reason);
    if (reason instanceof ProtocolError) {
      this.#logger.warn({ peerId: this.peerId, reason: message }, 'closing rpc channel: peer sent a malformed frame');
    } else {
      this.#logger.debug({ peerId: this.peerId, reason: message }, 'rpc channel closed');
    }
    this.#transport.abort(reason instanceof Error ? reason : new Error(message)); // a no-op once it closed
    const err = new PeerUnreachableError(this.peerId, `rpc channel to ${this.peerId} closed: ${message}`, {
      cause: reason,
    });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }

  #onFrame(frame: ChannelFrame): void {
    if (frame.kind === Kind.REQUEST || frame.kind === Kind.CANCEL) {
      throw new ProtocolError(`rpc server sent a client frame (type ${frame.kind})`);
    }
    const p = this.#pending.get(frame.id);
    if (p === undefined) return; // the call already gave up: drop the late answer
    if (!p.assembly.add(frame.body)) {
      this.#pending.delete(frame.id);
      p.reject(new ProtocolError(`response from ${this.peerId} exceeds ${p.assembly.maxBytes} bytes`));
      return;
    }
    if (frame.more) return;
    this.#pending.delete(frame.id);
    const bytes = p.assembly.bytesOut();
    if (frame.kind === Kind.OK) p.resolve(bytes);
    else if (frame.kind === Kind.ERROR) p.reject(decodeError(this.peerId, bytes));
    else p.reject(refusal(this.peerId, decodeError(this.peerId, bytes)));
  }
}

/** Maps a REFUSED answer to the local error class a caller expects. */
function refusal(peerId: string, e: ShoalError): ShoalError {
  if (e.code === 'TIMEOUT') return new NetTimeoutError(`${peerId}: ${e.message}`);
  if (e.code === 'PROTOCOL_ERROR') return new ProtocolError(`${peerId}: ${e.message}`);
  if (e.code === 'PAYLOAD_TOO_LARGE') return new MessageTooLargeError(`${peerId}: ${e.message}`);
  if (e instanceof RemoteError) return new PeerUnreachableError(peerId, `${peerId}: ${e.message}`);
  return e;
}
