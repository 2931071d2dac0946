import { Uint8ArrayList } from 'uint8arraylist';
import { ShoalError } from '../errors/index.ts';
import type { BulkSender } from './bulk.ts';
import { DEFAULT_IDLE_MS, Tag } from './bulk-protocol.ts';
import { callScope } from './call.ts';
import { NetAbortedError, ProtocolError } from './errors.ts';
import type { FrameChannel } from './frame-channel.ts';
import { decodeVarint } from './frames.ts';
import { decodeError } from './rpc.ts';

const EMPTY = new Uint8Array();

/**
 * The sending end of one bulk transfer, on whichever channel was negotiated. At most `window`
 * unacknowledged payload bytes are in flight (a single larger frame goes alone); ACKs from the
 * receiver give credit back, delayed by the emulated round trip when fault injection sets one.
 */
export class Sender implements BulkSender {
  readonly peerId: string;
  readonly channel: 'tls' | 'libp2p';
  readonly #channel: FrameChannel;
  readonly #window: number;
  readonly #rttMs: number;
  #inFlight = 0;
  #failure: ShoalError | undefined;
  #wake: (() => void) | undefined;
  readonly #done: Promise<Uint8Array>;
  #writing: Promise<void> = Promise.resolve();
  /** Set once END is on its way: only then may the receiver answer DONE. */
  #ending = false;

  constructor(channel: FrameChannel, peerId: string, window: number, rttMs: number, signal?: AbortSignal) {
    this.#channel = channel;
    this.channel = channel.kind;
    this.peerId = peerId;
    this.#window = window;
    this.#rttMs = rttMs;
    this.#done = this.#readReplies();
    this.#done.catch(() => undefined);
    if (signal !== undefined) {
      // Callers pass long-lived signals (a maintenance pass): the listener must go when the transfer does.
      const onAbort = (): void => this.abort(new NetAbortedError('bulk stream aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      const detach = (): void => signal.removeEventListener('abort', onAbort);
      this.#done.then(detach, detach);
    }
  }

  async #readReplies(): Promise<Uint8Array> {
    try {
      for (;;) {
        const frame = await this.#channel.next();
        if (frame === undefined) throw new ProtocolError(`${this.peerId} closed the bulk stream without a result`);
        if (frame[0] === Tag.ACK) {
          const n = decodeVarint(new Uint8ArrayList(frame.subarray(1)));
          if (n === undefined) throw new ProtocolError('malformed bulk ACK');
          this.#credit(n[0]);
        } else if (frame[0] === Tag.DONE) {
          // A receiver that finished early took only part of the data; a writer waiting for credit would
          // otherwise wait forever.
          if (!this.#ending) throw new ProtocolError(`${this.peerId} finished the bulk stream before its end`);
          return frame.subarray(1);
        } else if (frame[0] === Tag.ERROR) {
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
      this.#channel.abort(this.#failure);
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
      await this.#channel.send(Tag.DATA, frame, signal);
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
      this.#ending = true;
      await this.#channel.send(Tag.END, EMPTY, scope.signal);
      const result = await this.#done;
      await this.#channel.close(scope.signal);
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
