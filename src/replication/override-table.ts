import type { Scope } from '../layout/index.ts';
import type { ReplicaChange } from '../ring/index.ts';

/** One override as this daemon holds it: the holders and the partition epoch that set them. */
export interface OverrideEntry {
  readonly key: string;
  readonly replicas: readonly string[];
  readonly scope: Scope;
  readonly number: number;
  readonly hash: string;
}

/**
 * A move announced by a partition coordinator and not yet committed (or abandoned) here: the key's
 * holders change `from` → `to` (its holders meanwhile are `union(intent)`, see `resolvePlacement`).
 */
export interface MoveIntent extends ReplicaChange {
  readonly key: string;
  /** Wall-clock ms after which the intent is ignored (the mover died or gave up). */
  readonly expiresAt: number;
}

/**
 * The overrides of every partition chain this daemon holds, flattened for an O(1) lookup on the
 * request path, plus the moves announced to it. Mutated only by the override synchroniser (after an
 * epoch is appended) and by announcements; `version` changes with every mutation so readers can cache
 * what they derive from it.
 */
export class OverrideTable {
  readonly #byPartition = new Map<number, Map<string, OverrideEntry>>();
  readonly #flat = new Map<string, OverrideEntry>();
  readonly #moving = new Map<string, MoveIntent>();
  #nextSweep = 0;
  #version = 0;

  /** Bumped by every change. */
  get version(): number {
    return this.#version;
  }

  /** True when there is anything to look up (the request path skips the maps otherwise). */
  get active(): boolean {
    return this.#flat.size > 0 || this.#moving.size > 0;
  }

  get size(): number {
    return this.#flat.size;
  }

  get(key: string): OverrideEntry | undefined {
    return this.#flat.get(key);
  }

  entries(): IterableIterator<OverrideEntry> {
    return this.#flat.values();
  }

  /** Replaces every override of `partition` (after its chain changed). */
  setPartition(partition: number, entries: Iterable<OverrideEntry>): void {
    for (const key of this.#byPartition.get(partition)?.keys() ?? []) this.#flat.delete(key);
    const next = new Map<string, OverrideEntry>();
    for (const e of entries) {
      next.set(e.key, e);
      this.#flat.set(e.key, e);
    }
    if (next.size === 0) this.#byPartition.delete(partition);
    else this.#byPartition.set(partition, next);
    this.#version++;
  }

  /** Forgets everything (the layout was reloaded). */
  clear(): void {
    this.#byPartition.clear();
    this.#flat.clear();
    this.#version++;
  }

  announce(intent: MoveIntent, now = Date.now()): void {
    this.announceMany([intent], now);
  }

  /**
   * Records moves announced by a coordinator (a wave announces all of its moves at once). Expired
   * intents, whose cancel or epoch never arrived, are swept here at most once per second: without the
   * sweep they would stay until their key is read again (and keep every request on the override path),
   * and sweeping on every announcement would cost O(intents) each time.
   */
  announceMany(intents: Iterable<MoveIntent>, now = Date.now()): void {
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 1000;
      for (const [key, m] of this.#moving) if (m.expiresAt <= now) this.#moving.delete(key);
    }
    for (const intent of intents) this.#moving.set(intent.key, intent);
    this.#version++;
  }

  /** Drops the intent of `key` (its epoch arrived, or the mover cancelled). */
  settle(key: string): void {
    if (this.#moving.delete(key)) this.#version++;
  }

  /**
   * Drops the intent of `key` if it moves the key to `holders`: an epoch that placed it there arrived.
   * An epoch placing it elsewhere is an earlier move arriving late, and must not cancel this one.
   */
  settleIfMovingTo(key: string, holders: readonly string[]): void {
    const m = this.#moving.get(key);
    if (m !== undefined && m.to.length === holders.length && m.to.every((p) => holders.includes(p))) this.settle(key);
  }

  /** The live intent of `key`, if any (an expired one is dropped here). */
  intentOf(key: string, now = Date.now()): MoveIntent | undefined {
    const m = this.#moving.get(key);
    if (m === undefined) return undefined;
    if (m.expiresAt > now) return m;
    this.settle(key);
    return undefined;
  }

  /** Keys with an announced move. */
  movingKeys(): string[] {
    return [...this.#moving.keys()];
  }
}
