import { SideTag } from './side-channel.ts';

/**
 * Bulk stream wire tags. Every frame is length-prefixed (see frames.ts) and starts with one of these.
 *
 * sender → receiver: `DATA + payload`, `END`, and first, to offer the side channel, `SIDE + offer`
 * (see bulk-tls.ts); receiver → sender: `ACK + varint bytes`, `DONE + result`,
 * `ERROR + json {code,message}`, and `DECLINE` when it will not (or cannot) use the offer.
 */
export const Tag = {
  DATA: 0,
  END: 1,
  ACK: 2,
  DONE: 3,
  ERROR: 4,
  SIDE: SideTag.SIDE,
  DECLINE: SideTag.DECLINE,
} as const;

export const DEFAULT_WINDOW_BYTES = 512 * 1024;
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024 + 64 * 1024;
export const DEFAULT_IDLE_MS = 30_000;
export const DEFAULT_ACK_BYTES = 64 * 1024;
