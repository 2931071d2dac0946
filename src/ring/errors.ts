import { ShoalError } from '../errors/index.ts';

/** The options given to `createRing` (or `diffRings`) are invalid: bad counts, duplicate ids, bad capacity. */
export class InvalidRingError extends ShoalError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'InvalidRingError';
  }
}
