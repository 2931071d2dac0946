import { ShoalError } from '../errors/index.ts';

/** Largest key, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** The key is empty, too long, not UTF-8 or contains NUL. */
export class InvalidKeyError extends ShoalError {
  constructor(message: string) {
    super('INVALID_KEY', message);
    this.name = 'InvalidKeyError';
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a decoded record key. Any other UTF-8 text is a valid key, `/`, `..`, spaces and `%`
 * included: keys are data, never file paths.
 */
export function validateKey(key: string, maxBytes: number = MAX_KEY_BYTES): string {
  if (key.length === 0) throw new InvalidKeyError('key is empty');
  if (key.includes('\u0000')) throw new InvalidKeyError('key contains a NUL character');
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError('key is not valid UTF-8');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > maxBytes) throw new InvalidKeyError(`key is ${bytes} bytes of UTF-8; the limit is ${maxBytes}`);
  return key;
}
