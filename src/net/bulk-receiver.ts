import type { Connection, Stream } from '@libp2p/interface';
import { ShoalError } from '../errors/index.ts';
import type { BulkHandleOptions, BulkHandler } from './bulk.ts';
import { type FrameChannel, releaseControl, socketChannel, streamChannel } from './bulk-channel.ts';
import { DEFAULT_ACK_BYTES, DEFAULT_IDLE_MS, DEFAULT_MAX_FRAME, Tag } from './bulk-protocol.ts';
import { candidateHosts, decodeOffer, type OfferWire } from './bulk-tls.ts';
import { type NetCore, peerInfo } from './core.ts';
import { NetAbortedError, ProtocolError } from './errors.ts';
import { encodeVarint, FrameReader, writeTaggedFrame } from './frames.ts';
import { encodeError } from './rpc.ts';
import { SocketFrameReader } from './socket-frames.ts';

const EMPTY = new Uint8Array();

/** A frame already read from the libp2p stream while waiting for the side channel. */
type Held = { frame: Uint8Array | undefined };

/**
 * Serves one inbound bulk stream from `conn`'s peer: takes up a side-channel offer (SIDE) by
 * connecting to it, or answers DECLINE (side channel off, or unreachable from here) and runs the
 * transfer on the stream, as it does when the sender offered nothing.
 */
export async function serveBulk(
  core: NetCore,
  stream: Stream,
  conn: Connection,
  handler: BulkHandler,
  opts: BulkHandleOptions,
): Promise<void> {
  const from = conn.remotePeer.toString();
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const maxFrame = (opts.maxFrameBytes ?? DEFAULT_MAX_FRAME) + 1;
  stream.inactivityTimeout = idleTimeoutMs;
  const reader = new FrameReader(stream, maxFrame);
  let channel: FrameChannel = streamChannel(stream, reader);
  try {
    let held: Held | undefined = { frame: await reader.next() };
    if (held.frame?.[0] === Tag.SIDE) {
      const offer = decodeOffer(held.frame.subarray(1));
      held = undefined;
      const hosts = candidateHosts(conn.remoteAddr.toString(), offer.hosts);
      channel = await takeOffer(core, stream, reader, { from, hosts, offer, maxFrame, idleTimeoutMs });
    }
    await receive(core, channel, held, { from, protocol: stream.protocol }, handler, opts);
  } catch (err) {
    core.logger.debug({ err, protocol: stream.protocol, from, channel: channel.kind }, 'bulk stream failed');
    channel.abort(err instanceof Error ? err : new ProtocolError(String(err)));
  }
}

async function takeOffer(
  core: NetCore,
  stream: Stream,
  reader: FrameReader,
  o: { from: string; hosts: string[]; offer: OfferWire; maxFrame: number; idleTimeoutMs: number },
): Promise<FrameChannel> {
  const side = core.bulkTls;
  if (side !== undefined) {
    // give up when the sender does (it resets the stream on its deadline) or after the idle timeout
    const ac = new AbortController();
    const onClose = (): void => ac.abort(new NetAbortedError('bulk stream closed'));
    stream.addEventListener('close', onClose, { once: true });
    const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(o.idleTimeoutMs)]);
    const frames = new SocketFrameReader(o.maxFrame, o.from);
    try {
      const socket = await side.connect(o.from, o.hosts, o.offer, { signal, onread: frames.onread });
      releaseControl(stream, o.idleTimeoutMs);
      return socketChannel(socket, frames, { peerId: o.from, idleTimeoutMs: o.idleTimeoutMs, viaOnread: true });
    } catch (err) {
      if (signal.aborted) throw err;
      side.noteFallback(o.from, err);
    } finally {
      stream.removeEventListener('close', onClose);
    }
  }
  await writeTaggedFrame(stream, Tag.DECLINE, EMPTY);
  return streamChannel(stream, reader);
}

/**
 * The receiving end of the flow control: payload bytes are acknowledged once the handler has
 * pulled them, every `ackBytes` and whenever no whole frame is buffered (so the window never
 * deadlocks and a slow consumer slows the sender).
 */
async function receive(
  core: NetCore,
  channel: FrameChannel,
  held: Held | undefined,
  peer: { from: string; protocol: string },
  handler: BulkHandler,
  opts: BulkHandleOptions,
): Promise<void> {
  const { from, protocol } = peer;
  const ackBytes = opts.ackBytes ?? DEFAULT_ACK_BYTES;
  const ac = new AbortController();
  channel.onClose(() => ac.abort(new NetAbortedError('bulk stream closed')));
  let unacked = 0;
  let pending = held;
  async function* frames(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (unacked > 0 && (unacked >= ackBytes || !channel.hasBufferedFrame())) {
        await channel.send(Tag.ACK, encodeVarint(unacked), ac.signal);
        unacked = 0;
      }
      let frame: Uint8Array | undefined;
      if (pending === undefined) frame = await channel.next();
      else [frame, pending] = [pending.frame, undefined];
      if (frame === undefined) throw new ProtocolError('bulk stream ended without END');
      if (frame[0] === Tag.END && frame.byteLength === 1) return;
      if (frame[0] !== Tag.DATA) throw new ProtocolError(`unexpected bulk frame tag ${frame[0]}`);
      const payload = frame.subarray(1);
      yield payload;
      unacked += payload.byteLength;
    }
  }
  let tag: number = Tag.DONE;
  let result: Uint8Array;
  try {
    result = (await handler(frames(), peerInfo(core, from), { signal: ac.signal })) ?? EMPTY;
  } catch (err) {
    if (ac.signal.aborted || err instanceof ProtocolError) throw err;
    if (!(err instanceof ShoalError)) core.logger.warn({ err, protocol, from }, 'bulk handler failed');
    tag = Tag.ERROR;
    result = encodeError(err);
  }
  await channel.send(tag, result, ac.signal);
  await channel.close(ac.signal);
}
