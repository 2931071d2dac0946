import { readFileSync } from 'node:fs';

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
 * The daemon to talk to: `--url` (else `SHOAL_HTTP_HOST`/`SHOAL_HTTP_PORT`, else 127.0.0.1:7070), with the
 * bearer token from `--admin-token-file` (else `SHOAL_ADMIN_TOKEN_FILE`) when one is given.
 */
export function adminTarget(values: { url?: string; 'admin-token-file'?: string }): AdminTarget {
  const url =
    values.url ?? `http://${process.env.SHOAL_HTTP_HOST ?? '127.0.0.1'}:${process.env.SHOAL_HTTP_PORT ?? '7070'}`;
  const tokenFile = values['admin-token-file'] ?? process.env.SHOAL_ADMIN_TOKEN_FILE;
  const headers: Record<string, string> = {};
  if (tokenFile) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
  return { url, headers };
}
