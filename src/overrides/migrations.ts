/**
 * The record of moves (`GET /admin/migrations`): every move of every wave this daemon coordinated,
 * in flight and recent history, in memory and bounded. The wave log (wave-log.ts) is what survives a
 * crash; this is what operators look at.
 */

/**
 * `add` puts a new replica at a member (more copies than before), `drop` removes one, `replace` swaps
 * holders, `home` returns the record to its ring placement (drops its override).
 */
export type MoveKind = 'add' | 'drop' | 'replace' | 'home';

/** `planned` → `copying` → `committed` → `done`; or `failed` (before commit: nothing changed) / `undone`. */
export type MigrationState = 'planned' | 'copying' | 'committed' | 'done' | 'failed' | 'undone';

/** Who asked for the move: the DSM's planner, an operator's placement, or a rollback. */
export type MigrationOrigin = 'dsm' | 'manual' | 'rollback';

/** One move as the mover executes and records it. */
export interface Migration {
  readonly id: string;
  /** The wave it belongs to (every move of one cycle; a manual placement is a wave of one). */
  readonly wave: string;
  readonly kind: MoveKind;
  readonly key: string;
  readonly partition: number;
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly state: MigrationState;
  readonly reason: string;
  readonly bytes: number;
  readonly gainMs?: number;
  readonly origin: MigrationOrigin;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** The partition epoch that committed it. */
  readonly epoch?: { readonly scope: string; readonly number: number; readonly hash: string };
  /** SHA-256 of the record as the new holders signed for it at the copy step. */
  readonly checksum?: string;
  readonly error?: string;
}

/** The kind of a change of holders from `from` to `to` (`home`: back to the ring). */
export function moveKind(from: readonly string[], to: readonly string[], home: boolean): MoveKind {
  if (home) return 'home';
  const added = to.filter((p) => !from.includes(p)).length;
  const removed = from.filter((p) => !to.includes(p)).length;
  if (added > 0 && removed === 0) return 'add';
  if (removed > 0 && added === 0) return 'drop';
  return 'replace';
}

const END_STATES: ReadonlySet<MigrationState> = new Set(['done', 'failed', 'undone']);

/** In-flight moves by id, and the most recent `historyLimit` ended ones. */
export class MigrationLog {
  readonly #inFlight = new Map<string, Migration>();
  readonly #history: Migration[] = [];
  readonly #limit: number;
  readonly #onEnd: ((m: Migration) => void) | undefined;

  constructor(options: { historyLimit?: number; onEnd?: (m: Migration) => void } = {}) {
    this.#limit = options.historyLimit ?? 1000;
    this.#onEnd = options.onEnd;
  }

  /** Adds or updates a move; an end state moves it to the history. */
  put(m: Migration): void {
    if (!END_STATES.has(m.state)) {
      this.#inFlight.set(m.id, m);
      return;
    }
    this.#inFlight.delete(m.id);
    this.#history.push(m);
    if (this.#history.length > this.#limit) this.#history.splice(0, this.#history.length - this.#limit);
    this.#onEnd?.(m);
  }

  get(id: string): Migration | undefined {
    return this.#inFlight.get(id);
  }

  /** In-flight moves, and the newest `limit` ended ones, newest first. */
  view(limit = 100): { inFlight: Migration[]; history: Migration[] } {
    const n = Math.max(0, Math.min(limit, this.#limit));
    return { inFlight: [...this.#inFlight.values()], history: this.#history.slice(-n).reverse() };
  }

  /** Keys with a move in flight (the planner skips them). */
  inFlightKeys(): Map<string, readonly string[]> {
    return new Map([...this.#inFlight.values()].map((m) => [m.key, m.to]));
  }
}
