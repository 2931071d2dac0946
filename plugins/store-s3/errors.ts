import { ShoalError } from '../../src/errors/index.ts';
import { isNetworkErrorCode, StoreError, StoreUnreachableError } from '../../src/store/index.ts';

/** Error names S3 uses for credentials it refuses. */
const AUTH = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'Forbidden',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** True when S3 answered 404 for the object (GetObject: NoSuchKey, HeadObject: NotFound). */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** Maps an AWS SDK error to ABORTED, STORE_UNREACHABLE (network, credentials, missing bucket) or STORE_ERROR. */
export function mapS3Error(target: string, err: unknown, during: string): Error {
  if (err instanceof ShoalError) return err;
  const e = err as SdkError;
  const name = e?.name ?? '';
  const text = e?.message || name || String(err);
  if (name === 'AbortError') return new ShoalError('ABORTED', 'operation aborted', { cause: err });
  const code = e?.code ?? (err as { cause?: { code?: string } })?.cause?.code ?? '';
  if (isNetworkErrorCode(code) || name === 'TimeoutError' || /ECONNREFUSED|socket hang up|getaddrinfo/i.test(text)) {
    return new StoreUnreachableError(`s3 endpoint ${target} is unreachable (${during}): ${text}`, { cause: err });
  }
  const status = e?.$metadata?.httpStatusCode;
  if (AUTH.has(name) || status === 401 || status === 403) {
    return new StoreUnreachableError(`s3 endpoint ${target} refused the credentials (${during}): ${name} ${text}`, {
      cause: err,
    });
  }
  if (name === 'NoSuchBucket') {
    return new StoreUnreachableError(`s3 bucket at ${target} does not exist (${during})`, { cause: err });
  }
  return new StoreError(`s3 ${during} failed: ${name} ${text}`.trim(), { cause: err });
}
