import { describe, expect, it } from 'vitest';
import { keyNotCoordinatedBy } from '../../src/overrides/intent-auth.ts';
import { createRing } from '../../src/ring/index.ts';

const members = ['peer-a', 'peer-b', 'peer-c'].map((id, i) => ({
  id,
  zone: `z${i}`,
  capacity: 1,
  state: 'up' as const,
}));
const ring = createRing({ partitions: 64, replicas: 3, members });
const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
const coordinator = (k: string) => ring.primaryOf(ring.partitionOf(k));

describe('move announcements: only a key partition coordinator may announce its move', () => {
  it('accepts a batch whose every key the sender coordinates', () => {
    for (const m of members) {
      const own = keys.filter((k) => coordinator(k) === m.id);
      expect(own.length).toBeGreaterThan(0);
      expect(keyNotCoordinatedBy(ring, m.id, own)).toBeUndefined();
    }
  });

  it('names the first key of a batch that another daemon coordinates', () => {
    const own = keys.filter((k) => coordinator(k) === 'peer-a');
    const foreign = keys.find((k) => coordinator(k) === 'peer-b') as string;
    expect(keyNotCoordinatedBy(ring, 'peer-a', [...own.slice(0, 3), foreign, ...own.slice(3)])).toBe(foreign);
    // a holder of the key that is not its primary is refused too, and so is a stranger
    const held = keys.find((k) => coordinator(k) !== 'peer-c') as string;
    expect(keyNotCoordinatedBy(ring, 'peer-c', [held])).toBe(held);
    expect(keyNotCoordinatedBy(ring, 'peer-x', [own[0]])).toBe(own[0]);
  });
});
