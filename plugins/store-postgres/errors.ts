import { ShoalError } from '../../src/errors/index.ts';
import { isNetworkErrorCode, StoreError, StoreUnreachableError } from '../../src/store/index.ts';

/**
 * SQLSTATE classes and codes that mean "cannot use this server with these settings": 08 connection
 * exceptions, 28 invalid authorization (wrong password, no pg_hba entry), 3D000 unknown database,
 * 57P01–57P03 server shutting down or starting.
 */
function isUnreachableState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('28') || code === '3D000' || /^57P0[123]$/.test(code);
}

/** Where the store points, without the password. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    url.password = url.password ? '***' : '';
    return url.toString();
  } catch {
    return 'the configured PostgreSQL server';
  }
}

/** Maps a pg error to STORE_UNREACHABLE (network, auth, missing database) or STORE_ERROR. */
export function mapPgError(target: string, err: unknown, during: string): Error {
  if (err instanceof ShoalError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const text = e.message || code || String(err);
  if (isNetworkErrorCode(code) || /timeout|terminated|Connection terminated/i.test(text)) {
    return new StoreUnreachableError(`postgres at ${target} is unreachable (${during}): ${text}`, { cause: err });
  }
  if (/^[0-9A-Z]{5}$/.test(code) && isUnreachableState(code)) {
    const why = code.startsWith('28') ? 'refused the credentials' : 'refused the connection';
    return new StoreUnreachableError(`postgres at ${target} ${why} (${during}): ${text} [${code}]`, { cause: err });
  }
  return new StoreError(`postgres ${during} failed: ${text}${code ? ` [${code}]` : ''}`, { cause: err });
}
