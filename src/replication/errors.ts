import { ShoalError } from '../errors/index.ts';

/** `If-Match` / `If-None-Match` did not hold. */
export class PreconditionFailedError extends ShoalError {
  constructor(message: string) {
    super('PRECONDITION_FAILED', message);
    this.name = 'PreconditionFailedError';
  }
}

/** Too few replicas answered for the requested consistency. */
export class QuorumNotReachedError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('QUORUM_NOT_REACHED', message, options);
    this.name = 'QuorumNotReachedError';
  }
}

/** Every replica of the key is down. */
export class ReplicasUnavailableError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('REPLICAS_UNAVAILABLE', message, options);
    this.name = 'ReplicasUnavailableError';
  }
}
