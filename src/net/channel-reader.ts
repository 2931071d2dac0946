import type { Stream } from '@libp2p/interface';
import { CHANNEL_MAX_FRAME_BYTES, type ChannelFrame, parseFrame } from './channel-codec.ts';
import { FrameReader } from './frames.ts';

/**
 * Reads channel frames until the stream ends, handing each to `onFrame` synchronously (so reading
 * never waits for a handler). Resolves at a clean end of stream; rejects with ProtocolError on a
 * malformed frame (or whatever `onFrame` threw), or with the stream's error when it is reset.
 */
export async function readChannel(stream: Stream, onFrame: (frame: ChannelFrame) => void): Promise<void> {
  const reader = new FrameReader(stream, CHANNEL_MAX_FRAME_BYTES);
  try {
    for (;;) {
      const bytes = await reader.next();
      if (bytes === undefined) return;
      onFrame(parseFrame(bytes));
    }
  } finally {
    await reader.release().catch(() => undefined);
  }
}
