import type { MemberInfo } from './member-codec.ts';

/** A daemon's storage as its record announces it; see {@link MemberInfo.usedBytes} and {@link MemberInfo.limitBytes}. */
export interface MemberStorage {
  usedBytes?: number;
  limitBytes?: number;
}

/** A used size that moved less than this many bytes, and less than {@link USED_BYTES_STEP_RATIO} of itself, is not re-announced. */
export const USED_BYTES_STEP = 1024 * 1024;
export const USED_BYTES_STEP_RATIO = 0.01;

/**
 * Whether `next` differs from `prev` enough for a new record version: the limit changed, the used size
 * appeared or disappeared, crossed the limit, or moved by more than 1 MiB and 1 % (so a busy daemon
 * re-announces every few seconds at most, not on every write).
 */
export function storageChanged(prev: MemberStorage, next: MemberStorage): boolean {
  if (prev.limitBytes !== next.limitBytes) return true;
  const a = prev.usedBytes;
  const b = next.usedBytes;
  if (a === undefined || b === undefined) return a !== b;
  const limit = next.limitBytes;
  if (limit !== undefined && a >= limit !== b >= limit) return true;
  const delta = Math.abs(b - a);
  return delta > USED_BYTES_STEP && delta > a * USED_BYTES_STEP_RATIO;
}
