import { describe, expect, it } from 'vitest';
import {
  compareHlc,
  createPersistentHlc,
  decodeHlc,
  encodeHlc,
  HlcNotStartedError,
  type HlcPersistence,
} from '../../src/crdt/index.ts';

/** In-memory persistence whose saves can be held back to simulate a slow disk or a crash. */
function memory() {
  const state = { saved: undefined as string | undefined, saves: 0, hold: false, held: [] as Array<() => void> };
  const persistence: HlcPersistence = {
    load: async () => state.saved,
    save: (v) =>
      new Promise<void>((resolve) => {
        const commit = () => {
          state.saved = v;
          state.saves++;
          resolve();
        };
        if (state.hold) state.held.push(commit);
        else commit();
      }),
  };
  return { state, persistence };
}

describe('createPersistentHlc', () => {
  it('never issues a smaller timestamp after a crash, even when the physical clock went back', async () => {
    const { state, persistence } = memory();
    let t = 10_000_000;
    const first = createPersistentHlc({ node: 'n', physical: () => t, persistence, windowMs: 1000 });
    await first.start();
    let lastAcked = '';
    for (let i = 0; i < 50; i++) {
      t += 97;
      lastAcked = await first.next();
    }
    // Crash: no stop(), no final save. The restarted daemon's clock is 10 minutes behind.
    t -= 600_000;
    const second = createPersistentHlc({ node: 'n', physical: () => t, persistence, windowMs: 1000 });
    await second.start();
    const after = await second.next();
    expect(compareHlc(after, lastAcked)).toBeGreaterThan(0);
    // The forward jump is bounded by the window.
    expect(decodeHlc(after).wall - decodeHlc(lastAcked).wall).toBeLessThanOrEqual(1000);
    expect(state.saves).toBeLessThan(20); // a ceiling per window, not a save per timestamp
  });

  it('next() waits until the ceiling covering the timestamp is durable', async () => {
    const { state, persistence } = memory();
    let t = 50_000;
    const clock = createPersistentHlc({ node: 'n', physical: () => t, persistence, windowMs: 100 });
    await clock.start();
    state.hold = true;
    t += 1_000; // far past the ceiling
    let resolved = false;
    const pending = clock.next().then((v) => {
      resolved = true;
      return v;
    });
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    state.hold = false;
    for (const commit of state.held.splice(0)) commit();
    const v = await pending;
    expect(decodeHlc(v).wall).toBeLessThan(decodeHlc(clock.ceiling()!).wall);
    expect(decodeHlc(state.saved!).wall).toBeGreaterThan(decodeHlc(v).wall);
  });

  it('keeps the ceiling above observed remote timestamps it then issues after', async () => {
    const { state, persistence } = memory();
    const t = 1_000_000;
    const clock = createPersistentHlc({ node: 'n', physical: () => t, persistence, windowMs: 1000 });
    await clock.start();
    clock.observe(encodeHlc({ wall: t + 30_000, logical: 7, node: 'peer' }));
    const v = await clock.next();
    expect(decodeHlc(v).wall).toBe(t + 30_000);
    expect(decodeHlc(state.saved!).wall).toBeGreaterThan(t + 30_000);
  });

  it('refuses to issue before start and after stop', async () => {
    const { persistence } = memory();
    const clock = createPersistentHlc({ node: 'n', persistence });
    expect(() => clock.now()).toThrow(HlcNotStartedError);
    await clock.start();
    expect(typeof clock.now()).toBe('string');
    await clock.stop();
    await expect(clock.next()).rejects.toThrow(HlcNotStartedError);
  });

  it('reports a failing save through flush', async () => {
    let fail = false;
    const persistence: HlcPersistence = {
      load: async () => undefined,
      save: async () => {
        if (fail) throw new Error('disk full');
      },
    };
    let t = 0;
    const clock = createPersistentHlc({ node: 'n', physical: () => t, persistence, windowMs: 10 });
    await clock.start();
    fail = true;
    t += 1_000;
    await expect(clock.next()).rejects.toThrow('disk full');
    fail = false;
    const v = await clock.next();
    expect(decodeHlc(v).wall).toBe(1_000);
  });
});
