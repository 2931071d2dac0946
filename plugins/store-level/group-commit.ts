/**
 * Group commit: writes that arrive while a write is in flight are gathered into the next single
 * LevelDB batch, so N concurrent puts cost one write (and, with durability fsync, one fsync) instead
 * of N. Every caller is acknowledged only after the batch holding its operations is written; batches
 * are written one at a time, in arrival order, so the last write to a key wins.
 */
export type RawOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  readonly #write: (ops: RawOp[]) => Promise<void>;
  #ops: RawOp[] = [];
  #waiters: Waiter[] = [];
  #inFlight = false;

  constructor(write: (ops: RawOp[]) => Promise<void>) {
    this.#write = write;
  }

  submit(ops: RawOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      for (const op of ops) this.#ops.push(op);
      this.#waiters.push({ resolve, reject });
      if (!this.#inFlight) this.#flush();
    });
  }

  #flush(): void {
    const ops = this.#ops;
    const waiters = this.#waiters;
    this.#ops = [];
    this.#waiters = [];
    this.#inFlight = true;
    this.#write(ops).then(
      () => {
        for (const w of waiters) w.resolve();
        this.#next();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
        this.#next();
      },
    );
  }

  #next(): void {
    this.#inFlight = false;
    if (this.#waiters.length > 0) this.#flush();
  }
}
