import { InvalidRingError } from './errors.ts';
import { hashKey, reduce } from './hash.ts';
import type {
  Member,
  MemberSummary,
  PartitionChange,
  Ring,
  RingMember,
  RingOptions,
  RingSummary,
  ZoneSummary,
} from './index.ts';
import { buildTable, preferenceList, type ScoreInputs, scoreInputs } from './placement.ts';
import { added, removed } from './resolve.ts';

export const DEFAULT_PARTITIONS = 4096;
export const DEFAULT_REPLICAS = 3;
/** Upper bound on Q: keeps `reduce` exact and the table small. */
const MAX_PARTITIONS = 1 << 20;

function normalise(m: Member): RingMember {
  if (typeof m.id !== 'string' || m.id.length === 0) throw new InvalidRingError('member id must be a non-empty string');
  if (typeof m.zone !== 'string' || m.zone.length === 0) {
    throw new InvalidRingError(`member ${m.id}: zone must be a non-empty string`);
  }
  const capacity = m.capacity ?? 1;
  if (!Number.isFinite(capacity) || capacity <= 0) {
    throw new InvalidRingError(`member ${m.id}: capacity must be a finite number > 0, got ${capacity}`);
  }
  const state = m.state ?? 'up';
  if (state !== 'up' && state !== 'leaving') throw new InvalidRingError(`member ${m.id}: unknown state ${state}`);
  return Object.freeze({ id: m.id, zone: m.zone, capacity, state });
}

function checkCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidRingError(`${name} must be an integer in [1, ${max}], got ${value}`);
  }
}

const byId = (a: RingMember, b: RingMember): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class RingImpl implements Ring {
  readonly partitions: number;
  readonly replicas: number;
  readonly members: readonly RingMember[];
  readonly #placed: readonly RingMember[];
  readonly #table: ReadonlyArray<readonly string[]>;
  readonly #ids: ReadonlySet<string>;
  #inputs: ScoreInputs | undefined;
  #byMember: Map<string, readonly number[]> | undefined;

  constructor(options: RingOptions) {
    this.partitions = options.partitions ?? DEFAULT_PARTITIONS;
    this.replicas = options.replicas ?? DEFAULT_REPLICAS;
    checkCount('partitions', this.partitions, MAX_PARTITIONS);
    checkCount('replicas', this.replicas, 64);
    const members = (options.members ?? []).map(normalise).sort(byId);
    for (let i = 1; i < members.length; i++) {
      if (members[i].id === members[i - 1].id) throw new InvalidRingError(`duplicate member id ${members[i].id}`);
    }
    this.members = Object.freeze(members);
    this.#ids = new Set(members.map((m) => m.id));
    this.#placed = members.filter((m) => m.state === 'up');
    this.#table = buildTable(this.#placed, this.partitions, this.replicas);
  }

  partitionOf(key: string | Uint8Array): number {
    return reduce(hashKey(key), this.partitions);
  }

  replicasFor(partition: number): readonly string[] {
    const r = this.#table[partition];
    if (r === undefined) throw new RangeError(`partition ${partition} out of range [0, ${this.partitions})`);
    return r;
  }

  primaryOf(partition: number): string | undefined {
    return this.replicasFor(partition)[0];
  }

  preferenceList(partition: number): string[] {
    this.replicasFor(partition);
    this.#inputs ??= scoreInputs(this.#placed);
    return preferenceList(this.#placed, this.#inputs, partition);
  }

  has(memberId: string): boolean {
    return this.#ids.has(memberId);
  }

  partitionsOf(memberId: string): readonly number[] {
    if (this.#byMember === undefined) {
      const acc = new Map<string, number[]>();
      for (let p = 0; p < this.partitions; p++) {
        for (const id of this.#table[p]) {
          const list = acc.get(id);
          if (list === undefined) acc.set(id, [p]);
          else list.push(p);
        }
      }
      this.#byMember = new Map([...acc].map(([id, list]) => [id, Object.freeze(list)]));
    }
    return this.#byMember.get(memberId) ?? [];
  }

  summary(): RingSummary {
    const members = new Map<string, MemberSummary>();
    const zones = new Map<string, ZoneSummary>();
    for (const m of this.members) {
      members.set(m.id, { ...m, primaries: 0, replicas: 0 });
      const z = zones.get(m.zone) ?? { zone: m.zone, members: 0, primaries: 0, replicas: 0 };
      z.members++;
      zones.set(m.zone, z);
    }
    let underReplicated = 0;
    let zoneCollisions = 0;
    const spread = Math.min(this.replicas, new Set(this.#placed.map((m) => m.zone)).size);
    for (let p = 0; p < this.partitions; p++) {
      const ids = this.#table[p];
      if (ids.length < this.replicas) underReplicated++;
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        const m = members.get(id)!;
        const z = zones.get(m.zone)!;
        m.replicas++;
        z.replicas++;
        if (i === 0) {
          m.primaries++;
          z.primaries++;
        }
        seen.add(m.zone);
      });
      if (seen.size < spread) zoneCollisions++;
    }
    return {
      partitions: this.partitions,
      replicas: this.replicas,
      members: [...members.values()],
      zones: [...zones.values()].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0)),
      underReplicated,
      zoneCollisions,
    };
  }
}

export function diff(a: Ring, b: Ring): PartitionChange[] {
  if (a.partitions !== b.partitions) {
    throw new InvalidRingError(`cannot diff rings with ${a.partitions} and ${b.partitions} partitions`);
  }
  const out: PartitionChange[] = [];
  for (let p = 0; p < a.partitions; p++) {
    const change = { from: a.replicasFor(p), to: b.replicasFor(p) };
    if (change.from === change.to) continue;
    const gained = added(change);
    const lost = removed(change);
    const primaryChanged = change.from[0] !== change.to[0];
    if (gained.length === 0 && lost.length === 0 && !primaryChanged) continue;
    out.push({ partition: p, ...change, added: gained, removed: lost, primaryChanged });
  }
  return out;
}
