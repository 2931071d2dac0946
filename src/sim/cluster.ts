/**
 * The simulated cluster: zones, the latency matrix, daemons (ring members) and the real ring.
 *
 * Latency (ms, symmetric): generic zones `z0 .. z(n-1)` sit evenly around a circle; `RTT(i, j) = 5 + 150 · arc(i, j)/π
 * + jitter`, jitter uniform in [0, 20) from the seed; named zones of {@link NAMED_RTT} use those figures (approximate
 * public inter-region round trips). 1 ms within a zone. Daemon `d<zone>-<k>` lives in its zone, capacity 1.
 * @module
 */
import type { LatencyMatrix, PlanMember } from '../dsm/index.ts';
import { Locality } from '../dsm/index.ts';
import { mulberry32 } from '../pae/rng.ts';
import { createRing, type Ring } from '../ring/index.ts';

/** Approximate round trips between the NASA regions, ms. */
export const NAMED_RTT: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  na: { eu: 80, asia: 150, oceania: 160, sa: 120, af: 200 },
  eu: { asia: 160, oceania: 250, sa: 190, af: 120 },
  asia: { oceania: 110, sa: 280, af: 230 },
  oceania: { sa: 300, af: 300 },
  sa: { af: 250 },
};

export const INTRA_ZONE_MS = 1;

/** The latency matrix of `zones` (see the module doc). */
export function latencyMatrix(zones: readonly string[], seed: number): LatencyMatrix {
  const rand = mulberry32(seed ^ 0x1a7e);
  const n = zones.length;
  const m: Record<string, Record<string, number>> = {};
  for (let i = 0; i < n; i++) m[zones[i]] = { [zones[i]]: INTRA_ZONE_MS };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = zones[i];
      const b = zones[j];
      const named = NAMED_RTT[a]?.[b] ?? NAMED_RTT[b]?.[a];
      const steps = Math.min(j - i, n - (j - i));
      const jitter = rand() * 20;
      m[a][b] = named ?? Math.round((5 + (150 * (2 * steps)) / n + jitter) * 10) / 10;
    }
  }
  return m;
}

export interface Cluster {
  readonly zones: readonly string[];
  readonly latency: LatencyMatrix;
  readonly ring: Ring;
  readonly members: readonly PlanMember[];
  /** Member id → index in {@link members}; zone index per member. */
  readonly memberIndex: ReadonlyMap<string, number>;
  readonly memberZone: Int32Array;
  /** Member indices per zone. */
  readonly byZone: readonly (readonly number[])[];
  /** One shared locality model (the planner's): `vectors(zoneIdx, n)` gives [L1, Lmaj, Lall] per origin zone slot. */
  readonly loc: Locality;
  /** Sim zone index → Locality slot. */
  readonly slot: Int32Array;
}

/** Given daemons and latency instead of the generated ones (see `SimOptions.members`, `SimOptions.latency`). */
export interface ClusterOverrides {
  readonly members?: readonly { readonly id: string; readonly zone: string; readonly capacity?: number }[];
  readonly latency?: LatencyMatrix;
}

export function createCluster(
  zones: readonly string[],
  perZone: number,
  replicas: number,
  seed: number,
  given: ClusterOverrides = {},
): Cluster {
  const latency = given.latency ?? latencyMatrix(zones, seed);
  const members: PlanMember[] = [];
  const capacity = new Map<string, number>();
  if (given.members !== undefined) {
    for (const m of given.members) {
      if (!zones.includes(m.zone))
        throw new RangeError(`member ${m.id}: zone ${m.zone} is not one of ${zones.join(', ')}`);
      members.push({ id: m.id, zone: m.zone, up: true, usedBytes: 0 });
      if (m.capacity !== undefined) capacity.set(m.id, m.capacity);
    }
  } else {
    zones.forEach((z, zi) => {
      for (let k = 0; k < perZone; k++) members.push({ id: `d${zi}-${k}`, zone: z, up: true, usedBytes: 0 });
    });
  }
  const ring = createRing({
    replicas,
    members: members.map((m) => ({ id: m.id, zone: m.zone, capacity: capacity.get(m.id) })),
  });
  const memberIndex = new Map(members.map((m, i) => [m.id, i]));
  const memberZone = Int32Array.from(members, (m) => zones.indexOf(m.zone));
  const byZone = zones.map((_, zi) => members.flatMap((_, i) => (memberZone[i] === zi ? [i] : [])));
  const loc = new Locality(zones, latency, 100);
  const slot = Int32Array.from(zones, (z) => loc.zoneIndex(z));
  return { zones, latency, ring, members, memberIndex, memberZone, byZone, loc, slot };
}
