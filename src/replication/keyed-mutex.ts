/**
 * Serialises async sections per key, so a read-check-write on one record (conditional writes, merges)
 * cannot interleave with another on the same record. Keys with no waiter hold no memory.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev ? prev.then(() => mine) : mine;
    this.#tails.set(key, tail);
    if (prev) await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
