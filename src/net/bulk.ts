import { peerIdFromString } from '@libp2p/peer-id';
import { DEFAULT_IDLE_MS, DEFAULT_MAX_FRAME, DEFAULT_WINDOW_BYTES } from './bulk-protocol.ts';
import { serveBulk } from './bulk-receiver.ts';
import { Sender } from './bulk-sender.ts';
import { callScope } from './call.ts';
import type { NetCore, PeerInfo } from './core.ts';
import { NetNotRunningError } from './errors.ts';
import type { FrameChannel } from './frame-channel.ts';
import { offerSideChannel } from './side-channel.ts';

/**
 * Bulk streams: many frames from a sender to a receiver under an application-level window. The
 * sender keeps at most `windowBytes` of unacknowledged payload in flight (a single frame larger than
 * the window is allowed when nothing else is in flight); the receiver acknowledges payload bytes
 * once its handler has pulled the frames (so a slow consumer, e.g. a store write, slows the sender),
 * every `ackBytes` and whenever it runs out of buffered frames.
 *
 * A transfer opens a libp2p stream on its protocol. When both ends allow it, the frames then travel
 * on the TLS side channel negotiated over that stream (bulk-tls.ts: native AES-GCM instead of pnet's
 * WASM cipher and yamux), and the stream is closed; otherwise on the stream itself. Wire tags: bulk-protocol.ts; the negotiation: README.md beside this file.
 */

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
  /** Deadline for opening the stream (and negotiating the side channel). Default: the Net's requestTimeoutMs. */
  timeoutMs?: number;
  /** Unacknowledged payload bytes allowed in flight. Default 512 KiB. */
  windowBytes?: number;
  /** Reset the stream when nothing moves for this long. Default 30 000 ms. */
  idleTimeoutMs?: number;
}

/** The sending end of a bulk stream. */
export interface BulkSender {
  readonly peerId: string;
  /** Where the frames travel: the TLS side channel, or the libp2p stream (side channel off, or fallback). */
  readonly channel: 'tls' | 'libp2p';
  /** Queues one frame; resolves once it fits in the window and is handed to the stream. Do not modify it afterwards. */
  write(frame: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Ends the stream and resolves with the receiver handler's result once everything was consumed. */
  end(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array>;
  /** Resets the stream; pending and later calls reject. */
  abort(reason?: Error): void;
}

export { DEFAULT_WINDOW_BYTES } from './bulk-protocol.ts';

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

export async function openBulk(
  core: NetCore,
  peerId: string,
  protocol: string,
  defaultTimeoutMs: number,
  opts: BulkOpenOptions = {},
): Promise<BulkSender> {
  if (core.libp2p.status !== 'started') throw new NetNotRunningError();
  const scope = callScope(opts.timeoutMs ?? defaultTimeoutMs, opts.signal, `open bulk ${protocol} to ${peerId}`);
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  let channel: FrameChannel;
  try {
    await core.faults.delay(core.selfZone, core.zoneOf(peerId) ?? '', scope.signal);
    const stream = await core.libp2p.dialProtocol(peerIdFromString(peerId), protocol, { signal: scope.signal });
    stream.inactivityTimeout = idleTimeoutMs;
    channel = await offerSideChannel(core, stream, {
      peerId,
      idleTimeoutMs,
      maxFrameBytes: DEFAULT_MAX_FRAME,
      signal: scope.signal,
    });
  } catch (err) {
    throw scope.fail(err, peerId, 'cannot open bulk stream to');
  } finally {
    scope.dispose();
  }
  const zone = core.zoneOf(peerId) ?? '';
  const rttMs = core.faults.latencyMs(core.selfZone, zone) + core.faults.latencyMs(zone, core.selfZone);
  return new Sender(channel, peerId, opts.windowBytes ?? DEFAULT_WINDOW_BYTES, rttMs, opts.signal);
}
