import { ShoalError } from '../errors/index.ts';
import { NetAbortedError, NetTimeoutError, PeerUnreachableError } from './errors.ts';

/**
 * One remote call's cancellation scope: a signal that fires on the caller's abort or on the timeout,
 * and a classifier that turns whatever the call threw into the right ShoalError.
 */
export interface CallScope {
  readonly signal: AbortSignal;
  /** NetTimeoutError / NetAbortedError when the scope fired, the error itself if it is a ShoalError, else PeerUnreachableError. */
  fail(err: unknown, peerId: string, what: string): ShoalError;
  dispose(): void;
}

export function callScope(timeoutMs: number, outer: AbortSignal | undefined, what: string): CallScope {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new NetTimeoutError(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  const onOuter = (): void => ac.abort(new NetAbortedError(`${what} aborted`, { cause: outer?.reason }));
  if (outer?.aborted === true) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: ac.signal,
    fail(err, peerId, label) {
      if (ac.signal.aborted && ac.signal.reason instanceof ShoalError) return ac.signal.reason;
      if (err instanceof ShoalError) return err;
      const message = err instanceof Error ? err.message : String(err);
      return new PeerUnreachableError(peerId, `${label} ${peerId}: ${message}`, { cause: err });
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

/** Resolves after `ms` (immediately when ms ≤ 0); rejects with the signal's reason when it fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
