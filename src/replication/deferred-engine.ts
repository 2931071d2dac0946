import { ShoalError } from '../errors/index.ts';
import type { RecordEngine } from './engine.ts';

/**
 * A RecordEngine whose implementation arrives later: the HTTP API listens (so the daemon knows the
 * URL it announces) before libp2p and replication are up. Requests that arrive meanwhile wait for
 * the engine, at most `waitMs`, then get 503 NOT_READY; after `close()` they get NOT_READY at once.
 */
export class DeferredEngine implements RecordEngine {
  #engine: RecordEngine | undefined;
  #closed = false;
  readonly #waitMs: number;
  #waiters: Array<() => void> = [];

  constructor(options: { waitMs?: number } = {}) {
    this.#waitMs = options.waitMs ?? 10_000;
  }

  set(engine: RecordEngine): void {
    this.#engine = engine;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The daemon is stopping: refuse new requests. */
  close(): void {
    this.#closed = true;
    this.#engine = undefined;
    for (const w of this.#waiters.splice(0)) w();
  }

  async #ready(): Promise<RecordEngine> {
    if (!this.#engine && !this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#waitMs);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (!this.#engine) throw new ShoalError('NOT_READY', 'the daemon is starting or stopping');
    return this.#engine;
  }

  get: RecordEngine['get'] = async (...a) => (await this.#ready()).get(...a);
  put: RecordEngine['put'] = async (...a) => (await this.#ready()).put(...a);
  delete: RecordEngine['delete'] = async (...a) => (await this.#ready()).delete(...a);
  list: RecordEngine['list'] = async (...a) => (await this.#ready()).list(...a);
  batch: RecordEngine['batch'] = async (...a) => (await this.#ready()).batch(...a);
  inspect: NonNullable<RecordEngine['inspect']> = async (...a) => (await this.#ready()).inspect?.(...a) ?? [];
}
