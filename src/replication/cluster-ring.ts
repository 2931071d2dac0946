import type { Net } from '../net/index.ts';
import { createRing, type Placement, type Ring, type Member as RingMember, resolvePlacement } from '../ring/index.ts';
import { type OverrideEntry, OverrideTable } from './override-table.ts';

export interface ClusterRingOptions {
  partitions: number;
  replicas: number;
}

/** Where a key lives as this daemon sees it (`GET /admin/records/:key`). */
export interface KeyPlacement {
  readonly partition: number;
  /** `override` when a partition epoch placed the key, else `ring`. */
  readonly source: 'ring' | 'override';
  /** Holders, first = primary (during a move: the holders before it). */
  readonly replicas: readonly string[];
  /** The partition's ring replicas. */
  readonly ringReplicas: readonly string[];
  /** The override and the epoch that set it. */
  readonly override?: OverrideEntry;
  /** An announced move that has not reached this daemon's chain yet. */
  readonly moving?: { readonly from: readonly string[]; readonly to: readonly string[]; readonly expiresAt: number };
}

/** Finds holders this daemon does not know of (the DHT directory); true when the key's placement changed. */
export type MissResolver = (key: string, signal?: AbortSignal) => Promise<boolean>;

/**
 * The placement of every key as this daemon sees the cluster (the ring authoritative for routing; see
 * `resolvePlacement` in src/ring for why it is this membership ring and not the signed layout's ring,
 * which decides who signs partition epochs): the ring of every known member that has
 * not left, up or down (a down member keeps its partitions; hinted handoff and anti-entropy cover it;
 * members announcing `leaving` get no replicas, so their data is handed to the others), then the
 * per-record overrides of the partition chains this daemon holds ({@link overrides}).
 *
 * {@link replicasOf} is the one answer to "who holds key k" for the coordinator, hand-off, tombstone
 * collection and repair, and {@link quorumGroupsOf} and {@link placementOf} read the same answer: each
 * is `resolvePlacement` (src/ring) of this ring, the key's override and its announced move (old ∪ new
 * during a move, each side needing a quorum; else the override's effective holders; else the ring).
 * Resolutions of keys with an override or a move are cached until the ring or the override table
 * changes. With no override and no move, `replicasOf` costs one boolean test more than the ring alone.
 */
export class ClusterRing {
  readonly #net: Net;
  readonly #options: ClusterRingOptions;
  /** Overrides and announced moves held by this daemon. */
  readonly overrides = new OverrideTable();
  #ring: Ring;
  #signature = '';
  #selfLeaving = false;
  readonly #resolutions = new Map<string, Placement>();
  #resolvedVersion = -1;
  #resolvedRing: Ring | undefined;
  #resolver: MissResolver | undefined;
  #holdBack: ((key: string) => boolean) | undefined;

  constructor(net: Net, options: ClusterRingOptions) {
    this.#net = net;
    this.#options = options;
    this.#ring = createRing({ partitions: options.partitions, replicas: options.replicas, members: [] });
  }

  /** Rebuilds the ring from the member list; true when membership changed. */
  refresh(): boolean {
    const members: RingMember[] = this.#net
      .members()
      .map((m) => ({
        id: m.peerId,
        zone: m.zone,
        capacity: m.capacity,
        state: m.leaving || (m.self && this.#selfLeaving) ? ('leaving' as const) : ('up' as const),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const signature = members.map((m) => `${m.id}/${m.zone}/${m.capacity}/${m.state}`).join(',');
    if (signature === this.#signature) return false;
    this.#signature = signature;
    this.#ring = createRing({ partitions: this.#options.partitions, replicas: this.#options.replicas, members });
    return true;
  }

  /** Hands every partition of this daemon to the others (decommissioning). */
  markSelfLeaving(): void {
    this.#selfLeaving = true;
    this.refresh();
  }

  get ring(): Ring {
    return this.#ring;
  }

  /** R. */
  get replicationFactor(): number {
    return this.#options.replicas;
  }

  get self(): string {
    return this.#net.peerId;
  }

  /** Holder peer ids of a key, primary first: move (old ∪ new), else override, else ring. */
  replicasOf(key: string): readonly string[] {
    if (this.overrides.active) {
      const placed = this.#resolved(key);
      if (placed !== undefined) return placed.holders;
    }
    // = resolvePlacement(ring, key).holders, without the allocation.
    return this.#ring.replicasFor(this.#ring.partitionOf(key));
  }

  /** During an announced move: the old and the new holders, each of which must give a quorum. */
  quorumGroupsOf(key: string): readonly [readonly string[], readonly string[]] | undefined {
    if (!this.overrides.active) return undefined;
    return this.#resolved(key)?.groups;
  }

  /** True when an override (not the ring) places `key`. */
  isOverridden(key: string): boolean {
    return this.overrides.size > 0 && this.overrides.get(key) !== undefined;
  }

  /** Everything this daemon knows about where `key` lives. */
  placementOf(key: string): KeyPlacement {
    const { partition, source, replicas, ringReplicas } = this.#resolved(key) ?? resolvePlacement(this.#ring, key);
    const override = this.overrides.get(key);
    const m = this.overrides.intentOf(key);
    const moving = m && { from: m.from, to: m.to, expiresAt: m.expiresAt };
    return { partition, source, replicas, ringReplicas, override, moving };
  }

  /** Installs the directory look-up used when a read finds no copy anywhere. */
  setMissResolver(resolver: MissResolver | undefined): void {
    this.#resolver = resolver;
  }

  /** Installs the rule that keeps moved records' old copies from the hand-off until their release (src/overrides). */
  setHoldBack(holdBack: ((key: string) => boolean) | undefined): void {
    this.#holdBack = holdBack;
  }

  /** True while the old copy of a moved record must stay here (its release or grace period is pending). */
  heldBack(key: string): boolean {
    return this.#holdBack?.(key) ?? false;
  }

  /** Asks the holder directory about `key`; true when this daemon learned a new placement for it. */
  async resolveMiss(key: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#resolver === undefined || this.#ring.members.length < 2) return false;
    return this.#resolver(key, signal).catch(() => false);
  }

  /** False for members the failure detector marks down (calls to them would only time out). */
  isAvailable(peerId: string): boolean {
    if (peerId === this.#net.peerId) return true;
    return this.#net.member(peerId)?.status !== 'down';
  }

  /** The failure detector's smoothed round-trip time to `peerId` (ms), undefined before the first ping. */
  rttOf(peerId: string): number | undefined {
    return this.#net.member(peerId)?.rttMs;
  }

  /** Members that are up, self excluded. */
  upPeers(): string[] {
    return this.#net
      .members()
      .filter((m) => !m.self && m.status === 'up')
      .map((m) => m.peerId);
  }

  /**
   * The resolution of a key with an override or a live announced move (undefined for any other key),
   * cached until the ring or the override table changes (an expired move is dropped by `intentOf`,
   * which changes the table's version, before the cache is read).
   */
  #resolved(key: string): Placement | undefined {
    const move = this.overrides.intentOf(key);
    const entry = this.overrides.get(key);
    if (move === undefined && entry === undefined) return undefined;
    if (this.#resolvedVersion !== this.overrides.version || this.#resolvedRing !== this.#ring) {
      this.#resolutions.clear();
      this.#resolvedVersion = this.overrides.version;
      this.#resolvedRing = this.#ring;
    }
    let placed = this.#resolutions.get(key);
    if (placed === undefined) {
      placed = resolvePlacement(this.#ring, key, entry?.replicas, move);
      this.#resolutions.set(key, placed);
    }
    return placed;
  }
}
