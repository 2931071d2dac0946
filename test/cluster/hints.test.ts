import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, stopAllClusters } from '../support/cluster.ts';
import { eventually, get, put } from './helpers.ts';

afterAll(stopAllClusters);

// No periodic repair pass within the test: only hinted handoff can bring B up to date.
const NO_PASSES = ['--anti-entropy-interval-ms', '600000'];

describe('hinted handoff', () => {
  it('a daemon restarted before the failure detector noticed gets the writes it missed within seconds', async () => {
    const c = await startCluster({ n: 2, extra: [NO_PASSES, NO_PASSES] });
    const [a] = c.daemons;
    await c.kill9(1);
    const keys = Array.from({ length: 40 }, (_, i) => `hinted/${i}`);
    for (const k of keys) expect(await put(a, k, `v-${k}`, 'one')).toBe(201);
    // Restarted at once, so A may never see it down: its record changes, it does not come "up".
    const b = await c.restart(1);
    const caughtUp = await eventually(async () => {
      for (const k of keys) if ((await get(b, k, 'one')).body !== `v-${k}`) return false;
      return true;
    }, 8_000);
    expect(caughtUp).toBe(true);
  });
});
