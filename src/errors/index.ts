/**
 * The one error catalogue of shoal. Every failure a client or operator can see has a stable `code`,
 * an HTTP status and a description; the README's error table is generated from {@link ERROR_CATALOGUE}
 * (`node node/cli.ts errors --markdown`). Modules define one small error class per failure kind by
 * extending {@link ShoalError} with a code from this table.
 */
export const ERROR_CATALOGUE = {
  INVALID_KEY: {
    status: 400,
    description: 'Key is empty, longer than 1024 bytes of UTF-8, not valid UTF-8, or contains NUL.',
  },
  INVALID_BODY: {
    status: 400,
    description: 'Request body is malformed (for example batch JSON that does not parse or match the schema).',
  },
  INVALID_QUERY: { status: 400, description: 'Unknown or malformed query parameter.' },
  INVALID_HEADER: { status: 400, description: 'A header has a malformed value.' },
  INVALID_CONSISTENCY: { status: 400, description: 'Unknown consistency level.' },
  UNAUTHORIZED: {
    status: 401,
    description: 'Admin route (or, with `--data-auth on`, data route) needs `Authorization: Bearer <token>`.',
  },
  FORBIDDEN: { status: 403, description: 'Admin API without a token configured answers only on loopback.' },
  NOT_FOUND: { status: 404, description: 'No record with this key (or it was deleted).' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The route exists but not for this HTTP method.' },
  PRECONDITION_FAILED: { status: 412, description: '`If-Match` / `If-None-Match` did not match the current version.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'Value larger than the configured limit (default 16 MiB).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'Content type not accepted by this route.' },
  TOO_MANY_OPS: { status: 413, description: 'Batch has more operations than the configured limit.' },
  RATE_LIMITED: {
    status: 429,
    description:
      'This client sent more requests per second than `--rate-limit-admin` / `--rate-limit-data` allow; retry after `retry-after` seconds.',
  },
  TRACE_FORMAT: {
    status: 400,
    description: 'A trace file row (or its header) is malformed; the message names the line.',
  },
  CONFLICT: {
    status: 409,
    description: 'The operation conflicts with the current state (for example a doc patch on a blob).',
  },
  QUORUM_NOT_REACHED: {
    status: 503,
    description:
      'Too few replicas answered in time for the requested consistency; a write may have been stored on some and may still appear (indeterminate).',
  },
  REPLICAS_UNAVAILABLE: {
    status: 503,
    description:
      "Too few of the key's replicas (or the peer asked) are reachable to try the request; a write was not attempted and stored nowhere.",
  },
  NOT_READY: { status: 503, description: 'The daemon is starting or stopping.' },
  TIMEOUT: { status: 504, description: 'A remote call did not finish within its timeout.' },
  STORE_ERROR: { status: 500, description: 'The local store failed; nothing was acknowledged.' },
  STORE_LOCKED: { status: 500, description: 'The data directory is locked by another daemon (start-up).' },
  STORE_UNWRITABLE: { status: 500, description: 'The data directory cannot be written (start-up).' },
  ADDRESS_IN_USE: {
    status: 500,
    description:
      'An address the daemon listens on (HTTP, admin or libp2p: host and port) is already in use by another process (start-up).',
  },
  STORE_UNREACHABLE: {
    status: 503,
    description: 'A remote store backend (PostgreSQL, S3) cannot be reached or refused credentials.',
  },
  CONFIG_INVALID: { status: 500, description: 'Configuration value is invalid (start-up).' },
  PROTOCOL_ERROR: { status: 502, description: 'A peer sent a malformed or oversized protocol frame.' },
  MODEL_INVALID: { status: 422, description: 'An ONNX model does not honour the PAE input/output contract.' },
  EPOCH_REJECTED: {
    status: 409,
    description: 'A layout epoch is unsigned, forged, replayed or does not extend the chain.',
  },
  INVALID_PLACEMENT: {
    status: 400,
    description:
      'A record placement names an unknown or leaving member, names one twice, or lists none or more than the cluster has.',
  },
  PLACEMENT_UNDER_REPLICATED: {
    status: 409,
    description: 'A record placement has fewer holders than the replication factor R; resend with `force: true`.',
  },
  MEMBER_NOT_FOUND: {
    status: 404,
    description:
      'No cluster member has this peer id (or unique prefix or suffix of one); the message lists the members.',
  },
  NOT_QUARANTINED: {
    status: 404,
    description: 'The peer id named is not quarantined here (`DELETE /admin/layout/quarantine/:peerId`).',
  },
  REVOCATION_REFUSED: {
    status: 403,
    description:
      'A revocation order that does not verify under the cluster admin key (`--admin-pub`), or none is configured.',
  },
  MEMBER_AMBIGUOUS: {
    status: 400,
    description: 'A short peer id matches more than one member; the message names the candidates.',
  },
  MEMBER_UP: {
    status: 409,
    description:
      'Removing a member that is up (or suspect) needs `force: true` (`shoal remove --force`): a live daemon should `shoal leave` instead.',
  },
  REMOVE_SELF: {
    status: 409,
    description: 'A daemon cannot remove itself from the cluster: ask another member, or use `shoal leave`.',
  },
  MEMBER_REMOVED: {
    status: 409,
    description:
      'The peer was removed from the cluster (`shoal remove`); it rejoins only with a fresh data directory (a new peer id).',
  },
  MOVE_FAILED: {
    status: 503,
    description:
      'A record could not be copied to every new holder (or its partition coordinator is unreachable); placement unchanged.',
  },
  ROLLBACK_TARGET_MISSING: {
    status: 409,
    description: 'A rollback names a wave of which no daemon holds an epoch (unknown, or its history was pruned).',
  },
  ABORTED: { status: 499, description: 'The operation was aborted by its caller.' },
  INTERNAL: { status: 500, description: 'Unexpected internal error (a bug): logged with details.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base class of every shoal error: a stable `code` from the catalogue plus a human message. */
export class ShoalError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ShoalError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

/** Wraps anything thrown into a ShoalError, keeping known codes and hiding internals of unknown errors. */
export function toShoalError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  if (err instanceof Error && err.name === 'AbortError')
    return new ShoalError('ABORTED', 'operation aborted', { cause: err });
  if (err instanceof Error && err.name === 'TimeoutError')
    return new ShoalError('TIMEOUT', 'operation timed out', { cause: err });
  return new ShoalError('INTERNAL', 'internal error', { cause: err });
}

/** Throws the signal's reason as an ABORTED ShoalError when the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new ShoalError('ABORTED', 'operation aborted', { cause: signal.reason });
}
