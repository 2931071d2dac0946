import { Uint8ArrayList } from 'uint8arraylist';
import { ERROR_CATALOGUE, type ErrorCode, ShoalError } from '../errors/index.ts';
import { ProtocolError, RemoteError } from './errors.ts';
import { decodeVarint, encodeVarint, WRITE_CHUNK_BYTES } from './frames.ts';

/**
 * Wire format of the multiplexed RPC channel (`/shoal/rpc-mux/2.0.0`, one long-lived stream per
 * peer pair and direction). Every frame is length-prefixed (see frames.ts) and at most
 * {@link CHANNEL_MAX_FRAME_BYTES} long:
 *
 *     varint length | type byte | varint id | fragment bytes
 *
 * The type byte's low bits are the {@link Kind}; bit 0x80 (MORE) says more fragments of the same
 * message follow. A message (request or response) bigger than one frame is cut into fragments that
 * the writer interleaves with other messages, so a 16 MiB request never blocks small ones.
 * A REQUEST message is `varint protocolLength | protocol (utf8) | request bytes`.
 *
 * Before the first frame, the caller may offer the TLS side channel (side-channel.ts: type bytes 5
 * and 6 are kept for that); the frames then travel on the side-channel socket instead of the stream.
 */
export const MUX_PROTOCOL = '/shoal/rpc-mux/2.0.0';

export const Kind = {
  /** client → server: `varint protocolLength | protocol | request`. */
  REQUEST: 0,
  /** server → client: the handler's answer. */
  OK: 1,
  /** server → client: JSON `{code, message}`, the handler threw. */
  ERROR: 2,
  /** server → client: JSON `{code, message}`, the request was not run (protocol not served, busy, too large, handler timeout). */
  REFUSED: 3,
  /** client → server: the caller went away (timeout or abort); the handler's signal fires. Empty. */
  CANCEL: 4,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const MORE = 0x80;
const MAX_KIND = 4;
/** Largest frame on the channel (length prefix excluded); a bigger one is a protocol error. */
export const CHANNEL_MAX_FRAME_BYTES = WRITE_CHUNK_BYTES;
/** Upper bound of a frame's length prefix + type byte + id varint. */
export const FRAME_HEADER_BYTES = 3 + 1 + 5;
/** Request ids are 1 ≤ id < 2^31, so the id varint never exceeds 5 bytes. */
export const MAX_ID = 2 ** 31 - 1;
const MAX_PROTOCOL_BYTES = 1024;

export interface ChannelFrame {
  kind: Kind;
  more: boolean;
  id: number;
  body: Uint8Array;
}

/** Header of one frame whose fragment is `fragmentBytes` long. */
export function frameHeader(kind: Kind, more: boolean, id: number, fragmentBytes: number): Uint8Array {
  const idBytes = encodeVarint(id);
  const len = encodeVarint(1 + idBytes.byteLength + fragmentBytes);
  const out = new Uint8Array(len.byteLength + 1 + idBytes.byteLength);
  out.set(len);
  out[len.byteLength] = kind | (more ? MORE : 0);
  out.set(idBytes, len.byteLength + 1);
  return out;
}

/** Parses one frame (without its length prefix). Throws ProtocolError on an unknown type or bad id. */
export function parseFrame(frame: Uint8Array): ChannelFrame {
  if (frame.byteLength < 2) throw new ProtocolError('rpc channel frame too short');
  const type = frame[0];
  const kind = type & 0x7f;
  if (kind > MAX_KIND) throw new ProtocolError(`rpc channel frame of unknown type ${type}`);
  const head = decodeVarint(new Uint8ArrayList(frame.subarray(1, 6)));
  if (head === undefined || head[0] < 1 || head[0] > MAX_ID) throw new ProtocolError('rpc channel frame with a bad id');
  return { kind: kind as Kind, more: (type & MORE) !== 0, id: head[0], body: frame.subarray(1 + head[1]) };
}

/** The body of a REQUEST message: protocol name, then the request bytes (not copied). */
export function requestBody(protocol: string, req: Uint8Array): Uint8ArrayList {
  const name = new TextEncoder().encode(protocol);
  if (name.byteLength > MAX_PROTOCOL_BYTES) throw new ProtocolError(`protocol id ${protocol.slice(0, 40)}… too long`);
  return new Uint8ArrayList(encodeVarint(name.byteLength), name, req);
}

/** Splits the first fragment of a REQUEST into its protocol and the start of the request bytes. */
export function parseRequestHead(first: Uint8Array): { protocol: string; rest: Uint8Array } {
  const head = decodeVarint(new Uint8ArrayList(first.subarray(0, 5)));
  if (head === undefined || head[0] > MAX_PROTOCOL_BYTES || head[1] + head[0] > first.byteLength) {
    throw new ProtocolError('rpc request with a malformed protocol id');
  }
  const [len, used] = head;
  return {
    protocol: new TextDecoder('utf-8', { fatal: false }).decode(first.subarray(used, used + len)),
    rest: first.subarray(used + len),
  };
}

/** Accumulates the fragments of one message; `add` returns false once `maxBytes` would be exceeded. */
export class Assembly {
  readonly #parts: Uint8Array[] = [];
  #bytes = 0;
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(part: Uint8Array): boolean {
    this.#bytes += part.byteLength;
    if (this.#bytes > this.maxBytes) return false;
    if (part.byteLength > 0) this.#parts.push(part);
    return true;
  }

  /** The whole message (copied only when it came in more than one fragment). */
  bytesOut(): Uint8Array {
    if (this.#parts.length === 1) return this.#parts[0];
    const out = new Uint8Array(this.#bytes);
    let off = 0;
    for (const p of this.#parts) {
      out.set(p, off);
      off += p.byteLength;
    }
    return out;
  }
}

/** JSON `{code, message}` of an error; anything but a ShoalError becomes INTERNAL "internal error". */
export function encodeError(err: unknown): Uint8Array {
  const e = err instanceof ShoalError ? err : new ShoalError('INTERNAL', 'internal error');
  return new TextEncoder().encode(JSON.stringify({ code: e.code, message: e.message }));
}

/** A RemoteError with the peer's code (INTERNAL if unknown), or ProtocolError for a malformed body. */
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
