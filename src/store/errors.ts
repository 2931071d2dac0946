import { ShoalError } from '../errors/index.ts';

/** The backend failed an operation; nothing was acknowledged. */
export class StoreError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_ERROR', message, options);
    this.name = 'StoreError';
  }
}

/** Another process holds the data directory's lock. */
export class StoreLockedError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_LOCKED', message, options);
    this.name = 'StoreLockedError';
  }
}

/** The data directory (or file) cannot be created or written. */
export class StoreUnwritableError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_UNWRITABLE', message, options);
    this.name = 'StoreUnwritableError';
  }
}

/** A remote backend (PostgreSQL, S3) cannot be reached or refused the credentials. */
export class StoreUnreachableError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_UNREACHABLE', message, options);
    this.name = 'StoreUnreachableError';
  }
}

/** Socket error codes that mean a remote backend cannot be reached (remote plugins map them to STORE_UNREACHABLE). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

export function isNetworkErrorCode(code: string | undefined): boolean {
  return code !== undefined && NETWORK_ERROR_CODES.has(code);
}
