import { ShoalError } from '../errors/index.ts';

/**
 * A remote HLC timestamp is further ahead of this daemon's physical clock than `maxDriftMs`. The
 * timestamp is refused (not merged into the clock) so one daemon with a bad clock cannot drag the
 * whole cluster into the future; the write or message that carried it must be rejected.
 */
export class HlcDriftError extends ShoalError {
  readonly remote: string;
  readonly driftMs: number;
  constructor(remote: string, driftMs: number, maxDriftMs: number) {
    super(
      'PROTOCOL_ERROR',
      `refused HLC timestamp ${remote}: it is ${driftMs} ms ahead of the local clock (limit ${maxDriftMs} ms); ` +
        'check NTP on the sending daemon',
    );
    this.name = 'HlcDriftError';
    this.remote = remote;
    this.driftMs = driftMs;
  }
}

/** A string is not an encoded HLC timestamp (a version from a peer, a file or a client). */
export class InvalidHlcError extends ShoalError {
  constructor(value: string) {
    super('INVALID_HEADER', `not an HLC version: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'InvalidHlcError';
  }
}

/** A JSON body for a doc record is not a JSON object (PUT), or a merge patch is not an object (PATCH). */
export class InvalidDocJsonError extends ShoalError {
  constructor(message: string) {
    super('INVALID_BODY', message);
    this.name = 'InvalidDocJsonError';
  }
}

/** A raw Yjs update (`application/vnd.shoal.yjs-update`) does not decode. */
export class InvalidDocUpdateError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('INVALID_BODY', message, options);
    this.name = 'InvalidDocUpdateError';
  }
}

/**
 * A raw Yjs update builds on operations this replica has not seen (it would stay pending, invisible).
 * The client should send its full state (`Y.encodeStateAsUpdate`) or retry on a fresher replica.
 */
export class DocUpdateMissingDependenciesError extends ShoalError {
  constructor() {
    super(
      'CONFLICT',
      'the Yjs update depends on operations this replica has not seen; send the full document state instead',
    );
    this.name = 'DocUpdateMissingDependenciesError';
  }
}

/** A doc operation (JSON merge patch, Yjs update) was sent for a record that holds a blob. */
export class DocTypeConflictError extends ShoalError {
  constructor(message = 'the record is a blob; PATCH and Yjs updates need a doc record (PUT a JSON doc first)') {
    super('CONFLICT', message);
    this.name = 'DocTypeConflictError';
  }
}

/** A stored or received doc record's value is not a valid shoal doc envelope (see `decodeDocValue`). */
export class CorruptDocValueError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL_ERROR', `corrupt doc record value: ${message}`, options);
    this.name = 'CorruptDocValueError';
  }
}

/** The persistent clock was used before `start()` resolved or after `stop()`. */
export class HlcNotStartedError extends ShoalError {
  constructor() {
    super('NOT_READY', 'the hybrid logical clock is not started');
    this.name = 'HlcNotStartedError';
  }
}
