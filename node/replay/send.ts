/**
 * One replayed request: `GET` or `PUT /v1/records/:key` on one daemon, timed from the call until the last byte
 * of the answer. Never throws: a failure is an error code (the daemon's catalogue code, `HTTP_<status>` for an
 * answer that is not the catalogue's JSON, `TIMEOUT`, `UNREACHABLE`); an abort by the caller is `aborted`.
 * @module
 */
import type { Consistency } from '../../src/replication/engine.ts';

/** Shared bytes every written value is cut from (the content does not matter to the measurement). */
let pattern: Buffer<ArrayBuffer> = Buffer.alloc(0);
function valueBytes(bytes: number): Uint8Array<ArrayBuffer> {
  if (pattern.length < bytes) {
    pattern = Buffer.alloc(Math.max(bytes, 65_536));
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31 + 7) & 0xff;
  }
  return pattern.subarray(0, bytes);
}

export interface SendRequest {
  url: string;
  key: string;
  write: boolean;
  /** Value size of a write. */
  bytes: number;
  headers: Record<string, string>;
  level?: Consistency;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Sent {
  /** Microseconds from the call to the end of the answer. */
  us: number;
  error?: string;
  aborted?: boolean;
}

/** Sends one request (see the module doc). */
export async function sendRecord(r: SendRequest): Promise<Sent> {
  const url = `${r.url}/v1/records/${encodeURIComponent(r.key)}${r.level ? `?consistency=${r.level}` : ''}`;
  const timeout = AbortSignal.timeout(r.timeoutMs);
  const signal = r.signal ? AbortSignal.any([r.signal, timeout]) : timeout;
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: r.write ? 'PUT' : 'GET',
      headers: r.write ? { ...r.headers, 'content-type': 'application/octet-stream' } : r.headers,
      body: r.write ? valueBytes(r.bytes) : undefined,
      signal,
    });
    const body = await res.arrayBuffer();
    const us = (performance.now() - t0) * 1000;
    if (res.ok) return { us };
    let code = `HTTP_${res.status}`;
    try {
      const e = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: unknown };
      if (typeof e.code === 'string') code = e.code;
    } catch {
      // not the catalogue's JSON
    }
    return { us, error: code };
  } catch {
    const us = (performance.now() - t0) * 1000;
    if (r.signal?.aborted) return { us, aborted: true };
    return { us, error: timeout.aborted ? 'TIMEOUT' : 'UNREACHABLE' };
  }
}
