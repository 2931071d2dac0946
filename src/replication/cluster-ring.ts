import type { Net } from '../net/index.ts';
import { createRing, type Ring, type Member as RingMember } from '../ring/index.ts';

export interface ClusterRingOptions {
  partitions: number;
  replicas: number;
}

/**
 * The ring as this daemon sees the cluster: every known member that has not left, up or down (a
 * down member keeps its partitions; hinted handoff and anti-entropy cover it). Members announcing
 * `leaving` get no replicas, so their data is handed to the others.
 */
export class ClusterRing {
  readonly #net: Net;
  readonly #options: ClusterRingOptions;
  #ring: Ring;
  #signature = '';
  #selfLeaving = false;

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

  get self(): string {
    return this.#net.peerId;
  }

  /** Replica peer ids of a key, primary first. */
  replicasOf(key: string): readonly string[] {
    return this.#ring.replicasFor(this.#ring.partitionOf(key));
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
}
