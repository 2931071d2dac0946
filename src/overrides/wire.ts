import { decode, encode } from '@msgpack/msgpack';
import type { Epoch, Scope } from '../layout/index.ts';
import { ProtocolError } from '../net/index.ts';
import type { Receipt } from './receipts.ts';

/**
 * The override protocol (request/response, msgpack maps), served by every daemon:
 * - `heads`: this daemon's partition chain heads (`s`: only that scope);
 * - `epochs`: the epochs of scope `s` from number `from` on (at most {@link MAX_EPOCHS_PER_ANSWER});
 * - `place`: place key `k` on `r` (null: back to the ring), forwarded to the partition coordinator;
 * - `rollback`: restore the placements of this daemon's partitions as of time `to`, or undo wave `w`;
 * - `placeMany`: many such placements (`[key, holders, reason, force]`), run as one wave by the receiving coordinator.
 *
 * Wave messages (a partition coordinator moving many records at once, see wave.ts), each batching a
 * whole wave's records into one call per peer:
 * - `intents`: moves `m` (`[key, from, to]`) are starting (`ttl` ms; 0 cancels them);
 * - `versions`: this daemon's version and checksum of keys `k` (null when it holds none);
 * - `ship`: stream this daemon's copies of keys to the listed new holders over the bulk channel;
 * - `receipt`: sign what this daemon holds of keys `k` (see receipts.ts);
 * - `pushes`: epochs of several partition chains at once (`push` for many scopes);
 * - `release`: the records `m` moved away from this daemon under the named epochs, with every new
 *   holder's receipt: drop the local copy after the grace period if the receipts cover it.
 */
export const OVERRIDES_PROTOCOL = '/shoal/overrides/1.0.0';
export const MAX_EPOCHS_PER_ANSWER = 1000;
/** Most records in one wave message (a wave is split into calls of at most this many). */
export const MAX_WAVE_ITEMS = 20_000;

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

/** One record's outcome of a batch placement. */
export interface PlaceManyResult {
  key: string;
  changed: boolean;
  /** Holders from now on (when placed or unchanged). */
  replicas?: string[];
  /** The wave that moved it. */
  wave?: string;
  error?: { code: string; message: string };
}

export interface PlaceRequest {
  key: string;
  /** Holders, or null to return to the ring. */
  replicas: string[] | null;
  reason: string;
  force: boolean;
  /** Place a key that has no record yet (checked where the request arrives; never forwarded). */
  allowMissing?: boolean;
}

export type OverrideRequest =
  | { t: 'heads'; s?: Scope }
  | { t: 'epochs'; s: Scope; from: number }
  | { t: 'place'; k: string; r: string[] | null; why: string; force: boolean }
  | { t: 'placeMany'; m: Array<[string, string[] | null, string, boolean]> }
  | { t: 'rollback'; id: string; to?: number; w?: string }
  | { t: 'intents'; m: Array<[string, string[], string[]]>; ttl: number; at?: number; b?: number; sig?: string }
  | { t: 'versions'; k: string[] }
  | { t: 'ship'; m: Array<[string, string[]]> }
  | { t: 'receipt'; k: string[] }
  | { t: 'pushes'; p: Array<[Scope, Epoch[]]> }
  | { t: 'release'; m: Array<[string, Scope, number]>; rc: Receipt[] };

/** Version and checksum of one copy, or null when the daemon holds none. */
/** `[version, checksum, size in bytes]` of a holder's copy (size absent from daemons before it was added), or null. */
export type WireVersion = [string, string, number?] | null;

export type OverrideResponse =
  | { t: 'heads'; h: WireHead[] }
  | { t: 'epochs'; e: Epoch[] }
  | { t: 'place'; res: PlaceResult }
  | { t: 'placeMany'; res: PlaceManyResult[] }
  | { t: 'rollback'; n: number; found: boolean }
  | { t: 'intents' }
  | { t: 'versions'; v: WireVersion[] }
  | { t: 'ship'; r: Array<[string, number, number, string?]> }
  | { t: 'receipt'; r: Receipt }
  | { t: 'pushes'; n: number[] }
  | { t: 'release'; n: number };

export function encodeOverrideMessage(msg: OverrideRequest | OverrideResponse): Uint8Array {
  return encode(msg, { ignoreUndefined: true });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isIds = (x: unknown): x is string[] => Array.isArray(x) && x.length <= 64 && x.every(isStr);
const isNat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isList = (x: unknown): x is unknown[] => Array.isArray(x) && x.length <= MAX_WAVE_ITEMS;
const isStrs = (x: unknown): x is string[] => isList(x) && x.every(isStr);
const isTuple = (x: unknown, n: number): x is unknown[] => Array.isArray(x) && x.length === n;

function wellFormed(m: Record<string, unknown>): boolean {
  switch (m.t) {
    case 'heads':
      return m.h === undefined ? m.s === undefined || isStr(m.s) : Array.isArray(m.h);
    case 'epochs':
      return m.e === undefined ? isStr(m.s) && isNat(m.from) : Array.isArray(m.e);
    case 'place':
      return m.k === undefined
        ? isObj(m.res)
        : isStr(m.k) && (m.r === null || isIds(m.r)) && isStr(m.why) && typeof m.force === 'boolean';
    case 'placeMany':
      return m.m === undefined
        ? isList(m.res)
        : isList(m.m) &&
            m.m.every(
              (e) =>
                isTuple(e, 4) &&
                isStr(e[0]) &&
                (e[1] === null || isIds(e[1])) &&
                isStr(e[2]) &&
                typeof e[3] === 'boolean',
            );
    case 'rollback':
      return m.id === undefined
        ? isNat(m.n) && typeof m.found === 'boolean'
        : isStr(m.id) && m.id.length <= 32 && (isNat(m.to) ? m.w === undefined : isStr(m.w) && m.w.length <= 64);
    case 'intents':
      return (
        m.m === undefined ||
        (isList(m.m) &&
          m.m.every((e) => isTuple(e, 3) && isStr(e[0]) && isIds(e[1]) && isIds(e[2])) &&
          isNat(m.ttl) &&
          (m.at === undefined || isNat(m.at)) &&
          (m.b === undefined || isNat(m.b)) &&
          (m.sig === undefined || isStr(m.sig)))
      );
    case 'versions':
      return m.k === undefined ? isList(m.v) : isStrs(m.k);
    case 'ship':
      return m.m === undefined
        ? isList(m.r)
        : isList(m.m) && m.m.every((e) => isTuple(e, 2) && isStr(e[0]) && isIds(e[1]));
    case 'receipt':
      return m.k === undefined ? isObj(m.r) : isStrs(m.k);
    case 'pushes':
      return m.p === undefined
        ? isList(m.n)
        : isList(m.p) && m.p.every((e) => isTuple(e, 2) && isStr(e[0]) && Array.isArray(e[1]));
    case 'release':
      return m.m === undefined
        ? isNat(m.n)
        : isList(m.m) && m.m.every((e) => isTuple(e, 3) && isStr(e[0]) && isStr(e[1]) && isNat(e[2])) && isList(m.rc);
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
