import { peerIdFromString } from '@libp2p/peer-id';
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
  /**
   * Base URL of the daemon's admin API, `/metrics` and `/dashboard` (http or https): its `--admin-port`
   * listener, else the same as `apiUrl`. Absent from records of daemons that predate it: read it as
   * `adminUrl ?? apiUrl`.
   */
  adminUrl?: string;
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

/**
 * A peer id in its canonical string form. The failure detector and the dialer parse every member's id, and one
 * that does not parse would throw there (out of a timer, ending the daemon), so it is refused here.
 */
function peerId(v: unknown): string {
  const s = str(v, 'peerId', 128);
  let canonical: string;
  try {
    canonical = peerIdFromString(s).toString();
  } catch {
    throw new ProtocolError('member peerId is not a peer id');
  }
  if (canonical !== s) throw new ProtocolError('member peerId is not in its canonical form');
  return s;
}

/** What the ring needs of a member (src/ring refuses the whole ring otherwise): a zone, and a capacity > 0. */
function zone(v: unknown): string {
  const s = str(v, 'zone', 256);
  if (s.length === 0) throw new ProtocolError('member zone must not be empty');
  return s;
}

function capacity(v: unknown): number {
  const n = num(v, 'capacity');
  if (n <= 0) throw new ProtocolError('member capacity must be > 0');
  return n;
}

/** An http(s) URL (absent allowed): it ends up as a link in the dashboard, so no `javascript:` or the like. */
function httpUrl(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  const s = str(v, what, 2048);
  let protocol: string;
  try {
    protocol = new URL(s).protocol;
  } catch {
    throw new ProtocolError(`member ${what} must be an http(s) URL`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new ProtocolError(`member ${what} must be an http(s) URL`);
  return s;
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
    peerId: peerId(o.peerId),
    zone: zone(o.zone),
    capacity: capacity(o.capacity),
    storeKind: str(o.storeKind, 'storeKind', 64),
    apiUrl: str(o.apiUrl, 'apiUrl', 2048),
    multiaddrs: o.multiaddrs.map((m) => str(m, 'multiaddr', 1024)),
    joinedAt: num(o.joinedAt, 'joinedAt'),
    updatedAt: num(o.updatedAt, 'updatedAt'),
  };
  if (o.leaving === true) info.leaving = true;
  if (o.removed === true) info.removed = true;
  // Optional since records of older daemons (and their members.json) lack them.
  const adminUrl = httpUrl(o.adminUrl, 'adminUrl');
  if (adminUrl !== undefined) info.adminUrl = adminUrl;
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
