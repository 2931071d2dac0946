/**
 * Hybrid logical clock (Kulkarni et al.): physical milliseconds plus a logical counter, so versions
 * are totally ordered, monotonic per daemon, and never behind a version the daemon has seen.
 * Encoded as `<wall 12 hex>.<logical 4 hex>.<node id>`: the string order is the clock order, ties
 * broken by node id.
 *
 * Drift rule: {@link HlcClock.observe} refuses (throws {@link HlcDriftError}, and logs a warning when a
 * logger is given) a remote timestamp whose wall is more than `maxDriftMs` (default 60 s) ahead of the
 * local physical clock. The refused timestamp does not move the clock, so a daemon with a clock set
 * into the future cannot drag every other clock (and every later version) with it; the caller rejects
 * the message that carried it. Remote timestamps behind the local clock are always accepted.
 * Persistence across restarts is in `./hlc-persistent.ts`.
 */
import { HlcDriftError, InvalidHlcError } from './errors.ts';

export interface HlcTimestamp {
  wall: number;
  logical: number;
  node: string;
}

const HLC_PATTERN = /^[0-9a-f]{12}\.[0-9a-f]{4}\..+$/;

export function encodeHlc(t: HlcTimestamp): string {
  return `${t.wall.toString(16).padStart(12, '0')}.${t.logical.toString(16).padStart(4, '0')}.${t.node}`;
}

/** Decodes an encoded version; throws {@link InvalidHlcError} when it is not one. */
export function decodeHlc(s: string): HlcTimestamp {
  if (!HLC_PATTERN.test(s)) throw new InvalidHlcError(s);
  return {
    wall: Number.parseInt(s.slice(0, 12), 16),
    logical: Number.parseInt(s.slice(13, 17), 16),
    node: s.slice(18),
  };
}

/** The wall of a timestamp a clock here issued (known to be well formed: no validation). */
export function ownWall(s: string): number {
  return Number.parseInt(s.slice(0, 12), 16);
}

/** True when `s` is an encoded HLC version. */
export function isHlc(s: string): boolean {
  return HLC_PATTERN.test(s);
}

/** Compares two encoded versions: negative, zero or positive. */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The greater of two encoded versions. */
export function maxHlc(a: string, b: string): string {
  return a >= b ? a : b;
}

export interface HlcClock {
  /** A new timestamp for a local event, greater than every one issued or observed before. */
  now(): string;
  /**
   * Merges a remote timestamp so later local ones are greater. Throws {@link HlcDriftError} (and does
   * not move the clock) when the remote wall is more than `maxDriftMs` ahead of the physical clock.
   */
  observe(remote: string): void;
  /** The greatest timestamp issued or observed so far. */
  last(): string;
}

/** The part of a pino logger the clock uses. */
export interface HlcLogger {
  warn(obj: object, msg: string): void;
}

export interface HlcOptions {
  node: string;
  /** Physical clock in ms (injectable for tests). */
  physical?: () => number;
  /** Starting point, e.g. the last value persisted before a restart. */
  start?: string;
  /** Largest accepted lead of a remote timestamp over the local physical clock, in ms (default 60,000). */
  maxDriftMs?: number;
  /** Receives a warning for every refused remote timestamp. */
  logger?: HlcLogger;
}

export const DEFAULT_MAX_DRIFT_MS = 60_000;
const MAX_LOGICAL = 0xffff;

export function createHlc(options: HlcOptions): HlcClock {
  const physical = options.physical ?? Date.now;
  const maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
  let wall = 0;
  let logical = 0;
  if (options.start) {
    const s = decodeHlc(options.start);
    wall = s.wall;
    logical = s.logical;
  }
  const tick = (pt: number, remoteWall: number, remoteLogical: number) => {
    const maxWall = Math.max(wall, remoteWall, pt);
    if (maxWall === wall && maxWall === remoteWall) logical = Math.max(logical, remoteLogical) + 1;
    else if (maxWall === wall) logical += 1;
    else if (maxWall === remoteWall) logical = remoteLogical + 1;
    else logical = 0;
    wall = maxWall;
    // The counter is 16 bits wide: borrow the next millisecond rather than overflow.
    if (logical > MAX_LOGICAL) {
      wall += 1;
      logical = 0;
    }
  };
  return {
    now() {
      tick(physical(), 0, 0);
      return encodeHlc({ wall, logical, node: options.node });
    },
    observe(remote: string) {
      const r = decodeHlc(remote);
      const pt = physical();
      const drift = r.wall - pt;
      if (drift > maxDriftMs) {
        options.logger?.warn({ remote, driftMs: drift, maxDriftMs }, 'refused a remote HLC timestamp from the future');
        throw new HlcDriftError(remote, drift, maxDriftMs);
      }
      tick(pt, r.wall, r.logical);
    },
    last() {
      return encodeHlc({ wall, logical, node: options.node });
    },
  };
}
