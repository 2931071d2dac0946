import type { Logger } from 'pino';
import type { MemberStorage, Net } from '../src/net/index.ts';
import type { Store } from '../src/store/index.ts';

/** How often the daemon measures its store's size for its membership record. */
export const STORAGE_REFRESH_MS = 10_000;

/** Deadline of one measurement: a slow backend skips a refresh rather than piling measurements up. */
const MEASURE_TIMEOUT_MS = 5_000;

export interface StorageReporterOptions {
  /** `--storage-limit-mb` in bytes; 0 = no limit (not announced). */
  limitBytes: number;
  /** Pause between measurements. Default {@link STORAGE_REFRESH_MS}. */
  refreshMs?: number;
}

/**
 * Announces this daemon's storage in its membership record: `usedBytes` from the store's
 * `approximateBytes` (omitted when the backend has none), `limitBytes` from the flag. The record is
 * re-versioned only on a noticeable change (see `Net.setStorage`), so most refreshes send nothing.
 */
export class StorageReporter {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #limitBytes: number | undefined;
  readonly #refreshMs: number;
  #net: Net | undefined;
  #timer: NodeJS.Timeout | undefined;
  #measuring = false;
  #last: number | undefined;

  constructor(components: { store: Store; logger: Logger }, options: StorageReporterOptions) {
    this.#store = components.store;
    this.#logger = components.logger;
    this.#limitBytes = options.limitBytes > 0 ? options.limitBytes : undefined;
    this.#refreshMs = options.refreshMs ?? STORAGE_REFRESH_MS;
  }

  /** Measures once; the result is what the net's first record announces (`NetOptions.storage`). */
  async measure(): Promise<MemberStorage> {
    const approximate = this.#store.approximateBytes;
    if (approximate !== undefined) {
      try {
        const bytes = await approximate.call(this.#store, { signal: AbortSignal.timeout(MEASURE_TIMEOUT_MS) });
        // A backend estimate may be fractional or briefly negative; the record carries whole bytes.
        this.#last = Math.max(0, Math.round(bytes));
      } catch (err) {
        // keep the last size: a failed measurement says nothing about how much the store holds
        this.#logger.warn({ err }, 'cannot measure the store size');
      }
    }
    return this.storage();
  }

  /** The storage fields as last measured. */
  storage(): MemberStorage {
    const s: MemberStorage = {};
    if (this.#last !== undefined) s.usedBytes = this.#last;
    if (this.#limitBytes !== undefined) s.limitBytes = this.#limitBytes;
    return s;
  }

  /** Refreshes the net's record every `refreshMs` until stop(). */
  start(net: Net): void {
    this.#net = net;
    if (this.#store.approximateBytes === undefined || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#refresh(), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#net = undefined;
  }

  async #refresh(): Promise<void> {
    if (this.#measuring) return;
    this.#measuring = true;
    try {
      const storage = await this.measure();
      if (this.#net?.setStorage(storage)) this.#logger.debug(storage, 'announced the store size');
    } catch (err) {
      this.#logger.warn({ err }, 'cannot announce the store size');
    } finally {
      this.#measuring = false;
    }
  }
}
