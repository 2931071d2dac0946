import type { Stream } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { ProtocolError } from './errors.ts';

/**
 * Length-prefixed frames on a libp2p stream: an unsigned LEB128 varint length (at most 5 bytes)
 * followed by that many bytes. Writes are cut into {@link WRITE_CHUNK_BYTES} pieces and wait for
 * `drain`, so no layer below (yamux, pnet's xsalsa20) ever sees megabytes queued at once.
 */
export const WRITE_CHUNK_BYTES = 64 * 1024;
const MAX_VARINT_BYTES = 5;

/** Encodes `n` (0 ≤ n < 2^32) as an unsigned LEB128 varint. */
export function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Decodes a varint at the start of `list`: `[value, bytesUsed]`, or undefined if more bytes are needed. */
export function decodeVarint(list: Uint8ArrayList): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < list.byteLength; i++) {
    if (i >= MAX_VARINT_BYTES) throw new ProtocolError('frame length varint is too long');
    const b = list.get(i);
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  if (list.byteLength >= MAX_VARINT_BYTES) throw new ProtocolError('frame length varint is too long');
  return undefined;
}

/**
 * Reads frames from a stream (a libp2p stream, or a node socket for the bulk side channel).
 * `next()` resolves to the next frame, or `undefined` at a clean end of stream.
 */
export class FrameReader {
  readonly #source: AsyncIterator<Uint8Array | Uint8ArrayList>;
  readonly #buffer = new Uint8ArrayList();
  readonly #maxFrameBytes: number;

  constructor(stream: AsyncIterable<Uint8Array | Uint8ArrayList>, maxFrameBytes: number) {
    this.#source = stream[Symbol.asyncIterator]();
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Throws ProtocolError on an oversized frame, a bad varint, or a stream that ends inside a frame. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const head = decodeVarint(this.#buffer);
      if (head !== undefined) {
        const [len, used] = head;
        if (len > this.#maxFrameBytes) {
          throw new ProtocolError(`frame of ${len} bytes exceeds the limit of ${this.#maxFrameBytes}`);
        }
        if (this.#buffer.byteLength >= used + len) {
          const frame = this.#buffer.subarray(used, used + len);
          this.#buffer.consume(used + len);
          return frame;
        }
      }
      const chunk = await this.#source.next();
      if (chunk.done === true) {
        if (this.#buffer.byteLength > 0) throw new ProtocolError('stream ended inside a frame');
        return undefined;
      }
      this.#buffer.append(chunk.value);
    }
  }

  /** True when a whole frame is already buffered, so `next()` will not wait for the network. */
  hasBufferedFrame(): boolean {
    const head = decodeVarint(this.#buffer);
    return head !== undefined && this.#buffer.byteLength >= head[0] + head[1];
  }

  /** Stops listening to the stream (releases the async iterator's listeners). */
  async release(): Promise<void> {
    await this.#source.return?.();
  }
}

/** Writes one length-prefixed frame, in bounded chunks, waiting for `drain` whenever the stream asks for it. */
export async function writeFrame(stream: Stream, payload: Uint8Array, signal?: AbortSignal): Promise<void> {
  await writeBytes(stream, encodeVarint(payload.byteLength), signal);
  await writeBytes(stream, payload, signal);
}

/** Writes one frame `[tag, ...payload]` without copying the payload. */
export async function writeTaggedFrame(
  stream: Stream,
  tag: number,
  payload: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  const len = encodeVarint(payload.byteLength + 1);
  const head = new Uint8Array(len.byteLength + 1);
  head.set(len);
  head[len.byteLength] = tag;
  await writeBytes(stream, head, signal);
  await writeBytes(stream, payload, signal);
}

async function writeBytes(stream: Stream, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  for (let off = 0; off < bytes.byteLength; off += WRITE_CHUNK_BYTES) {
    if (stream.writableNeedsDrain) await stream.onDrain({ signal });
    stream.send(bytes.subarray(off, Math.min(off + WRITE_CHUNK_BYTES, bytes.byteLength)));
  }
}

/** Concatenates a type byte and a payload (frames that carry a kind tag). */
export function tagged(tag: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.byteLength + 1);
  out[0] = tag;
  out.set(payload, 1);
  return out;
}
