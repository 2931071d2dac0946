import { type ChannelFrame, parseFrame } from './channel-codec.ts';
import type { FrameChannel } from './frame-channel.ts';

/**
 * Reads RPC channel frames until the channel ends, handing each to `onFrame` synchronously (so
 * reading never waits for a handler). Resolves at a clean end; rejects with ProtocolError on a
 * malformed frame (or whatever `onFrame` threw), or with the transport's error when it breaks.
 */
export async function readChannel(channel: FrameChannel, onFrame: (frame: ChannelFrame) => void): Promise<void> {
  for (;;) {
    const bytes = await channel.next();
    if (bytes === undefined) return;
    onFrame(parseFrame(bytes));
  }
}
