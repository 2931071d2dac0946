import { createHash } from 'node:crypto';

/**
 * The Yjs client id of one write: the first 32 bits of SHA-256 of the write's HLC version.
 *
 * Why not one id per daemon: Yjs identifies an operation by (client id, clock), and a writer continues
 * its clock from the state it builds on. A daemon that writes on a state missing one of its own earlier
 * writes (it coordinated that write elsewhere at consistency `one`, or a replica was restored) would
 * reuse (id, clock) pairs for different content, and replicas would diverge for good. A fresh id per
 * write never builds on its own earlier operations, so that cannot happen. Why not random: derived from
 * the version it is deterministic, so a retried write (same version, same base) yields the same bytes.
 * The residual risk is two *concurrent* writes to the same doc hashing to the same 32-bit id (about
 * k²/2³³ for k concurrent writes); sequential writes with the same id are harmless because the later
 * one continues the earlier one's clock. The cost is one state-vector entry per write in the doc state.
 */
export function clientIdFor(version: string): number {
  return createHash('sha256').update(version).digest().readUInt32BE(0);
}
