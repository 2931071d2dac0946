/**
 * The three scenarios of `bench:locality`.
 * - A: 3 zones, R = 3, `survive: node`, reads and writes at quorum (local = a majority of the replicas in the
 *   origin zone, which needs two of the three there).
 * - B: 6 zones, R = 3, `survive: zone`, reads at `one` (writes at quorum).
 * - C (semi-synthetic, follow-the-sun): the three NASA regions with enough rows (`na`, `eu`, `asia`), R = 3,
 *   `survive: node`, quorum, origins redrawn from the NASA region-by-hour shares (`sun.ts`).
 * @module
 */
import type { Scenario } from './index.ts';
import { SUN_ZONES } from './sun.ts';

export const SCENARIOS: Readonly<Record<'A' | 'B' | 'C', Scenario>> = {
  A: {
    name: 'A',
    label: '3 zones, R=3, survive node, quorum reads and writes',
    zones: 3,
    replicationFactor: 3,
    survive: 'node',
    readClass: 'majority',
  },
  B: {
    name: 'B',
    label: '6 zones, R=3, survive zone, reads at one',
    zones: 6,
    replicationFactor: 3,
    survive: 'zone',
    readClass: 'one',
  },
  C: {
    name: 'C',
    label: 'semi-synthetic follow-the-sun (NASA region-by-hour shares), 3 zones, R=3, survive node, quorum',
    zones: SUN_ZONES.length,
    zoneNames: SUN_ZONES,
    replicationFactor: 3,
    survive: 'node',
    readClass: 'majority',
    followTheSun: true,
  },
};
