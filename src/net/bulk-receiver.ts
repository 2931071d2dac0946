import type { Connection, Stream } from '@libp2p/interface';
import { ShoalError } from '../errors/index.ts';
import type { BulkHandleOptions, BulkHandler } from './bulk.ts';
import { DEFAULT_ACK_BYTES, DEFAULT_IDLE_MS, DEFAULT_MAX_FRAME, Tag } from './bulk-protocol.ts';
import { type NetCore, peerInfo } from './core.ts';
import { NetAbortedError, ProtocolError } from './errors.ts';
import type { FrameChannel } from './frame-channel.ts';
import { encodeVarint } from './frames.ts';
import { encodeError } from './rpc.ts';
import { acceptSideChannel } from './side-channel.ts';

const EMPTY = new Uint8Array();

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
  let channel: FrameChannel | undefined;
  try {
    channel = await acceptSideChannel(core, stream, conn, { maxFrameBytes: maxFrame, idleTimeoutMs });
    await receive(core, channel, { from, protocol: stream.protocol }, handler, opts);
  } catch (err) {
    core.logger.debug({ err, protocol: stream.protocol, from, channel: channel?.kind }, 'bulk stream failed');
    const reason = err instanceof Error ? err : new ProtocolError(String(err));
    if (channel === undefined) stream.abort(reason);
    else channel.abort(reason);
  }
}

/**
 * The receiving end of the flow control: payload bytes are acknowledged once the handler has
 * pulled them, every `ackBytes` and whenever no whole frame is buffered (so the window never
 * deadlocks and a slow consumer slows the sender).
 */
async function receive(
  core: NetCore,
  channel: FrameChannel,
  peer: { from: string; protocol: string },
  handler: BulkHandler,
  opts: BulkHandleOptions,
): Promise<void> {
  const { from, protocol } = peer;
  const ackBytes = opts.ackBytes ?? DEFAULT_ACK_BYTES;
  const ac = new AbortController();
  channel.onClose(() => ac.abort(new NetAbortedError('bulk stream closed')));
  let unacked = 0;
  async function* frames(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (unacked > 0 && (unacked >= ackBytes || !channel.hasBufferedFrame())) {
        await channel.send(Tag.ACK, encodeVarint(unacked), ac.signal);
        unacked = 0;
      }
      const frame = await channel.next();
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
