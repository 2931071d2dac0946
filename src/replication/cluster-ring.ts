import type { Net } from '../net/index.ts';
import { effectiveReplicas } from '../overrides/plan.ts';
import { createRing, type Ring, type Member as RingMember } from '../ring/index.ts';
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
 * The placement of every key as this daemon sees the cluster: the ring of every known member that has
 * not left, up or down (a down member keeps its partitions; hinted handoff and anti-entropy cover it;
 * members announcing `leaving` get no replicas, so their data is handed to the others), then the
 * per-record overrides of the partition chains this daemon holds ({@link overrides}).
 *
 * {@link replicasOf} is the one answer to "who holds key k" for the coordinator, hand-off, tombstone
 * collection and repair: an announced move's old and new holders together (reads and writes then need
 * a quorum of each, see {@link quorumGroupsOf}), else the override's holders (a holder that left is
 * replaced by ring replicas, see `effectiveReplicas`), else the ring. With no override and no move it
 * costs one boolean test more than the ring alone.
 */
export class ClusterRing {
  readonly #net: Net;
  readonly #options: ClusterRingOptions;
  /** Overrides and announced moves held by this daemon. */
  readonly overrides = new OverrideTable();
  #ring: Ring;
  #signature = '';
  #selfLeaving = false;
  readonly #effective = new Map<string, readonly string[]>();
  #effectiveVersion = -1;
  #effectiveRing: Ring | undefined;
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
      const moving = this.overrides.intentOf(key);
      if (moving !== undefined) return moving.union;
      const placed = this.#overridden(key);
      if (placed !== undefined) return placed;
    }
    return this.#ring.replicasFor(this.#ring.partitionOf(key));
  }

  /** During an announced move: the old and the new holders, each of which must give a quorum. */
  quorumGroupsOf(key: string): readonly [readonly string[], readonly string[]] | undefined {
    if (!this.overrides.active) return undefined;
    const m = this.overrides.intentOf(key);
    return m === undefined ? undefined : [m.from, m.to];
  }

  /** True when an override (not the ring) places `key`. */
  isOverridden(key: string): boolean {
    return this.overrides.size > 0 && this.overrides.get(key) !== undefined;
  }

  /** Everything this daemon knows about where `key` lives. */
  placementOf(key: string): KeyPlacement {
    const partition = this.#ring.partitionOf(key);
    const ringReplicas = this.#ring.replicasFor(partition);
    const override = this.overrides.get(key);
    const m = this.overrides.intentOf(key);
    const moving = m && { from: m.from, to: m.to, expiresAt: m.expiresAt };
    if (override === undefined) return { partition, source: 'ring', replicas: ringReplicas, ringReplicas, moving };
    return { partition, source: 'override', replicas: this.#overridden(key)!, ringReplicas, override, moving };
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

  /** Members that are up, self excluded. */
  upPeers(): string[] {
    return this.#net
      .members()
      .filter((m) => !m.self && m.status === 'up')
      .map((m) => m.peerId);
  }

  /** Effective holders of an overridden key, cached until the ring or the overrides change. */
  #overridden(key: string): readonly string[] | undefined {
    const entry = this.overrides.get(key);
    if (entry === undefined) return undefined;
    if (this.#effectiveVersion !== this.overrides.version || this.#effectiveRing !== this.#ring) {
      this.#effective.clear();
      this.#effectiveVersion = this.overrides.version;
      this.#effectiveRing = this.#ring;
    }
    let replicas = this.#effective.get(key);
    if (replicas === undefined) {
      replicas = effectiveReplicas(entry.replicas, this.#ring, this.#ring.partitionOf(key));
      this.#effective.set(key, replicas);
    }
    return replicas;
  }
}
