/**
 * Tombstone garbage collection.
 *
 * Rule: a tombstone may be removed only when (1) every replica of the key (the current placement, plus
 * any override source still in its grace period) has acknowledged holding this tombstone or a record
 * that supersedes it, and (2) its age, measured from the later of its HLC wall time and its
 * `updatedAt`, is at least `graceMs`. `graceMs` must exceed everything that can still carry an older
 * write of the key: the hinted-handoff lifetime, one full anti-entropy cycle, the longest migration
 * grace, plus the clock drift bound ({@link recommendedTombstoneGraceMs} adds them and doubles the sum).
 *
 * Why nothing resurrects: an older live copy can only come back through a replica, a hint, a repair or
 * a migration. (1) rules out the replicas; (2) outlasts every hint and every anti-entropy or migration
 * copy made before the delete. A daemon that was unreachable for longer than `graceMs` must be wiped
 * before it rejoins (it is refused otherwise), like Cassandra's gc_grace_seconds. Once collected, a new
 * write to the key starts from nothing (a doc gets the genesis horizon '').
 */
import type { RecordMeta } from '../store/index.ts';
import { decodeHlc } from './hlc.ts';

export interface TombstoneGcContext {
  /** Wall-clock ms now. */
  now: number;
  /** Minimum age of a collectable tombstone, ms. */
  graceMs: number;
  /** Every replica of the key holds this tombstone (or a newer record). */
  allReplicasAcked: boolean;
}

export function tombstoneCollectable(meta: RecordMeta, ctx: TombstoneGcContext): boolean {
  if (meta.tombstone !== true || !ctx.allReplicasAcked) return false;
  if (!(ctx.graceMs > 0)) return false;
  const deletedAt = Math.max(decodeHlc(meta.version).wall, meta.updatedAt);
  return ctx.now - deletedAt >= ctx.graceMs;
}

export interface GraceInputs {
  /** Longest a hinted-handoff hint is kept before it is dropped, ms. */
  hintTtlMs: number;
  /** Time for anti-entropy to visit every partition once, ms. */
  antiEntropyCycleMs: number;
  /** Longest time a migration keeps the old copy, ms (0 without migrations). */
  migrationGraceMs?: number;
  /** HLC drift bound, ms (default 60,000). */
  maxDriftMs?: number;
}

/** A safe `graceMs`: twice the sum of everything that can still carry an older write. */
export function recommendedTombstoneGraceMs(inputs: GraceInputs): number {
  const sum =
    inputs.hintTtlMs + inputs.antiEntropyCycleMs + (inputs.migrationGraceMs ?? 0) + (inputs.maxDriftMs ?? 60_000);
  return 2 * sum;
}
