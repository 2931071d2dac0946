import { readFileSync } from 'node:fs';
import { ShoalError } from '../src/errors/index.ts';

/** Options every command that talks to a running daemon's admin API accepts (for `parseArgs`). */
export const ADMIN_OPTIONS = {
  url: { type: 'string' },
  'admin-token-file': { type: 'string' },
} as const;

/** A running daemon's admin API: its URL and the headers that authenticate to it. */
export interface AdminTarget {
  url: string;
  headers: Record<string, string>;
}

/**
 * The daemon to talk to: `--url` (else `SHOAL_URL`, else `SHOAL_ADMIN_HOST`/`SHOAL_ADMIN_PORT` when the port
 * is set, else `SHOAL_HTTP_HOST`/`SHOAL_HTTP_PORT`, else 127.0.0.1:7070), with the bearer token from `--admin-token-file` (else `SHOAL_ADMIN_TOKEN_FILE`) when one
 * is given.
 */
export function adminTarget(values: { url?: string; 'admin-token-file'?: string }): AdminTarget {
  const env = process.env;
  // A daemon started with SHOAL_ADMIN_PORT serves its admin API there (on SHOAL_ADMIN_HOST, else loopback).
  const local = env.SHOAL_ADMIN_PORT
    ? `http://${env.SHOAL_ADMIN_HOST || '127.0.0.1'}:${env.SHOAL_ADMIN_PORT}`
    : `http://${env.SHOAL_HTTP_HOST ?? '127.0.0.1'}:${env.SHOAL_HTTP_PORT ?? '7070'}`;
  const url = (values.url || env.SHOAL_URL || local).replace(/\/+$/, '');
  const tokenFile = values['admin-token-file'] ?? process.env.SHOAL_ADMIN_TOKEN_FILE;
  const headers: Record<string, string> = {};
  if (tokenFile) headers.authorization = `Bearer ${readToken(tokenFile)}`;
  return { url, headers };
}

/**
 * The token in `file` (trimmed). A file that cannot be read or is empty is the caller's
 * mistake, said in one line: `CONFIG_INVALID`, which the `shoal` command prints and exits 2 for.
 */
function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ShoalError('CONFIG_INVALID', `cannot read the admin token file ${file}: ${e.code ?? e.message}`);
  }
  const token = text.trim();
  if (token === '') throw new ShoalError('CONFIG_INVALID', `the admin token file ${file} is empty`);
  return token;
}

/** The daemon answered with an error: its catalogue `code` and `message` (or the HTTP status and body). */
export class AdminRefusal extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'AdminRefusal';
    this.code = code;
    this.status = status;
  }
}

/** No answer at all: nothing listens at the URL, the connection broke, or the deadline passed. */
export class AdminUnreachable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AdminUnreachable';
  }
}

/**
 * One admin API call: resolves with the parsed JSON answer of a 2xx, throws {@link AdminRefusal} for any
 * other answer and {@link AdminUnreachable} when there is none.
 */
export async function adminRequest<T = unknown>(
  target: AdminTarget,
  method: string,
  path: string,
  options: { body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  const { body, timeoutMs = 30_000 } = options;
  const headers = { ...target.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { message?: string; code?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : (e.cause?.message ?? e.cause?.code ?? e.message);
    throw new AdminUnreachable(
      `cannot reach the daemon at ${target.url} (${why}); is it running? point --url or SHOAL_URL at it`,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.ok) {
    if (parsed === undefined)
      throw new AdminRefusal(
        `HTTP_${res.status}`,
        `${method} ${path} answered with no JSON: ${text.slice(0, 200)}`,
        res.status,
      );
    return parsed as T;
  }
  const e = parsed as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string') throw new AdminRefusal(e.code, String(e.message ?? ''), res.status);
  // Not the catalogue's JSON (a proxy, say): the status and the body as they came.
  throw new AdminRefusal(
    `HTTP_${res.status}`,
    `${method} ${path}: ${text.slice(0, 200) || res.statusText}`,
    res.status,
  );
}
