import { ShoalError } from '../errors/index.ts';

/** A peer could not be dialled, refused the protocol, or dropped the connection before answering. */
export class PeerUnreachableError extends ShoalError {
  readonly peerId: string;
  constructor(peerId: string, message: string, options?: ErrorOptions) {
    super('REPLICAS_UNAVAILABLE', message, options);
    this.name = 'PeerUnreachableError';
    this.peerId = peerId;
  }
}

/** A remote call did not finish within its timeout. */
export class NetTimeoutError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIMEOUT', message, options);
    this.name = 'NetTimeoutError';
  }
}

/** The caller's AbortSignal fired before the remote call finished. */
export class NetAbortedError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('ABORTED', message, options);
    this.name = 'NetAbortedError';
  }
}

/** A peer sent a malformed, truncated or oversized frame, or an unknown frame type. */
export class ProtocolError extends ShoalError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROTOCOL_ERROR', message, options);
    this.name = 'ProtocolError';
  }
}

/** A message is larger than the configured limit (gossip message, RPC frame on the sending side). */
export class MessageTooLargeError extends ShoalError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message);
    this.name = 'MessageTooLargeError';
  }
}

/** The Net is not started (or already stopped / leaving). */
export class NetNotRunningError extends ShoalError {
  constructor(message = 'net is not running') {
    super('NOT_READY', message);
    this.name = 'NetNotRunningError';
  }
}

/** Too many gossip messages are already queued behind the rate limiter. */
export class GossipQueueFullError extends ShoalError {
  constructor(topic: string, limit: number) {
    super('NOT_READY', `gossip queue for ${topic} is full (${limit} messages waiting)`);
    this.name = 'GossipQueueFullError';
  }
}

/**
 * The remote handler failed. `code` is the remote ShoalError code when the peer sent a known one
 * (for example NOT_FOUND), otherwise INTERNAL; the remote message is kept.
 */
export class RemoteError extends ShoalError {
  readonly peerId: string;
  constructor(peerId: string, code: ShoalError['code'], message: string) {
    super(code, message);
    this.name = 'RemoteError';
    this.peerId = peerId;
  }
}

/** Fault injection was used without `options.faults.enabled`. */
export class FaultsDisabledError extends ShoalError {
  constructor() {
    super('CONFIG_INVALID', 'fault injection is disabled (set options.faults.enabled)');
    this.name = 'FaultsDisabledError';
  }
}

/** No member has this peer id. */
export class MemberNotFoundError extends ShoalError {
  constructor(peerId: string, detail = '') {
    super('MEMBER_NOT_FOUND', `no cluster member ${peerId}${detail}`);
    this.name = 'MemberNotFoundError';
  }
}

/** The peer was removed from the cluster (`shoal remove`): its records are refused for good. */
export class MemberRemovedError extends ShoalError {
  constructor(peerId: string) {
    super('MEMBER_REMOVED', `peer ${peerId} was removed from the cluster; it rejoins only with a fresh data directory`);
    this.name = 'MemberRemovedError';
  }
}
