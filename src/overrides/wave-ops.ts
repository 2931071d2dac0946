import type { PrivateKey } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Scope } from '../layout/index.ts';
import type { Net } from '../net/index.ts';
import type { ClusterRing } from '../replication/cluster-ring.ts';
import type { LocalEngine } from '../replication/local-engine.ts';
import { sendRecords } from '../replication/transfer.ts';
import type { Ring } from '../ring/index.ts';
import { signIntents } from './intent-signature.ts';
import { type Receipt, type ReceiptItem, signReceipt } from './receipts.ts';
import type { ReleaseQueue } from './release.ts';
import {
  decodeOverrideMessage,
  encodeOverrideMessage,
  MAX_WAVE_ITEMS,
  OVERRIDES_PROTOCOL,
  type OverrideRequest,
  type OverrideResponse,
  type WireVersion,
} from './wire.ts';

/** What one shipper reports per destination: records applied and rejected there, or why it failed. */
export type ShipReport = [dest: string, applied: number, rejected: number, error?: string];

/** One record to release: its key, and the partition epoch that moved it away from this daemon. */
export type ReleaseItem = [key: string, scope: Scope, number: number];

export interface WaveLocalComponents {
  net: Net;
  local: LocalEngine;
  peerKey: PrivateKey;
  release: ReleaseQueue;
  logger: Logger;
}

/**
 * What a daemon does when a coordinator's wave asks it to (the server side of the wave messages, and
 * the coordinator's own part): report versions, ship its copies over the bulk channel, sign receipts,
 * accept releases.
 */
export class WaveLocal {
  readonly #c: WaveLocalComponents;

  constructor(components: WaveLocalComponents) {
    this.#c = components;
  }

  async versions(keys: readonly string[], signal?: AbortSignal): Promise<WireVersion[]> {
    const metas = await this.#c.local.metaMany(keys, { signal });
    return metas.map((m): WireVersion => (m ? [m.version, m.checksum, m.size] : null));
  }

  /**
   * Streams this daemon's copy of each key to each of its destinations: one bulk transfer per
   * destination (flow-controlled, checksummed, merged there through the CRDT rules). A key it holds no
   * copy of is skipped. Transfers to different destinations run concurrently.
   */
  async ship(items: ReadonlyArray<readonly [string, readonly string[]]>, signal?: AbortSignal): Promise<ShipReport[]> {
    const byDest = new Map<string, string[]>();
    for (const [key, dests] of items) {
      for (const d of dests) {
        const keys = byDest.get(d) ?? [];
        if (keys.length === 0) byDest.set(d, keys);
        keys.push(key);
      }
    }
    const local = this.#c.local;
    return Promise.all(
      [...byDest].map(async ([dest, keys]): Promise<ShipReport> => {
        try {
          const res = await sendRecords(this.#c.net, dest, local.recordsOf(keys, { signal }), signal);
          return [dest, res.applied, res.rejected];
        } catch (err) {
          this.#c.logger.info({ err, dest }, 'wave: shipping copies failed');
          return [dest, 0, 0, (err as Error).message];
        }
      }),
    );
  }

  /** Signs what this daemon holds of `keys` now. */
  async receipt(keys: readonly string[], signal?: AbortSignal): Promise<Receipt> {
    const metas = await this.#c.local.metaMany(keys, { signal });
    const items = keys.map((key, i): ReceiptItem => {
      const m = metas[i];
      return m ? [key, m.version, m.checksum] : [key, null, null];
    });
    return signReceipt(items, this.#c.peerKey);
  }

  release(items: readonly ReleaseItem[], receipts: readonly Receipt[], from: string, signal?: AbortSignal) {
    return this.#c.release.accept(items, receipts, from, signal);
  }
}

/**
 * Waits (at most `ms`) until every other up member of `layoutRing` (the signed layout's) is up in `ring`
 * (this daemon's failure detector). A coordinator that restarts sees few members or none at first; a
 * recovery that ran then would send its cancellations (ttl 0 announcements) to nobody, and leave the
 * other daemons in the joint quorum of a move that no longer runs until the announcement expires.
 */
export async function awaitMembers(ring: ClusterRing, layoutRing: Ring, ms: number, signal?: AbortSignal) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !signal?.aborted) {
    const up = new Set(ring.upPeers());
    if (layoutRing.members.every((m) => m.id === ring.self || m.state !== 'up' || up.has(m.id))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Splits `items` into calls of at most {@link MAX_WAVE_ITEMS}. */
export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_WAVE_ITEMS) out.push(items.slice(i, i + MAX_WAVE_ITEMS));
  return out;
}

/** The coordinator's side: each wave operation on a peer, this daemon's own part done locally. */
export class WaveCalls {
  readonly #net: Net;
  readonly #local: WaveLocal;
  readonly #key: PrivateKey;
  readonly #clusterHead: () => number;

  /** `clusterHead`: this daemon's cluster epoch number, named in its move announcements. */
  constructor(net: Net, local: WaveLocal, key: PrivateKey, clusterHead: () => number) {
    this.#net = net;
    this.#local = local;
    this.#key = key;
    this.#clusterHead = clusterHead;
  }

  async #call<T extends OverrideResponse>(peer: string, req: OverrideRequest, signal: AbortSignal, timeoutMs: number) {
    const bytes = await this.#net.request(peer, OVERRIDES_PROTOCOL, encodeOverrideMessage(req), { signal, timeoutMs });
    const res = decodeOverrideMessage<T>(bytes, peer);
    if (res.t !== req.t) throw new Error(`peer ${peer} answered ${res.t} to ${req.t}`);
    return res;
  }

  async intents(
    peer: string,
    moves: ReadonlyArray<[string, string[], string[]]>,
    ttl: number,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<void> {
    for (const m of chunks(moves)) {
      const [at, b] = [Date.now(), this.#clusterHead()];
      const sig = signIntents(this.#net.peerId, m, ttl, at, b, this.#key);
      await this.#call(peer, { t: 'intents', m, ttl, at, b, sig }, signal, timeoutMs);
    }
  }

  async versions(peer: string, keys: readonly string[], signal: AbortSignal, timeoutMs: number) {
    if (peer === this.#net.peerId) return this.#local.versions(keys, signal);
    const out: WireVersion[] = [];
    for (const k of chunks(keys)) {
      const res = await this.#call<Extract<OverrideResponse, { t: 'versions' }>>(
        peer,
        { t: 'versions', k },
        signal,
        timeoutMs,
      );
      if (res.v.length !== k.length) throw new Error(`peer ${peer} answered ${res.v.length} versions for ${k.length}`);
      out.push(...res.v);
    }
    return out;
  }

  async ship(peer: string, items: Array<[string, string[]]>, signal: AbortSignal, timeoutMs: number) {
    if (peer === this.#net.peerId) return this.#local.ship(items, signal);
    const out: ShipReport[] = [];
    for (const m of chunks(items)) {
      const res = await this.#call<Extract<OverrideResponse, { t: 'ship' }>>(peer, { t: 'ship', m }, signal, timeoutMs);
      out.push(...(res.r as ShipReport[]));
    }
    return out;
  }

  async receipt(peer: string, keys: readonly string[], signal: AbortSignal, timeoutMs: number): Promise<Receipt[]> {
    if (peer === this.#net.peerId) return [await this.#local.receipt(keys, signal)];
    const out: Receipt[] = [];
    for (const k of chunks(keys)) {
      const res = await this.#call<Extract<OverrideResponse, { t: 'receipt' }>>(
        peer,
        { t: 'receipt', k },
        signal,
        timeoutMs,
      );
      out.push(res.r);
    }
    return out;
  }

  async release(
    peer: string,
    items: ReleaseItem[],
    receipts: Receipt[],
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<number> {
    if (peer === this.#net.peerId) return this.#local.release(items, receipts, peer, signal);
    let n = 0;
    for (const m of chunks(items)) {
      const res = await this.#call<Extract<OverrideResponse, { t: 'release' }>>(
        peer,
        { t: 'release', m, rc: receipts },
        signal,
        timeoutMs,
      );
      n += res.n;
    }
    return n;
  }
}
