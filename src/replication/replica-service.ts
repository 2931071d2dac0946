import type { Logger } from 'pino';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from './cluster-ring.ts';
import { partitionDigests, partitionVersions } from './digests.ts';
import type { LocalEngine } from './local-engine.ts';
import { verifyRecord } from './replica-client.ts';
import {
  decodeMessage,
  encodeMessage,
  fromWire,
  REPLICA_PROTOCOL,
  type ReplicaRequest,
  type ReplicaResponse,
  toWire,
} from './wire.ts';

const MAX_FETCH = 1000;

/** Answers other daemons' replica requests from this daemon's store. */
export async function serveReplicaProtocol(
  net: Net,
  local: LocalEngine,
  ring: ClusterRing,
  logger: Logger,
): Promise<void> {
  await net.handle(REPLICA_PROTOCOL, async (bytes, from, { signal }) => {
    const req = decodeMessage<ReplicaRequest>(bytes, from.peerId);
    const res = await answer(req, from.peerId, signal);
    return encodeMessage(res);
  });

  // Overridden keys are repaired among their own holders, not by partition anti-entropy.
  const skip = (key: string) => ring.isOverridden(key);

  async function answer(req: ReplicaRequest, from: string, signal: AbortSignal): Promise<ReplicaResponse> {
    switch (req.t) {
      case 'get': {
        const rec = await local.getRaw(req.k, { signal });
        return { t: 'get', r: rec ? toWire(rec) : undefined };
      }
      case 'put': {
        const merged = await local.applyRecord(req.k, verifyRecord(req.k, fromWire(req.r), from), { signal });
        return { t: 'put', v: merged.record.meta.version, e: merged.existed };
      }
      case 'digests': {
        const d = await partitionDigests(local, ring.ring, new Set(req.p), signal, skip);
        return { t: 'digests', d: [...d.entries()] };
      }
      case 'versions':
        return { t: 'versions', e: await partitionVersions(local, ring.ring, new Set(req.p), signal, skip) };
      case 'fetch': {
        const keys = req.ks.slice(0, MAX_FETCH);
        const rs: Array<[string, ReturnType<typeof toWire>]> = [];
        for (const k of keys) {
          const rec = await local.getRaw(k, { signal });
          if (rec) rs.push([k, toWire(rec)]);
        }
        return { t: 'fetch', rs };
      }
      case 'list': {
        const page = await local.list({
          prefix: req.prefix,
          after: req.after,
          limit: req.limit,
          includeTombstones: true,
          signal,
        });
        return { t: 'list', items: page.items.map((i) => [i.key, i.meta]), more: page.next !== undefined };
      }
      case 'purge':
        return { t: 'purge', ok: await local.purgeTombstone(req.k, req.v) };
      default:
        logger.warn({ from }, 'unknown replica request');
        throw new Error('unknown replica request');
    }
  }
}
