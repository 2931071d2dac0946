import type { Logger } from 'pino';
import { compareHlc } from '../crdt/hlc.ts';
import { needed } from '../replication/coordinator.ts';
import type { MovePlan } from './plan.ts';
import { type Receipt, type ReceiptItem, receiptIndex, verifyReceipt } from './receipts.ts';
import type { WaveCalls } from './wave-ops.ts';
import type { WireVersion } from './wire.ts';

/** What the copy and receipt steps of one wave need. */
export interface CopyContext {
  readonly calls: WaveCalls;
  readonly self: string;
  readonly logger: Logger;
  readonly wave: string;
  readonly timeoutMs: number;
  /** Told the checksum a new holder signed for each record the copy step verified. */
  readonly onCopied?: (key: string, checksum: string) => void;
  /**
   * `version/checksum` every new holder signed for, by key: the copy step fills it, the catch-up step ships
   * only copies that differ from it (one the new holders already hold would merge to nothing).
   */
  readonly held?: Map<string, string>;
  /** Told the size (bytes) of the newest copy of each record, as its old holders reported it. */
  readonly onSized?: (key: string, bytes: number) => void;
}

/** The distinct items of `xs`, in first-seen order. */
export const unique = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

/** Runs `fn` over `items`, at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Appends `value` to the list of `key` in `map`. */
export function add<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Copies each move's record from a quorum of its old holders to its new holders (see the class doc).
 * `strict` (the copy step): a move fails unless a quorum answered, shipping succeeded and every new
 * holder's receipt covers the newest copy; otherwise (catch-up) failures are only logged.
 */
export async function copyMoves(
  ctx: CopyContext,
  moves: readonly MovePlan[],
  signal: AbortSignal,
  strict: boolean,
  failed: Map<string, string>,
): Promise<void> {
  const { calls, self, timeoutMs } = ctx;
  const need = moves.filter((m) => m.copyTo.length > 0);
  if (need.length === 0) return;
  const fail = (m: MovePlan, why: string) => {
    if (strict) failed.set(m.key, why);
    else ctx.logger.info({ key: m.key, why, wave: ctx.wave }, 'wave: catch-up copy incomplete');
  };
  // Versions of every old holder, one call each.
  const keysOf = new Map<string, string[]>();
  for (const m of need) for (const h of m.from) add(keysOf, h, m.key);
  const answers = new Map<string, Map<string, WireVersion>>();
  await Promise.all(
    [...keysOf].map(async ([h, keys]) => {
      try {
        const v = await calls.versions(h, keys, signal, timeoutMs);
        answers.set(h, new Map(keys.map((k, i) => [k, v[i]])));
      } catch (err) {
        ctx.logger.info({ err, peer: h, wave: ctx.wave }, 'wave: an old holder did not report versions');
      }
    }),
  );
  // Who ships what: each distinct copy once, from this daemon when it holds that copy.
  const newest = new Map<string, string | null>();
  const shipments = new Map<string, Array<[string, string[]]>>();
  const shipperOf = new Map<string, Set<string>>();
  for (const m of need) {
    const got = m.from.filter((h) => answers.get(h)?.has(m.key));
    if (got.length < needed('quorum', m.from.length)) {
      fail(m, `only ${got.length} of ${m.from.length} old holders answered`);
      continue;
    }
    const copies = new Map<string, string[]>();
    let top: string | null = null;
    for (const h of got) {
      const v = answers.get(h)!.get(m.key)!;
      if (v === null) continue;
      if (top === null || compareHlc(v[0], top) > 0) {
        top = v[0];
        if (typeof v[2] === 'number' && v[2] >= 0) ctx.onSized?.(m.key, v[2]);
      }
      if (!strict && ctx.held?.get(m.key) === `${v[0]}/${v[1]}`) continue;
      add(copies, `${v[0]}/${v[1]}`, h);
    }
    newest.set(m.key, top);
    const shippers = new Set<string>();
    for (const holders of copies.values()) {
      const shipper = holders.includes(self) ? self : holders[0];
      shippers.add(shipper);
      add(shipments, shipper, [m.key, [...m.copyTo]] as [string, string[]]);
    }
    shipperOf.set(m.key, shippers);
  }
  const broken = new Set<string>(); // `${shipper}\0${dest}` pairs that failed
  await Promise.all(
    [...shipments].map(async ([shipper, items]) => {
      const dests = unique(items.flatMap(([, d]) => d));
      try {
        const reports = await calls.ship(shipper, items, signal, timeoutMs);
        for (const [dest, , rejected, error] of reports) {
          if (error !== undefined || rejected > 0) broken.add(`${shipper}\0${dest}`);
        }
      } catch (err) {
        ctx.logger.info({ err, shipper, wave: ctx.wave }, 'wave: shipping failed');
        for (const d of dests) broken.add(`${shipper}\0${d}`);
      }
    }),
  );
  for (const m of need) {
    const shippers = shipperOf.get(m.key);
    if (shippers === undefined) continue;
    const bad = m.copyTo.filter((d) => [...shippers].some((s) => broken.has(`${s}\0${d}`)));
    if (bad.length > 0) fail(m, `new holders did not store the record: ${bad.join(', ')}`);
  }
  if (!strict) return;
  const alive = need.filter((m) => !failed.has(m.key));
  const receipts = await collectReceipts(ctx, alive, (m) => m.copyTo, signal);
  for (const m of alive) {
    const top = newest.get(m.key) ?? null;
    for (const d of m.copyTo) {
      const item = receipts.get(d)?.get(m.key);
      if (top !== null && !(item?.[1] && compareHlc(item[1], top) >= 0)) {
        failed.set(m.key, `new holder ${d} has no receipt for the copy`);
        break;
      }
    }
    const item = receipts.get(m.copyTo[0])?.get(m.key);
    if (!failed.has(m.key) && item?.[2]) ctx.onCopied?.(m.key, item[2]);
    const same = (d: string) => receipts.get(d)?.get(m.key)?.join('/') === item?.join('/');
    if (!failed.has(m.key) && item?.[1] && m.copyTo.every(same)) ctx.held?.set(m.key, `${item[1]}/${item[2]}`);
  }
}

/** Signed receipts of `holdersOf(m)` for the keys of `moves`: holder → key → item (verified); `keep` gets the receipts. */
export async function collectReceipts(
  ctx: CopyContext,
  moves: readonly MovePlan[],
  holdersOf: (m: MovePlan) => readonly string[],
  signal: AbortSignal,
  keep?: Map<string, Receipt[]>,
): Promise<Map<string, Map<string, ReceiptItem>>> {
  const keysOf = new Map<string, string[]>();
  for (const m of moves) for (const h of holdersOf(m)) add(keysOf, h, m.key);
  const out = new Map<string, Map<string, ReceiptItem>>();
  await Promise.all(
    [...keysOf].map(async ([h, keys]) => {
      try {
        const rs = await ctx.calls.receipt(h, keys, signal, ctx.timeoutMs);
        const index = new Map<string, ReceiptItem>();
        for (const r of rs) {
          if (r.signer !== h || !(await verifyReceipt(r))) throw new Error(`a receipt from ${h} does not verify`);
          for (const [k, item] of receiptIndex(r)) index.set(k, item);
        }
        out.set(h, index);
        keep?.set(h, rs);
      } catch (err) {
        ctx.logger.info({ err, peer: h }, 'wave: no receipt from a holder');
      }
    }),
  );
  return out;
}
