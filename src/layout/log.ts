import { throwIfAborted } from '../errors/index.ts';
import type { Epoch, EpochLog, Scope } from './index.ts';

/** In-memory {@link EpochLog} for tests and the simulator. Stores deep copies, so callers cannot alter history. */
export class MemoryEpochLog implements EpochLog {
  readonly #scopes = new Map<Scope, Epoch[]>();

  async append(scope: Scope, epoch: Epoch, options: { signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal);
    const list = this.#scopes.get(scope);
    const copy = structuredClone(epoch);
    if (list === undefined) this.#scopes.set(scope, [copy]);
    else list.push(copy);
  }

  async load(scope: Scope, options: { signal?: AbortSignal } = {}): Promise<Epoch[]> {
    throwIfAborted(options.signal);
    return structuredClone(this.#scopes.get(scope) ?? []);
  }

  async truncate(scope: Scope, after: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal);
    const list = this.#scopes.get(scope);
    if (list !== undefined)
      this.#scopes.set(
        scope,
        list.filter((e) => e.number <= after),
      );
  }

  async scopes(options: { signal?: AbortSignal } = {}): Promise<Scope[]> {
    throwIfAborted(options.signal);
    return [...this.#scopes.keys()];
  }
}
