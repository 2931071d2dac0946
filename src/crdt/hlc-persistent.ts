/**
 * A hybrid logical clock that survives restarts.
 *
 * Rule (a persisted ceiling, "high-water mark ahead of time"): the clock keeps a durable ceiling C
 * (an encoded HLC `(C, 0, node)`) such that every timestamp it *acknowledges* has a wall below C.
 * Whenever the clock's wall comes within `windowMs / 2` of the ceiling it saves a new ceiling
 * `wall + windowMs` in the background (one save at a time). On start it loads the last ceiling and
 * resumes at `(C, 0)`, so every timestamp after a crash is greater than every acknowledged one, even
 * if the physical clock went backwards; then it saves `max(C, physical) + windowMs` before answering.
 * The price of a crash is a forward jump of at most `windowMs` (default 1 s).
 *
 * `next()` is the write path: it issues a timestamp and resolves once the durable ceiling covers it
 * (normally at once, because the ceiling runs ahead). The synchronous `now()` of {@link HlcClock} is
 * kept for compatibility; a version from `now()` is covered only after `flush()` resolves.
 */
import { throwIfAborted } from '../errors/index.ts';
import { HlcNotStartedError } from './errors.ts';
import { createHlc, decodeHlc, encodeHlc, type HlcClock, type HlcOptions, ownWall } from './hlc.ts';

/** Where the ceiling lives (the daemon keeps it in its store's `meta` keyspace). */
export interface HlcPersistence {
  /** The last saved value, or undefined on a fresh data directory. */
  load(): Promise<string | undefined>;
  /** Saves durably (fsync) before resolving. */
  save(value: string): Promise<void>;
}

export interface PersistentHlcOptions extends HlcOptions {
  persistence: HlcPersistence;
  /** How far ahead of the wall the saved ceiling runs, in ms (default 1,000): the forward jump after a crash. */
  windowMs?: number;
}

export interface PersistentHlcClock extends HlcClock {
  /** Loads the ceiling, resumes above it and saves a new one. */
  start(options?: { signal?: AbortSignal }): Promise<void>;
  /** Waits for an in-flight save; the clock then refuses to issue. */
  stop(): Promise<void>;
  /** A new timestamp, resolved once the durable ceiling covers it: use this for stored versions. */
  next(options?: { signal?: AbortSignal }): Promise<string>;
  /** Resolves once every timestamp issued so far is below the durable ceiling. */
  flush(options?: { signal?: AbortSignal }): Promise<void>;
  /** The durable ceiling (encoded), undefined before start. */
  ceiling(): string | undefined;
}

export const DEFAULT_HLC_WINDOW_MS = 1_000;

export function createPersistentHlc(options: PersistentHlcOptions): PersistentHlcClock {
  const windowMs = options.windowMs ?? DEFAULT_HLC_WINDOW_MS;
  const physical = options.physical ?? Date.now;
  let clock: HlcClock | undefined;
  let durable = -1; // wall of the durable ceiling
  let target = -1; // wall of the newest requested ceiling
  let inflight: Promise<void> | undefined;
  let lastError: unknown;

  const ceilingString = (wall: number) => encodeHlc({ wall, logical: 0, node: options.node });
  const wallOf = (c: HlcClock) => ownWall(c.last());

  const save = (wall: number): Promise<void> => {
    const p = options.persistence.save(ceilingString(wall)).then(
      () => {
        if (wall > durable) durable = wall;
        lastError = undefined;
      },
      (err: unknown) => {
        lastError = err;
        options.logger?.warn({ err, ceiling: wall }, 'could not persist the HLC ceiling');
      },
    );
    inflight = p.finally(() => {
      inflight = undefined;
      if (target > durable && lastError === undefined) void pump();
    });
    return inflight;
  };
  const pump = (): Promise<void> => inflight ?? save(target);
  const extendIfNeeded = (wall: number) => {
    if (wall + windowMs / 2 >= target) {
      target = wall + windowMs;
      if (!inflight) void save(target);
    }
  };
  const running = (): HlcClock => {
    if (!clock) throw new HlcNotStartedError();
    return clock;
  };

  const flush = async (opts?: { signal?: AbortSignal }) => {
    const c = running();
    const wall = wallOf(c);
    while (wall >= durable) {
      throwIfAborted(opts?.signal);
      if (target <= wall) target = wall + windowMs;
      await pump();
      if (lastError !== undefined && wall >= durable) throw lastError;
    }
  };

  return {
    async start(opts) {
      throwIfAborted(opts?.signal);
      const stored = await options.persistence.load();
      throwIfAborted(opts?.signal);
      const base = stored === undefined ? 0 : decodeHlc(stored).wall;
      const begin = stored === undefined ? options.start : ceilingString(base);
      const c = createHlc({ ...options, start: begin });
      target = Math.max(base, physical(), begin ? decodeHlc(begin).wall : 0) + windowMs;
      await save(target);
      if (lastError !== undefined) throw lastError;
      clock = c;
    },
    async stop() {
      clock = undefined;
      await inflight;
    },
    now() {
      const c = running();
      const t = c.now();
      extendIfNeeded(ownWall(t));
      return t;
    },
    observe(remote) {
      const c = running();
      c.observe(remote);
      extendIfNeeded(wallOf(c));
    },
    last() {
      return running().last();
    },
    async next(opts) {
      const c = running();
      const t = c.now();
      const wall = ownWall(t);
      extendIfNeeded(wall);
      if (wall >= durable) await flush(opts);
      return t;
    },
    flush,
    ceiling() {
      return durable < 0 ? undefined : ceilingString(durable);
    },
  };
}
