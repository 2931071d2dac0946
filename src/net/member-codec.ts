import { ProtocolError } from './errors.ts';

/** What a daemon announces about itself. Written only by its owner; `updatedAt` orders versions. */
export interface MemberInfo {
  peerId: string;
  zone: string;
  /** Relative capacity weight used by the ring (bytes or an operator-chosen unit). */
  capacity: number;
  /** Store plugin name (level, sqlite, postgres, s3, ...). */
  storeKind: string;
  /** Base URL of the daemon's HTTP API. */
  apiUrl: string;
  /** Listen addresses, each with its /p2p/<peerId> suffix. */
  multiaddrs: string[];
  /** When this daemon first started with its data directory (ms since epoch). */
  joinedAt: number;
  /** Set once the daemon announced it is leaving the cluster for good (after its hand-off, just before it exits). */
  leaving?: boolean;
  /**
   * Set on the record an operator's removal (`shoal remove`) wrote on behalf of a dead member: the
   * member is gone for good (see src/net/departures.ts). The only field not written by the owner.
   */
  removed?: boolean;
  /**
   * Estimated bytes in the daemon's store (`Store.approximateBytes`), refreshed by its owner every few
   * seconds and re-versioned only on a noticeable change; absent when the backend cannot tell.
   */
  usedBytes?: number;
  /** The most the daemon's store should hold (`--storage-limit-mb`), bytes; absent when it has no limit. */
  limitBytes?: number;
  /** Owner's version of this record (ms since epoch, strictly increasing per owner). */
  updatedAt: number;
}

/** Membership exchange: the sender's own record plus every record it knows. */
export interface MembersMessage {
  self: MemberInfo;
  known: MemberInfo[];
}

const MAX_MEMBERS = 10_000;

function str(v: unknown, what: string, max = 4096): string {
  if (typeof v !== 'string' || v.length > max) throw new ProtocolError(`member ${what} must be a string`);
  return v;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`member ${what} must be a number`);
  return v;
}

/** A byte count: absent, or a non-negative safe integer. */
function bytes(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ProtocolError(`member ${what} must be a non-negative integer`);
  return v;
}

export function parseMemberInfo(v: unknown): MemberInfo {
  if (typeof v !== 'object' || v === null) throw new ProtocolError('member record must be an object');
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.multiaddrs) || o.multiaddrs.length > 64) throw new ProtocolError('member multiaddrs malformed');
  const info: MemberInfo = {
    peerId: str(o.peerId, 'peerId', 128),
    zone: str(o.zone, 'zone', 256),
    capacity: num(o.capacity, 'capacity'),
    storeKind: str(o.storeKind, 'storeKind', 64),
    apiUrl: str(o.apiUrl, 'apiUrl', 2048),
    multiaddrs: o.multiaddrs.map((m) => str(m, 'multiaddr', 1024)),
    joinedAt: num(o.joinedAt, 'joinedAt'),
    updatedAt: num(o.updatedAt, 'updatedAt'),
  };
  if (o.leaving === true) info.leaving = true;
  if (o.removed === true) info.removed = true;
  // Optional since records of older daemons (and their members.json) have neither.
  const usedBytes = bytes(o.usedBytes, 'usedBytes');
  if (usedBytes !== undefined) info.usedBytes = usedBytes;
  const limitBytes = bytes(o.limitBytes, 'limitBytes');
  if (limitBytes !== undefined) info.limitBytes = limitBytes;
  return info;
}

export function encodeMembers(msg: MembersMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(msg));
}

export function decodeMembers(bytes: Uint8Array): MembersMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ProtocolError('membership message is not JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ProtocolError('membership message must be an object');
  const o = parsed as Record<string, unknown>;
  if (!Array.isArray(o.known) || o.known.length > MAX_MEMBERS) throw new ProtocolError('membership list malformed');
  return { self: parseMemberInfo(o.self), known: o.known.map(parseMemberInfo) };
}
