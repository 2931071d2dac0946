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

/** A requested record placement names an unknown or leaving member, a member twice, none, or too many. */
export class InvalidPlacementError extends ShoalError {
  constructor(message: string) {
    super('INVALID_PLACEMENT', message);
    this.name = 'InvalidPlacementError';
  }
}

/** A requested record placement has fewer holders than R and was not forced. */
export class PlacementUnderReplicatedError extends ShoalError {
  constructor(message: string) {
    super('PLACEMENT_UNDER_REPLICATED', message);
    this.name = 'PlacementUnderReplicatedError';
  }
}

/** A move could not copy the record to every new holder, or its coordinator was unreachable; nothing changed. */
export class MoveFailedError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('MOVE_FAILED', message, options);
    this.name = 'MoveFailedError';
  }
}

/** The layout is changing under a request (for example the partition coordinator just changed): retry. */
export class LayoutChangingError extends ShoalError {
  constructor(message: string) {
    super('NOT_READY', message);
    this.name = 'LayoutChangingError';
  }
}

/** A rollback names a wave of which no daemon holds an epoch. */
export class RollbackTargetMissingError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('ROLLBACK_TARGET_MISSING', message, options);
    this.name = 'RollbackTargetMissingError';
  }
}
