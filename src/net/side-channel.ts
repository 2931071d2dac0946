import type { Connection, Stream } from '@libp2p/interface';
import { candidateHosts, decodeOffer, encodeOffer, type OfferWire } from './bulk-tls.ts';
import type { NetCore } from './core.ts';
import { NetAbortedError, NetNotRunningError, ProtocolError } from './errors.ts';
import { type FrameChannel, releaseControl, socketChannel, streamChannel } from './frame-channel.ts';
import { FrameReader, writeTaggedFrame } from './frames.ts';
import { SocketFrameReader } from './socket-frames.ts';

/**
 * Moving a libp2p stream's frames to the TLS side channel (bulk-tls.ts), for bulk transfers and
 * for the RPC channel alike. The end that opened the stream offers (`SIDE + offer` as its first
 * frame) and waits until the other end connects to its listener, or answers `DECLINE` (side
 * channel off there, or unreachable): then the frames stay on the stream. The accepting end dials
 * because only a TLS client socket can read straight into frame buffers (see socket-frames.ts).
 * Both framings (bulk tags, RPC frame kinds) keep these two first bytes for the negotiation.
 */
export const SideTag = { SIDE: 5, DECLINE: 6 } as const;

const EMPTY = new Uint8Array();
/** With no idle timeout (an RPC channel): how long the negotiating stream may take to close, and to take up an offer. */
const CONTROL_CLOSE_MS = 5_000;
const TAKE_OFFER_MS = 10_000;

export interface SideChannelOptions {
  /** Largest frame either end accepts. */
  maxFrameBytes: number;
  /** Idle timeout of the side-channel socket; 0: none (TCP keep-alive instead). */
  idleTimeoutMs: number;
}

/**
 * The opening end: offers the side channel when this daemon listens for it, and returns the channel
 * the frames then travel on. `signal` bounds the negotiation (it resets the stream).
 */
export async function offerSideChannel(
  core: NetCore,
  stream: Stream,
  o: SideChannelOptions & { peerId: string; signal: AbortSignal },
): Promise<FrameChannel> {
  const reader = new FrameReader(stream, o.maxFrameBytes);
  const offer = core.bulkTls?.offer(o.peerId);
  if (offer === undefined) return streamChannel(stream, reader);
  // reader.next() takes no signal: the deadline resets the stream instead
  const onAbort = (): void => stream.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await writeTaggedFrame(stream, SideTag.SIDE, encodeOffer(offer.wire), o.signal);
    const claimed = offer.accepted.then((socket) => ({ socket }));
    const deadline = new Promise<never>((_, reject) => {
      if (o.signal.aborted) reject(o.signal.reason);
      o.signal.addEventListener('abort', () => reject(o.signal.reason), { once: true });
    });
    deadline.catch(() => undefined);
    const onStream = reader.next();
    onStream.catch(() => undefined);
    let won = await Promise.race([claimed, onStream.then((frame) => ({ frame })), deadline]);
    // the other end closes this stream once connected, which may overtake the end of the TLS handshake
    if ('frame' in won && won.frame === undefined) won = await Promise.race([claimed, deadline]);
    if ('frame' in won) {
      if (won.frame?.[0] !== SideTag.DECLINE || won.frame.byteLength !== 1)
        throw new ProtocolError(`unexpected answer to a side-channel offer on ${stream.protocol}`);
      offer.withdraw();
      return streamChannel(stream, reader);
    }
    if (won.socket === undefined) throw new NetNotRunningError();
    releaseControl(stream, o.idleTimeoutMs || CONTROL_CLOSE_MS);
    const { peerId, idleTimeoutMs } = o;
    core.logger.debug({ peerId, protocol: stream.protocol }, 'stream moved to the side channel');
    return socketChannel(won.socket, new SocketFrameReader(o.maxFrameBytes, peerId), {
      peerId,
      idleTimeoutMs,
      viaOnread: false,
    });
  } catch (err) {
    offer.withdraw();
    stream.abort(err instanceof Error ? err : new ProtocolError(String(err)));
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The accepting end: reads the first frame; takes up an offer (SIDE) by connecting to it, or answers
 * DECLINE and stays on the stream. Without an offer the stream carries the frames, the first one
 * included (returned first by the channel's next()).
 */
export async function acceptSideChannel(
  core: NetCore,
  stream: Stream,
  conn: Connection,
  o: SideChannelOptions,
): Promise<FrameChannel> {
  const reader = new FrameReader(stream, o.maxFrameBytes);
  const first = await reader.next();
  if (first?.[0] !== SideTag.SIDE) return streamChannel(stream, reader, first);
  const offer = decodeOffer(first.subarray(1));
  const from = conn.remotePeer.toString();
  return takeOffer(core, stream, reader, {
    ...o,
    from,
    offer,
    hosts: candidateHosts(conn.remoteAddr.toString(), offer.hosts),
  });
}

async function takeOffer(
  core: NetCore,
  stream: Stream,
  reader: FrameReader,
  o: SideChannelOptions & { from: string; hosts: string[]; offer: OfferWire },
): Promise<FrameChannel> {
  const side = core.bulkTls;
  if (side !== undefined) {
    // give up when the offering end does (it resets the stream on its deadline) or after a bound
    const ac = new AbortController();
    const onClose = (): void => ac.abort(new NetAbortedError('side-channel negotiation stream closed'));
    stream.addEventListener('close', onClose, { once: true });
    const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(o.idleTimeoutMs || TAKE_OFFER_MS)]);
    const frames = new SocketFrameReader(o.maxFrameBytes, o.from);
    try {
      const socket = await side.connect(o.from, o.hosts, o.offer, { signal, onread: frames.onread });
      releaseControl(stream, o.idleTimeoutMs || CONTROL_CLOSE_MS);
      return socketChannel(socket, frames, { peerId: o.from, idleTimeoutMs: o.idleTimeoutMs, viaOnread: true });
    } catch (err) {
      if (signal.aborted) throw err;
      side.noteFallback(o.from, err);
    } finally {
      stream.removeEventListener('close', onClose);
    }
  }
  await writeTaggedFrame(stream, SideTag.DECLINE, EMPTY);
  return streamChannel(stream, reader);
}
