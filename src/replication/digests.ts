import { createHash } from 'node:crypto';
import type { Ring } from '../ring/index.ts';
import type { LocalEngine } from './local-engine.ts';

/**
 * Partition digests for anti-entropy: the XOR of SHA-1(key, version) over every record (tombstones
 * included) of a partition. XOR makes the digest independent of scan order and cheap to combine; two
 * replicas with equal digests hold the same versions. This is the top level of a two-level hash tree:
 * partitions whose digests differ are compared key by key ({@link partitionVersions}). `skip` leaves
 * out keys placed by an override: their holders are not the partition's ring replicas, so they are
 * repaired among their own holders (src/overrides/repair.ts) instead.
 */
export async function partitionDigests(
  local: LocalEngine,
  ring: Ring,
  wanted: ReadonlySet<number>,
  signal?: AbortSignal,
  skip?: (key: string) => boolean,
): Promise<Map<number, string>> {
  const acc = new Map<number, Buffer>();
  for await (const { key, record } of local.scanRecords({ keysOnly: true, signal })) {
    const p = ring.partitionOf(key);
    if (!wanted.has(p) || skip?.(key)) continue;
    const h = createHash('sha1').update(key).update('\u0000').update(record.meta.version).digest();
    const cur = acc.get(p);
    if (!cur) acc.set(p, h);
    else for (let i = 0; i < h.length; i++) cur[i] ^= h[i];
  }
  const out = new Map<number, string>();
  for (const p of wanted) out.set(p, acc.get(p)?.toString('hex') ?? '');
  return out;
}

/** `[partition, key, version]` of every record of the given partitions (but those `skip` names). */
export async function partitionVersions(
  local: LocalEngine,
  ring: Ring,
  wanted: ReadonlySet<number>,
  signal?: AbortSignal,
  skip?: (key: string) => boolean,
): Promise<Array<[number, string, string]>> {
  const out: Array<[number, string, string]> = [];
  for await (const { key, record } of local.scanRecords({ keysOnly: true, signal })) {
    const p = ring.partitionOf(key);
    if (wanted.has(p) && !skip?.(key)) out.push([p, key, record.meta.version]);
  }
  return out;
}
