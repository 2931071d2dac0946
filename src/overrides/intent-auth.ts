import type { Layout } from '../layout/index.ts';

/**
 * Who may announce (or cancel) a move of a key: only the coordinator of its partition on the signed
 * layout (`Layout.coordinatorOf`), the one daemon that signs the partition's epochs. A move
 * announcement makes every daemon route the key to its old and new holders together; from any other
 * member it would let that member steer a key it does not own (the sender is authenticated by the
 * channel: the noise-authenticated libp2p peer the TLS side channel is bound to). A receiver whose
 * layout lags may refuse a genuine announcement: the move then fails cleanly and is planned again.
 *
 * Returns the first key `from` does not coordinate, or undefined when it coordinates all of them.
 */
export function keyNotCoordinatedBy(layout: Layout, from: string, keys: Iterable<string>): string | undefined {
  const ring = layout.ring();
  for (const key of keys) if (layout.coordinatorOf(ring.partitionOf(key)) !== from) return key;
  return undefined;
}
