import { Uint8ArrayList } from 'uint8arraylist';
import { FRAME_HEADER_BYTES, frameHeader, type Kind } from './channel-codec.ts';
import type { FrameChannel } from './frame-channel.ts';
import { WRITE_CHUNK_BYTES } from './frames.ts';

interface Outgoing {
  kind: Kind;
  id: number;
  body: Uint8ArrayList;
  offset: number;
}

/** Fragments smaller than this are not squeezed into the end of a batch (they wait for the next one). */
const MIN_FRAGMENT_BYTES = 4096;

/**
 * The only writer of an RPC channel (a libp2p stream or the TLS side channel). Messages are queued and cut into fragments; a pump writes
 * them round-robin (one fragment per message per turn, so a large message does not block small
 * ones), coalescing frames queued in the same tick into one `send` of at most
 * {@link WRITE_CHUNK_BYTES} (the pnet bound), and waits for `drain` whenever the transport asks.
 * The queue is bounded by the callers: in-flight request limits on both sides.
 */
export class ChannelWriter {
  readonly #channel: FrameChannel;
  readonly #onError: (err: unknown) => void;
  #queue: Outgoing[] = [];
  #scheduled = false;
  #pumping = false;
  #closed = false;

  constructor(channel: FrameChannel, onError: (err: unknown) => void) {
    this.#channel = channel;
    this.#onError = onError;
  }

  /** Queues a whole message; it is written in order with the other fragments of the same id. */
  enqueue(kind: Kind, id: number, body: Uint8Array | Uint8ArrayList): void {
    if (this.#closed) return;
    const list = body instanceof Uint8ArrayList ? body : new Uint8ArrayList(body);
    this.#queue.push({ kind, id, body: list, offset: 0 });
    this.#schedule();
  }

  /**
   * Drops the queued rest of the message with this id and kind. Returns true when part of it was
   * already written (the peer saw it and must be told), false when nothing of it went out.
   */
  drop(kind: Kind, id: number): boolean {
    const i = this.#queue.findIndex((m) => m.id === id && m.kind === kind);
    if (i < 0) return true;
    const [m] = this.#queue.splice(i, 1);
    return m.offset > 0;
  }

  /** Resolves once everything queued so far has been handed to the transport (or the writer closed). */
  async idle(): Promise<void> {
    while ((this.#queue.length > 0 || this.#pumping || this.#scheduled) && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Stops writing; queued messages are discarded. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        if (this.#channel.needsDrain) await this.#channel.drain();
        if (this.#closed) break;
        const batch = this.#batch();
        if (batch.byteLength > 0) this.#channel.write(batch);
      }
    } catch (err) {
      this.close();
      this.#onError(err);
    } finally {
      this.#pumping = false;
      if (this.#queue.length > 0 && !this.#closed) this.#schedule();
    }
  }

  /** Takes up to WRITE_CHUNK_BYTES of frames from the queue, one fragment per message in turn. */
  #batch(): Uint8ArrayList {
    const batch = new Uint8ArrayList();
    while (this.#queue.length > 0) {
      const m = this.#queue[0];
      const room = WRITE_CHUNK_BYTES - batch.byteLength - FRAME_HEADER_BYTES;
      const remaining = m.body.byteLength - m.offset;
      if (room < remaining && room < MIN_FRAGMENT_BYTES) break;
      const take = Math.min(room, remaining);
      const end = m.offset + take;
      const more = end < m.body.byteLength;
      batch.append(frameHeader(m.kind, more, m.id, take));
      if (take > 0) batch.append(m.body.sublist(m.offset, end));
      m.offset = end;
      this.#queue.shift();
      if (more) this.#queue.push(m);
    }
    return batch;
  }
}
