import { compareHlc } from '../crdt/hlc.ts';
import type { RecordMeta } from '../store/index.ts';
import type { CoordinatorComponents } from './coordinator.ts';
import type { ListOptions, ListPage } from './engine.ts';
import type { ReplicaResponse } from './wire.ts';

const MAX_LIMIT = 1000;

/**
 * `GET /v1/records` in a cluster: every reachable member lists its own copies after the cursor; the
 * pages are merged by key (newest version wins, deleted keys dropped) and cut to the limit. A member
 * that does not answer is skipped (its keys are also on other replicas).
 */
export async function listAcrossCluster(c: CoordinatorComponents, options: ListOptions): Promise<ListPage> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_LIMIT);
  const prefix = options.prefix ?? '';
  const peers = [c.client.self, ...c.ring.upPeers()];
  const pages = await Promise.all(
    peers.map(async (peer): Promise<{ items: Array<[string, RecordMeta]>; more: boolean }> => {
      try {
        if (peer === c.client.self) {
          const page = await c.local.list({
            prefix,
            after: options.after,
            limit,
            includeTombstones: true,
            signal: options.signal,
          });
          return { items: page.items.map((i) => [i.key, i.meta]), more: page.next !== undefined };
        }
        const res = await c.client.call<Extract<ReplicaResponse, { t: 'list' }>>(
          peer,
          { t: 'list', prefix, after: options.after, limit },
          options.signal,
        );
        return res;
      } catch (err) {
        c.logger.debug({ err, peer }, 'list: member skipped');
        return { items: [], more: false };
      }
    }),
  );
  const newest = new Map<string, RecordMeta>();
  // Keys beyond the smallest "last key" of a page that has more may be missing elsewhere: cut there.
  let horizon: string | undefined;
  for (const page of pages) {
    for (const [key, meta] of page.items) {
      const seen = newest.get(key);
      if (!seen || compareHlc(meta.version, seen.version) > 0) newest.set(key, meta);
    }
    const last = page.items[page.items.length - 1]?.[0];
    if (
      page.more &&
      last !== undefined &&
      (horizon === undefined || Buffer.compare(Buffer.from(last), Buffer.from(horizon)) < 0)
    )
      horizon = last;
  }
  const keys = [...newest.keys()]
    .filter((k) => horizon === undefined || Buffer.compare(Buffer.from(k), Buffer.from(horizon)) <= 0)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const live = keys.filter((k) => !newest.get(k)!.tombstone);
  const items = live.slice(0, limit).map((key) => ({ key, meta: newest.get(key)! }));
  const more = live.length > limit || horizon !== undefined;
  return more && items.length > 0 ? { items, next: items[items.length - 1].key } : { items };
}
