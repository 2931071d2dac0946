import { ShoalError } from '../errors/index.ts';

/** Why an epoch was refused by an {@link EpochChain}. */
export type EpochRejectReason =
  /** Not well-formed: bad field types, wrong scope, or a change not allowed in this scope. */
  | 'malformed'
  /** The signer is not allowed to sign this epoch (not a member, not the coordinator/sequencer). */
  | 'unauthorised'
  /** The signature does not verify against the signer's Ed25519 key (forged or tampered). */
  | 'bad-signature'
  /** The chain already holds this very epoch (or a later head): an old epoch sent again. */
  | 'replay'
  /** A different epoch with the same number, or a parent hash that is not the head's: equivocation or a stale proposer. */
  | 'fork'
  /** The number is beyond head + 1: the caller must fetch the missing epochs first. */
  | 'gap';

/** A layout epoch was refused (code `EPOCH_REJECTED`, HTTP 409); `reason` says why. */
export class EpochRejectedError extends ShoalError {
  readonly reason: EpochRejectReason;
  readonly scope: string;
  readonly number: number;
  constructor(reason: EpochRejectReason, scope: string, number: number, detail: string) {
    super('EPOCH_REJECTED', `epoch ${scope}#${number} rejected (${reason}): ${detail}`);
    this.name = 'EpochRejectedError';
    this.reason = reason;
    this.scope = scope;
    this.number = number;
  }
}
