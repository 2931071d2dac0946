import type { Logger } from 'pino';
import { compareHlc } from '../crdt/hlc.ts';
import { isLiveDoc } from '../crdt/merge.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import type { LocalEngine } from '../replication/local-engine.ts';
import type { RecordMeta } from '../store/index.ts';
import { type Receipt, type ReceiptItem, receiptIndex, verifyReceipt } from './receipts.ts';
import type { OverrideSync } from './sync.ts';
import type { ReleaseItem } from './wave-ops.ts';

export interface ReleaseComponents {
  ring: ClusterRing;
  local: LocalEngine;
  sync: OverrideSync;
  logger: Logger;
}

export interface ReleaseOptions {
  /** How long a released copy stays before it is dropped (reads that still route to it find it). Default 60 000 ms. */
  graceMs?: number;
  /** Most drops waiting at once; beyond it a release is refused (the hand-off covers it later). Default 1 000 000. */
  maxPending?: number;
}

/** True when `item` vouches for a copy at least as new as `local`, so `local` may go. */
export function covers(item: ReceiptItem | undefined, local: RecordMeta): boolean {
  if (item === undefined || item[1] === null) return false;
  if (item[1] === local.version && item[2] === local.checksum) return true;
  // A newer blob or tombstone supersedes this one (last writer wins). A doc merges concurrent edits
  // instead, so only the very same copy is proof that the new holder has this one's edits.
  return !isLiveDoc({ meta: local }) && compareHlc(item[1], local.version) > 0;
}

/**
 * The old holders' side of a move: a coordinator that committed a wave sends each daemon that no longer
 * holds a record its release, with every new holder's signed receipt. This daemon drops its copy only
 * when (1) its own partition chain has the epoch that moved the record away (fetched from the
 * coordinator when behind, and verified like every epoch), (2) its placement of the key no longer
 * includes itself, and (3) a valid receipt of every current holder covers its copy ({@link covers}).
 * The drop waits `graceMs` (requests that still route here meanwhile find the copy), then happens only
 * if the copy is still the one checked (a write that arrived meanwhile keeps it for the hand-off).
 * Keys with a pending drop, or whose placement moved away within the grace period, are held back from
 * the hand-off, so the old copy is never streamed and deleted before its grace period.
 */
export class ReleaseQueue {
  readonly #c: ReleaseComponents;
  readonly #graceMs: number;
  readonly #maxPending: number;
  readonly #pending = new Map<string, NodeJS.Timeout>();
  /** Keys whose placement changed recently → until when the hand-off leaves them alone. */
  readonly #recent = new Map<string, number>();
  #dropped = 0;

  constructor(components: ReleaseComponents, options: ReleaseOptions = {}) {
    this.#c = components;
    this.#graceMs = options.graceMs ?? 60_000;
    this.#maxPending = options.maxPending ?? 1_000_000;
  }

  get graceMs(): number {
    return this.#graceMs;
  }

  /** Copies dropped after their release so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True while the hand-off must leave `key` alone (a release is pending, or its placement just changed). */
  holdsBack(key: string, now = Date.now()): boolean {
    if (this.#pending.has(key)) return true;
    const until = this.#recent.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#recent.delete(key);
    return false;
  }

  /** Notes keys whose placement an epoch just changed (the release of the move is on its way). */
  noteMoved(keys: Iterable<string>, now = Date.now()): void {
    // Twice the grace: the release arrives after the commit, distribution and catch-up steps.
    const until = now + 2 * this.#graceMs;
    for (const key of keys) this.#recent.set(key, until);
    if (this.#recent.size > this.#maxPending) {
      for (const [k, t] of this.#recent) if (t <= now) this.#recent.delete(k);
    }
  }

  /** Verifies a release from coordinator `from` and schedules the drops it allows; resolves to how many. */
  async accept(
    items: readonly ReleaseItem[],
    receipts: readonly Receipt[],
    from: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const bySigner = new Map<string, Map<string, ReceiptItem>>();
    for (const r of receipts) {
      if (await verifyReceipt(r)) bySigner.set(r.signer, receiptIndex(r));
      else this.#c.logger.warn({ from, signer: r?.signer }, 'release: a receipt does not verify; ignored');
    }
    const self = this.#c.ring.self;
    const candidates: Array<[key: string, holders: readonly string[]]> = [];
    for (const [key, scope, number] of items) {
      if (this.#pending.size + candidates.length >= this.#maxPending) break;
      const chain = this.#c.sync.layout().chain(scope);
      if (chain.head.number < number && from !== self) {
        await this.#c.sync.fetch(from, scope, signal).catch((err: unknown) => {
          this.#c.logger.info({ err, scope, from }, 'release: could not fetch the epoch that moved the record');
        });
      }
      if (this.#c.sync.layout().chain(scope).head.number < number) continue;
      const holders = this.#c.ring.replicasOf(key);
      if (!holders.includes(self) && holders.length > 0) candidates.push([key, holders]);
    }
    const metas = await this.#c.local.metaMany(
      candidates.map(([key]) => key),
      { signal },
    );
    let accepted = 0;
    for (const [i, [key, holders]] of candidates.entries()) {
      const local = metas[i];
      if (local === undefined) continue;
      if (!holders.every((h) => covers(bySigner.get(h)?.get(key), local))) continue;
      this.#schedule(key, { version: local.version, checksum: local.checksum });
      accepted++;
    }
    return accepted;
  }

  #schedule(key: string, expected: { version: string; checksum: string }): void {
    clearTimeout(this.#pending.get(key));
    const t = setTimeout(() => {
      this.#pending.delete(key);
      // The placement may have come back here during the grace period: then the copy stays.
      if (this.#c.ring.replicasOf(key).includes(this.#c.ring.self)) return;
      this.#c.local
        .dropRecord(key, expected)
        .then((dropped) => {
          if (dropped) this.#dropped++;
        })
        .catch((err: unknown) => this.#c.logger.warn({ err, key }, 'release: dropping the old copy failed'));
    }, this.#graceMs);
    t.unref();
    this.#pending.set(key, t);
  }

  /** Cancels pending drops (the copies stay; the hand-off or the next release covers them). */
  stop(): void {
    for (const t of this.#pending.values()) clearTimeout(t);
    this.#pending.clear();
  }
}
