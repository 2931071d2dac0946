import type { KadDHT, Selectors, Validators } from '@libp2p/kad-dht';
import { NetAbortedError, ProtocolError } from './errors.ts';

/**
 * The DHT directory: a thin last-writer-wins key/value layer over the private kad-dht. Keys are
 * namespaced as `/shoal/<hex(key)>`; each stored value is an 8-byte big-endian millisecond
 * timestamp followed by the caller's bytes, and readers pick the newest copy (ties: larger bytes).
 * Records live in memory on the K closest peers and are lost when all of them restart, so callers
 * (replication) re-put what they hold periodically.
 */
const NAMESPACE = 'shoal';
const STAMP_BYTES = 8;

export function dhtKey(key: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`/${NAMESPACE}/${Buffer.from(key).toString('hex')}`);
}

function wrap(value: Uint8Array, now: number): Uint8Array {
  const out = new Uint8Array(STAMP_BYTES + value.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(now));
  out.set(value, STAMP_BYTES);
  return out;
}

function stamp(record: Uint8Array): bigint {
  return new DataView(record.buffer, record.byteOffset, record.byteLength).getBigUint64(0);
}

function compareRecords(a: Uint8Array, b: Uint8Array): number {
  const sa = stamp(a);
  const sb = stamp(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  return Buffer.compare(a, b);
}

export const dhtValidators: Validators = {
  [NAMESPACE]: (_key, value) => {
    if (value.byteLength < STAMP_BYTES) throw new ProtocolError('shoal DHT record is shorter than its timestamp');
  },
};

export const dhtSelectors: Selectors = {
  [NAMESPACE]: (_key, records) => {
    let best = 0;
    for (let i = 1; i < records.length; i++) {
      if (compareRecords(records[i], records[best]) > 0) best = i;
    }
    return best;
  },
};

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new NetAbortedError(`${what} aborted`, { cause: signal.reason });
}

/** Stores `value` under `key` locally and on the closest peers; resolves to how many peers acknowledged. */
export async function dhtPut(
  dht: KadDHT,
  key: Uint8Array,
  value: Uint8Array,
  opts: { signal?: AbortSignal; now?: number },
): Promise<number> {
  checkAbort(opts.signal, 'dhtPut');
  let acks = 0;
  try {
    for await (const ev of dht.put(dhtKey(key), wrap(value, opts.now ?? Date.now()), { signal: opts.signal })) {
      if (ev.name === 'PEER_RESPONSE') acks++;
    }
  } catch (err) {
    checkAbort(opts.signal, 'dhtPut');
    throw err;
  }
  return acks;
}

/** The newest value stored under `key`, or undefined when no reachable peer (nor this one) has it. */
export async function dhtGet(
  dht: KadDHT,
  key: Uint8Array,
  opts: { signal?: AbortSignal },
): Promise<Uint8Array | undefined> {
  checkAbort(opts.signal, 'dhtGet');
  let best: Uint8Array | undefined;
  try {
    for await (const ev of dht.get(dhtKey(key), { signal: opts.signal })) {
      if (ev.name === 'VALUE' && ev.value.byteLength >= STAMP_BYTES) {
        if (best === undefined || compareRecords(ev.value, best) > 0) best = ev.value;
      }
    }
  } catch (err) {
    checkAbort(opts.signal, 'dhtGet');
    // a failed path after a value was found still leaves a usable answer
    if (best === undefined && !(err instanceof Error && err.name === 'NotFoundError')) throw err;
  }
  return best?.subarray(STAMP_BYTES);
}
