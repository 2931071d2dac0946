import { decode, encode } from '@msgpack/msgpack';
import type { Epoch, Scope } from '../layout/index.ts';
import { ProtocolError } from '../net/index.ts';

/**
 * The override protocol (request/response, msgpack maps), served by every daemon:
 * - `heads`: this daemon's partition chain heads (`s`: only that scope);
 * - `epochs`: the epochs of scope `s` from number `from` on (at most {@link MAX_EPOCHS_PER_ANSWER});
 * - `push`: epochs of scope `s` a partition coordinator just appended (the receiver verifies and appends them);
 * - `intent`: a move of key `k` from `f` to `to` is starting (`ttl` ms; 0 cancels it);
 * - `place`: place key `k` on `r` (null: back to the ring), forwarded to the partition coordinator.
 */
export const OVERRIDES_PROTOCOL = '/shoal/overrides/1.0.0';
export const MAX_EPOCHS_PER_ANSWER = 1000;

/** `[scope, number, hash]` of one chain head. */
export type WireHead = [Scope, number, string];

/** What a placement request did (the admin API's answer). */
export interface PlaceResult {
  key: string;
  /** False when the placement was already the requested one. */
  changed: boolean;
  source: 'ring' | 'override';
  partition: number;
  /** Holders from now on. */
  replicas: string[];
  /** Holders before. */
  previous: string[];
  /** The partition epoch that recorded the change. */
  epoch?: { scope: Scope; number: number; hash: string };
  /** Peer that coordinated the move (the partition's coordinator). */
  coordinator: string;
  /** Members that acknowledged the new epoch, out of `of` up members. */
  distributed?: { acked: number; of: number };
  /** Peers that stored the DHT directory entry (0: publishing failed; the entry is re-published later). */
  published?: number;
}

export interface PlaceRequest {
  key: string;
  /** Holders, or null to return to the ring. */
  replicas: string[] | null;
  reason: string;
  force: boolean;
}

export type OverrideRequest =
  | { t: 'heads'; s?: Scope }
  | { t: 'epochs'; s: Scope; from: number }
  | { t: 'push'; s: Scope; e: Epoch[] }
  | { t: 'intent'; k: string; f: string[]; to: string[]; ttl: number }
  | { t: 'place'; k: string; r: string[] | null; why: string; force: boolean };

export type OverrideResponse =
  | { t: 'heads'; h: WireHead[] }
  | { t: 'epochs'; e: Epoch[] }
  | { t: 'push'; n: number }
  | { t: 'intent' }
  | { t: 'place'; res: PlaceResult };

export function encodeOverrideMessage(msg: OverrideRequest | OverrideResponse): Uint8Array {
  return encode(msg, { ignoreUndefined: true });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isIds = (x: unknown): x is string[] => Array.isArray(x) && x.length <= 64 && x.every(isStr);
const isNat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function wellFormed(m: Record<string, unknown>): boolean {
  switch (m.t) {
    case 'heads':
      return m.h === undefined ? m.s === undefined || isStr(m.s) : Array.isArray(m.h);
    case 'epochs':
      return m.e === undefined ? isStr(m.s) && isNat(m.from) : Array.isArray(m.e);
    case 'push':
      return m.e === undefined ? isNat(m.n) : isStr(m.s) && Array.isArray(m.e);
    case 'intent':
      return m.k === undefined || (isStr(m.k) && isIds(m.f) && isIds(m.to) && isNat(m.ttl));
    case 'place':
      return m.k === undefined
        ? isObj(m.res)
        : isStr(m.k) && (m.r === null || isIds(m.r)) && isStr(m.why) && typeof m.force === 'boolean';
    default:
      return false;
  }
}

/** Decodes and checks a message; anything malformed is a ProtocolError. */
export function decodeOverrideMessage<T extends OverrideRequest | OverrideResponse>(
  bytes: Uint8Array,
  from: string,
): T {
  let msg: unknown;
  try {
    msg = decode(bytes);
  } catch (err) {
    throw new ProtocolError(`undecodable override message from ${from}: ${(err as Error).message}`);
  }
  if (!isObj(msg) || !wellFormed(msg)) throw new ProtocolError(`malformed override message from ${from}`);
  return msg as T;
}
