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

  // The common case (engine set) calls straight through, without an extra await per request.
  get: RecordEngine['get'] = (...a) => (this.#engine ? this.#engine.get(...a) : this.#ready().then((e) => e.get(...a)));
  getNow: NonNullable<RecordEngine['getNow']> = (key, consistency) => this.#engine?.getNow?.(key, consistency);
  put: RecordEngine['put'] = (...a) => (this.#engine ? this.#engine.put(...a) : this.#ready().then((e) => e.put(...a)));
  delete: RecordEngine['delete'] = (...a) =>
    this.#engine ? this.#engine.delete(...a) : this.#ready().then((e) => e.delete(...a));
  list: RecordEngine['list'] = (...a) =>
    this.#engine ? this.#engine.list(...a) : this.#ready().then((e) => e.list(...a));
  batch: RecordEngine['batch'] = (...a) =>
    this.#engine ? this.#engine.batch(...a) : this.#ready().then((e) => e.batch(...a));
  inspect: NonNullable<RecordEngine['inspect']> = async (...a) => (await this.#ready()).inspect?.(...a) ?? [];
}
