import { ShoalError } from '../errors/index.ts';

/** A gossiped stats summary is malformed, oversized, of an unknown version or from the wrong sender. */
export class StatsSummaryError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL_ERROR', message, options);
    this.name = 'StatsSummaryError';
  }
}

/** A stats option is out of range or inconsistent (for example a bucket width that does not divide an hour). */
export class StatsConfigError extends ShoalError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'StatsConfigError';
  }
}

/** Persisted stats in the store cannot be decoded (the entry is skipped and logged by `load`). */
export class StatsPersistError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_ERROR', message, options);
    this.name = 'StatsPersistError';
  }
}
