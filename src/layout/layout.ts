import type { PrivateKey } from '@libp2p/interface';
import { throwIfAborted } from '../errors/index.ts';
import {
  createRing,
  DEFAULT_PARTITIONS,
  DEFAULT_REPLICAS,
  type Placement,
  type Ring,
  resolvePlacement,
} from '../ring/index.ts';
import { EpochChainImpl } from './chain.ts';
import { hashEpoch, isScope, partitionOfScope } from './epoch.ts';
import { EpochRejectedError } from './errors.ts';
import type {
  ChainHead,
  Epoch,
  EpochChange,
  EpochLog,
  Layout,
  LayoutOptions,
  OverrideEvent,
  ProposeOptions,
  Scope,
} from './index.ts';
import { openChain } from './open.ts';
import { clusterAuthoriser, clusterQuorum, clusterValidator, coordinatorOf, partitionPolicy } from './policy.ts';

const RING_CACHE = 8;

class LayoutImpl implements Layout {
  readonly partitions: number;
  readonly replicas: number;
  readonly cluster: EpochChainImpl;
  readonly #options: LayoutOptions;
  readonly #chains = new Map<number, EpochChainImpl>();
  readonly #rings = new Map<number, Ring>();
  readonly #downs = new Map<number, ReadonlySet<string>>();
  readonly #keyRing: Ring;

  constructor(options: LayoutOptions) {
    this.#options = options;
    this.partitions = options.partitions ?? DEFAULT_PARTITIONS;
    this.replicas = options.replicas ?? DEFAULT_REPLICAS;
    this.#keyRing = createRing({ partitions: this.partitions, replicas: this.replicas });
    this.cluster = new EpochChainImpl(this.clusterOptions());
  }

  clusterOptions() {
    return {
      scope: 'cluster' as const,
      log: this.#options.log,
      authorise: clusterAuthoriser(this.#options),
      validate: clusterValidator((p) => this.#chains.get(p), this.#options.admins),
      quorum: this.#options.clusterQuorum ? clusterQuorum : undefined,
    };
  }

  /** `building`: the chain the epochs are appended to when it is not (yet) this layout's chain of `p`. */
  partitionOptions(p: number, building?: () => EpochChainImpl) {
    const policy = partitionPolicy({
      partitions: this.partitions,
      partitionOf: (key) => this.#keyRing.partitionOf(key),
      cluster: this.cluster,
      chainOf: (q) => (q === p && building ? building() : this.#chains.get(q)),
      ringAt: (n) => this.ringAt(n),
      coordinatorAt: (n, p) => this.coordinatorAt(n, p),
      strictCoordinator: this.#options.strictCoordinator,
    });
    return { scope: `partition:${p}` as const, log: this.#options.log, ...policy };
  }

  adopt(p: number, chain: EpochChainImpl): void {
    this.#chains.set(p, chain);
  }

  chain(scope: Scope): EpochChainImpl {
    const p = partitionOfScope(scope);
    if (p === undefined) return this.cluster;
    if (!Number.isInteger(p) || p < 0 || p >= this.partitions) throw new RangeError(`no partition ${p}`);
    let chain = this.#chains.get(p);
    if (chain === undefined) {
      chain = new EpochChainImpl(this.partitionOptions(p));
      this.#chains.set(p, chain);
    }
    return chain;
  }

  ring(): Ring {
    return this.ringAt(this.cluster.head.number);
  }

  ringAt(number: number): Ring {
    let ring = this.#rings.get(number);
    if (ring === undefined) {
      const members = [...this.cluster.layoutAt(number).members.values()];
      ring = createRing({ partitions: this.partitions, replicas: this.replicas, members });
      if (this.#rings.size >= RING_CACHE) this.#rings.delete(this.#rings.keys().next().value!);
      this.#rings.set(number, ring);
    }
    return ring;
  }

  coordinatorOf(partition: number): string | undefined {
    return this.coordinatorAt(this.cluster.head.number, partition);
  }

  coordinatorAt(number: number, partition: number): string | undefined {
    let down = this.#downs.get(number);
    if (down === undefined) {
      // Replaying the cluster chain to an old number costs up to a snapshot interval: kept like the rings.
      down = this.cluster.layoutAt(number).down;
      if (this.#downs.size >= RING_CACHE) this.#downs.delete(this.#downs.keys().next().value!);
      this.#downs.set(number, down);
    }
    return coordinatorOf(this.ringAt(number), down, partition);
  }

  placement(key: string): Placement {
    const ring = this.ring();
    const partition = ring.partitionOf(key);
    const override = this.#chains.get(partition)?.layout().overrides.get(key);
    return resolvePlacement(ring, partition, override?.replicas);
  }

  append(epoch: Epoch, options: { signal?: AbortSignal } = {}): Promise<void> {
    const scope: unknown = epoch?.scope;
    const p = isScope(scope) ? partitionOfScope(scope) : -1;
    if (p === -1 || (p !== undefined && p >= this.partitions)) {
      const number = typeof epoch?.number === 'number' ? epoch.number : -1;
      return Promise.reject(
        new EpochRejectedError('malformed', String(scope), number, 'no such scope in this cluster'),
      );
    }
    return this.chain(epoch.scope).append(epoch, options);
  }

  propose(scope: Scope, change: EpochChange, privateKey: PrivateKey, options: ProposeOptions = {}): Promise<Epoch> {
    const basis = scope === 'cluster' ? undefined : (options.basis ?? this.cluster.head.number);
    return this.chain(scope).propose(change, privateKey, { ...options, basis });
  }

  checkpoint(privateKey: PrivateKey, options: ProposeOptions & { reason?: string } = {}): Promise<Epoch> {
    const checkpoint = this.heads().filter((h) => h.scope !== 'cluster');
    return this.cluster.propose({ reason: options.reason ?? 'checkpoint', checkpoint }, privateKey, options);
  }

  rollback(
    scope: Scope,
    toNumber: number,
    privateKey: PrivateKey,
    options: ProposeOptions & { reason?: string } = {},
  ): Promise<Epoch> {
    const basis = scope === 'cluster' ? undefined : (options.basis ?? this.cluster.head.number);
    return this.chain(scope).rollback(toNumber, privateKey, { ...options, basis });
  }

  history(key: string): readonly OverrideEvent[] {
    return this.#chains.get(this.#keyRing.partitionOf(key))?.history(key) ?? [];
  }

  async replaceChain(scope: Scope, epochs: readonly Epoch[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const p = partitionOfScope(scope);
    if (p === undefined || p >= this.partitions) {
      throw new EpochRejectedError('malformed', String(scope), 0, 'only partition chains are replaced');
    }
    const held = this.chain(scope);
    let shared = 0;
    while (shared < epochs.length && held.hashAt(shared + 1) === hashEpoch(epochs[shared])) shared++;
    // Built without a log, so nothing is written until every epoch passed.
    const next: EpochChainImpl = new EpochChainImpl({ ...this.partitionOptions(p, () => next), log: undefined });
    for (const [i, e] of epochs.entries()) await next.appendInternal(e, { ...options, trusted: i < shared });
    const log = this.#options.log;
    if (log !== undefined) {
      await log.truncate(scope, shared, options);
      for (const e of epochs.slice(shared)) await log.append(scope, e, options);
    }
    const live: EpochChainImpl = new EpochChainImpl(this.partitionOptions(p, () => live));
    for (const e of epochs) await live.appendInternal(e, { ...options, trusted: true, persisted: true });
    this.#chains.set(p, live);
  }

  heads(): ChainHead[] {
    const parts = [...this.#chains.entries()]
      .filter(([, c]) => c.head.number > 0)
      .sort(([a], [b]) => a - b)
      .map(([, c]) => c.head);
    return [this.cluster.head, ...parts];
  }
}

export function newLayout(options: LayoutOptions): Layout {
  return new LayoutImpl(options);
}

export async function loadLayout(
  options: LayoutOptions & { readonly log: EpochLog },
  load: { signal?: AbortSignal } = {},
): Promise<Layout> {
  const layout = new LayoutImpl(options);
  const cluster = await openChain({ ...layout.clusterOptions(), log: options.log }, load);
  for (const e of cluster.epochs()) await layout.cluster.appendInternal(e, { ...load, persisted: true, trusted: true });
  const checkpoint = new Map((layout.cluster.layout().checkpoint ?? []).map((h) => [h.scope, h]));
  for (const scope of await options.log.scopes(load)) {
    throwIfAborted(load.signal);
    const p = partitionOfScope(scope);
    if (p === undefined) continue;
    const chain = await openChain(
      { ...layout.partitionOptions(p), log: options.log },
      { signal: load.signal, trusted: checkpoint.get(scope) },
    );
    layout.adopt(p, chain);
  }
  return layout;
}
