/**
 * The gossiped stats summary, version 1, encoded with msgpack:
 *
 * ```
 * { v: 1, node, zone, seq, bucketMs, from, n, zones: string[], keys: string[],
 *   cells: [keyIndex, zoneIndex, reads: uint[n], writes: uint[n], one?: uint[n], all?: uint[n]][] }
 * ```
 * `from` is the absolute index (ms / bucketMs) of the first of `n` closed buckets; `zones` are origin zones;
 * `one` / `all` are the accesses of those demand classes per bucket (`consistency=one`, `consistency=all`);
 * the rest of a bucket's reads + writes are of class `majority` (quorum, the default, and linearizable).
 * Compatibility: the two class arrays are optional and come together; a cell without them (every cell of
 * an older daemon, and every cell whose accesses were all of class `majority`, since the encoder leaves
 * them out then) counts wholly as `majority`. So a summary of default-consistency traffic is byte for byte
 * what older daemons sent and accept; older daemons reject cells of 6 entries.
 * `seq` grows with every message of a node (it starts at the node's clock, so it also grows across restarts).
 * {@link decodeSummary} is strict: exact field set, types, sizes, index ranges, non-negative integer counts,
 * no duplicate (key, zone) cell; anything else is a {@link StatsSummaryError}.
 *
 * @module
 */
import { decode, encode } from '@msgpack/msgpack';
import { StatsSummaryError } from './errors.ts';
import type { Stats } from './index.ts';

export interface SummaryMessage {
  v: 1;
  node: string;
  zone: string;
  seq: number;
  bucketMs: number;
  from: number;
  n: number;
  zones: string[];
  keys: string[];
  cells: Array<SummaryCell>;
}

/** `[keyIndex, zoneIndex, reads, writes]`, or with the per-bucket accesses of class `one` and `all`. */
export type SummaryCell =
  | [number, number, number[], number[]]
  | [number, number, number[], number[], number[], number[]];

/** Hard limits every receiver enforces. */
export const SUMMARY_LIMITS = {
  maxBytes: 256 * 1024,
  maxKeys: 4096,
  maxZones: 256,
  maxBuckets: 60,
  maxNameChars: 256,
  maxKeyBytes: 1024,
} as const;

export interface EncodeSummaryOptions {
  node: string;
  zone: string;
  seq: number;
  /** Closed buckets per message (default 5). */
  buckets?: number;
  /** Hottest keys per message (default 256). */
  maxKeys?: number;
  /** Byte limit; keys are halved until the message fits (default 64 KiB). */
  maxBytes?: number;
}

const FIELDS = ['v', 'node', 'zone', 'seq', 'bucketMs', 'from', 'n', 'zones', 'keys', 'cells'];

/** Encodes the last closed buckets of the hottest keys of `stats` into a summary message. */
export function encodeSummary(stats: Pick<Stats, 'recentBuckets' | 'bucketMs'>, o: EncodeSummaryOptions): Uint8Array {
  const n = Math.min(o.buckets ?? 5, SUMMARY_LIMITS.maxBuckets);
  const maxBytes = Math.min(o.maxBytes ?? 64 * 1024, SUMMARY_LIMITS.maxBytes);
  let maxKeys = Math.min(o.maxKeys ?? 256, SUMMARY_LIMITS.maxKeys);
  for (;;) {
    const { from, rows } = stats.recentBuckets(n, maxKeys);
    const zones: string[] = [];
    const keys: string[] = [];
    const zi = new Map<string, number>();
    const ki = new Map<string, number>();
    const cells: SummaryMessage['cells'] = [];
    for (const r of rows) {
      const k = indexOf(ki, keys, r.key);
      const z = indexOf(zi, zones, r.zone);
      if (r.one.some((x) => x > 0) || r.all.some((x) => x > 0)) cells.push([k, z, r.reads, r.writes, r.one, r.all]);
      else cells.push([k, z, r.reads, r.writes]);
    }
    const msg: SummaryMessage = {
      v: 1,
      node: o.node,
      zone: o.zone,
      seq: o.seq,
      bucketMs: stats.bucketMs,
      from: Math.max(from, 0),
      n,
      zones,
      keys,
      cells,
    };
    const bytes = encode(msg);
    if (bytes.length <= maxBytes || maxKeys === 0) return bytes;
    maxKeys = Math.floor(maxKeys / 2);
  }
}

function indexOf(index: Map<string, number>, list: string[], name: string): number {
  let i = index.get(name);
  if (i === undefined) {
    i = list.push(name) - 1;
    index.set(name, i);
  }
  return i;
}

function fail(msg: string): never {
  throw new StatsSummaryError(`stats summary: ${msg}`);
}

function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

function names(v: unknown, what: string, max: number, check: (s: string) => boolean): string[] {
  if (!Array.isArray(v) || v.length > max) fail(`${what} must be an array of at most ${max}`);
  const seen = new Set<string>();
  for (const s of v) {
    if (typeof s !== 'string' || !check(s)) fail(`${what} has an invalid entry`);
    if (seen.has(s)) fail(`${what} has a duplicate`);
    seen.add(s);
  }
  return v as string[];
}

const utf8 = new TextEncoder();
const okName = (s: string) => s.length > 0 && s.length <= SUMMARY_LIMITS.maxNameChars;
const okKey = (s: string) => s.length > 0 && s.length <= SUMMARY_LIMITS.maxKeyBytes && utf8.encode(s).length <= 1024;

/** Decodes and validates a summary; throws {@link StatsSummaryError} for anything malformed or oversized. */
export function decodeSummary(bytes: Uint8Array, options: { maxBytes?: number } = {}): SummaryMessage {
  const maxBytes = Math.min(options.maxBytes ?? SUMMARY_LIMITS.maxBytes, SUMMARY_LIMITS.maxBytes);
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  if (bytes.length > maxBytes) fail(`${bytes.length} bytes exceed the limit of ${maxBytes}`);
  let m: unknown;
  try {
    m = decode(bytes, {
      maxStrLength: 4096,
      maxBinLength: 0,
      maxExtLength: 0,
      maxArrayLength: 1 << 20,
      maxMapLength: 16,
    });
  } catch (err) {
    throw new StatsSummaryError(`stats summary: not msgpack (${(err as Error).message})`, { cause: err });
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m) || m instanceof Uint8Array) fail('not a map');
  const o = m as Record<string, unknown>;
  const present = Object.keys(o);
  if (present.length !== FIELDS.length || !FIELDS.every((f) => Object.hasOwn(o, f))) {
    fail(`fields must be exactly ${FIELDS.join(',')}`);
  }
  if (o.v !== 1) fail(`unsupported version ${String(o.v)}`);
  if (typeof o.node !== 'string' || !okName(o.node)) fail('node must be a non-empty string');
  if (typeof o.zone !== 'string' || !okName(o.zone)) fail('zone must be a non-empty string');
  if (!isUint(o.seq)) fail('seq must be a non-negative integer');
  if (!isUint(o.bucketMs, 3_600_000) || o.bucketMs < 1000) fail('bucketMs out of range');
  if (!isUint(o.from)) fail('from must be a non-negative integer');
  if (!isUint(o.n, SUMMARY_LIMITS.maxBuckets) || o.n < 1) fail('n out of range');
  const zones = names(o.zones, 'zones', SUMMARY_LIMITS.maxZones, okName);
  const keys = names(o.keys, 'keys', SUMMARY_LIMITS.maxKeys, okKey);
  const n = o.n;
  if (!Array.isArray(o.cells) || o.cells.length > keys.length * zones.length) fail('too many cells');
  const seen = new Set<number>();
  for (const c of o.cells as unknown[]) {
    if (!Array.isArray(c) || (c.length !== 4 && c.length !== 6)) {
      fail('a cell must be [key, zone, reads, writes] or [key, zone, reads, writes, one, all]');
    }
    const [k, z, r, w, one, all] = c as unknown[];
    if (!isUint(k, keys.length - 1) || !isUint(z, zones.length - 1)) fail('cell index out of range');
    const id = k * zones.length + z;
    if (seen.has(id)) fail('duplicate cell');
    seen.add(id);
    const arrays = c.length === 6 ? [r, w, one, all] : [r, w];
    for (const arr of arrays) {
      if (!Array.isArray(arr) || arr.length !== n) fail(`cell counts must be arrays of ${n}`);
      for (const x of arr) if (!isUint(x, 0xffffffff)) fail('counts must be non-negative integers');
    }
    if (c.length === 6) {
      const [rs, ws, os, as] = arrays as number[][];
      for (let i = 0; i < n; i++) if (os[i] + as[i] > rs[i] + ws[i]) fail('class counts exceed the accesses');
    }
  }
  return o as unknown as SummaryMessage;
}
