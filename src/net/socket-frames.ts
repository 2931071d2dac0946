import type { Socket } from 'node:net';
import { PeerUnreachableError, ProtocolError } from './errors.ts';

const MAX_VARINT_BYTES = 5;
/** Complete frames buffered before reading stops (the bulk window keeps an honest sender below). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Where bytes land between frames (headers, small frames, the first bytes of a large one). */
const SCRATCH_BYTES = 16 * 1024;

/**
 * Length-prefixed frames (varint length, see frames.ts) read from a node socket, built for
 * throughput. On a socket made with `tls.connect({ onread: reader.onread })` TLS decrypts a large
 * frame straight into the buffer handed to the consumer: no chunk allocations, no reassembly copy
 * (Node's 16 KiB chunks plus that copy cost half the side channel's throughput). On any other
 * socket it reads 'data' chunks; a frame inside one chunk is then handed out without a copy.
 * Reading stops while more than {@link HIGH_WATER_BYTES} of whole frames wait to be consumed.
 */
export class SocketFrameReader {
  readonly #maxFrameBytes: number;
  readonly #peerId: string;
  #socket: Socket | undefined;
  readonly #frames: Uint8Array[] = [];
  #queued = 0;
  #head = 0; // frame length decoded so far
  #headBytes = 0; // varint bytes seen of the current frame
  #body: Buffer | undefined; // frame being filled
  #filled = 0;
  #bodyTarget: Uint8Array | undefined; // the part of #body last lent to TLS
  #scratch: Buffer | undefined;
  #paused = false;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(maxFrameBytes: number, peerId: string) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#peerId = peerId;
  }

  /** For `tls.connect` / `net.connect`: the socket then reads into the buffers this reader lends. */
  readonly onread = {
    buffer: (): Uint8Array => {
      if (this.#body === undefined) {
        this.#bodyTarget = undefined;
        this.#scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES);
        return this.#scratch;
      }
      this.#bodyTarget = this.#body.subarray(this.#filled);
      return this.#bodyTarget;
    },
    callback: (n: number, buf: Uint8Array): boolean => {
      if (buf === this.#bodyTarget && this.#body !== undefined) {
        this.#filled += n;
        if (this.#filled === this.#body.byteLength) this.#complete();
        return this.#afterRead();
      }
      return this.#push(buf, n, true);
    },
  };

  /** Starts reading `socket`; `viaOnread` when it was created with {@link onread}. */
  attach(socket: Socket, viaOnread: boolean): void {
    this.#socket = socket;
    if (!viaOnread) socket.on('data', (chunk: Buffer) => this.#push(chunk, chunk.byteLength, false));
    socket.once('end', () => {
      if (this.#headBytes > 0 || this.#body !== undefined) this.#fail(new ProtocolError('stream ended inside a frame'));
      this.#ended = true;
      this.#notify();
    });
    socket.once('close', () => {
      if (!this.#ended) this.#fail(new PeerUnreachableError(this.#peerId, `side channel to ${this.#peerId} closed`));
    });
    socket.on('error', (err) => this.#fail(err));
  }

  /** The next frame, or undefined at a clean end; rejects on a malformed frame or a broken socket. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) {
        this.#queued -= frame.byteLength;
        if (this.#queued < HIGH_WATER_BYTES) this.#resume();
        return frame;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return undefined;
      this.#resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** True when a whole frame is buffered, so next() will not wait for the network. */
  hasBufferedFrame(): boolean {
    return this.#frames.length > 0;
  }

  /** Parses `n` bytes of `chunk`; `reused` when the chunk's memory is lent again (frames must be copied out). */
  #push(chunk: Uint8Array, n: number, reused: boolean): boolean {
    try {
      this.#parse(chunk, n, reused);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket?.destroy(err as Error);
      return false;
    }
    return this.#afterRead();
  }

  #afterRead(): boolean {
    if (this.#frames.length > 0) this.#notify(); // a read inside a frame wakes nobody
    if (this.#queued < HIGH_WATER_BYTES) return true;
    this.#paused = true;
    this.#socket?.pause();
    return false;
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket?.resume();
  }

  #parse(chunk: Uint8Array, n: number, reused: boolean): void {
    let off = 0;
    while (off < n) {
      if (this.#body === undefined) {
        const b = chunk[off++];
        if (this.#headBytes >= MAX_VARINT_BYTES) throw new ProtocolError('frame length varint is too long');
        this.#head += (b & 0x7f) * 128 ** this.#headBytes++;
        if ((b & 0x80) !== 0) continue;
        const len = this.#head;
        this.#head = 0;
        this.#headBytes = 0;
        if (len > this.#maxFrameBytes) {
          throw new ProtocolError(`frame of ${len} bytes exceeds the limit of ${this.#maxFrameBytes}`);
        }
        if (!reused && n - off >= len) {
          this.#emit(chunk.subarray(off, off + len)); // whole frame in this chunk: no copy
          off += len;
          continue;
        }
        this.#body = Buffer.allocUnsafe(len);
        this.#filled = 0;
        if (len === 0) {
          this.#complete();
          continue;
        }
      }
      const k = Math.min(this.#body.byteLength - this.#filled, n - off);
      this.#body.set(chunk.subarray(off, off + k), this.#filled);
      this.#filled += k;
      off += k;
      if (this.#filled === this.#body.byteLength) this.#complete();
    }
  }

  #complete(): void {
    if (this.#body !== undefined) this.#emit(this.#body);
    this.#body = undefined;
    this.#bodyTarget = undefined;
  }

  #emit(frame: Uint8Array): void {
    this.#frames.push(frame);
    this.#queued += frame.byteLength;
  }

  #fail(err: Error): void {
    this.#error ??= err;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
