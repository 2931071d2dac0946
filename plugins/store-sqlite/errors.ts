import { StoreError, StoreLockedError, StoreUnwritableError } from '../../src/store/index.ts';

/** SQLite primary result codes (https://sqlite.org/rescode.html) that open() maps. */
const SQLITE = { BUSY: 5, LOCKED: 6, READONLY: 8, IOERR: 10, FULL: 13, CANTOPEN: 14, PERM: 3 } as const;

const UNWRITABLE_ERRNO = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC']);

/** Maps a failure of open() to STORE_LOCKED, STORE_UNWRITABLE or STORE_ERROR. */
export function openError(path: string, err: unknown): Error {
  const e = err as { code?: string; errcode?: number; message?: string };
  const primary = (e.errcode ?? -1) & 0xff;
  const text = e.message ?? String(err);
  if (primary === SQLITE.BUSY || primary === SQLITE.LOCKED) {
    return new StoreLockedError(`sqlite database ${path} is locked by another shoal daemon (${text})`, { cause: err });
  }
  if (
    (e.code !== undefined && UNWRITABLE_ERRNO.has(e.code)) ||
    primary === SQLITE.READONLY ||
    primary === SQLITE.CANTOPEN ||
    primary === SQLITE.PERM ||
    primary === SQLITE.IOERR ||
    primary === SQLITE.FULL
  ) {
    return new StoreUnwritableError(`sqlite database ${path} cannot be created or written: ${text}`, { cause: err });
  }
  return new StoreError(`cannot open sqlite store at ${path}: ${text}`, { cause: err });
}
