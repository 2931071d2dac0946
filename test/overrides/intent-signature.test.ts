import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { type IntentMove, intentsProblem, signIntents } from '../../src/overrides/intent-signature.ts';

describe('signed move announcements', () => {
  it('takes a fresh announcement its sender signed, and refuses unsigned, forged, altered, replayed and future ones', async () => {
    const [key, other] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const from = peerIdFromPrivateKey(key).toString();
    const m: IntentMove[] = [['k1', ['a', 'b'], ['b', 'c']]];
    const now = 1_800_000_000_000;
    const ttl = 60_000;
    const signed = { m, ttl, at: now, b: 7, sig: signIntents(from, m, ttl, now, 7, key) };
    expect(intentsProblem(from, signed, 600_000, now + 1000)).toBeUndefined();
    expect(intentsProblem(from, { m, ttl }, 600_000, now)).toBe('unsigned');
    // Signed by another key, or the same signature over other moves, another ttl, or claimed by another sender.
    expect(intentsProblem(from, { ...signed, sig: signIntents(from, m, ttl, now, 7, other) }, 600_000, now)).toMatch(
      /not verify/,
    );
    expect(intentsProblem(from, { ...signed, m: [['k1', ['a', 'b'], ['c', 'd']]] }, 600_000, now)).toMatch(
      /not verify/,
    );
    expect(intentsProblem(from, { ...signed, ttl: 600_000 }, 600_000, now)).toMatch(/not verify/);
    expect(intentsProblem(from, { ...signed, b: 8 }, 600_000, now)).toMatch(/not verify/);
    const stranger = peerIdFromPrivateKey(other).toString();
    expect(intentsProblem(stranger, signed, 600_000, now)).toMatch(/not verify/);
    // Replayed after its ttl (plus clock skew), or from the future.
    expect(intentsProblem(from, signed, 600_000, now + ttl + 61_000)).toMatch(/a replay/);
    expect(intentsProblem(from, signed, 600_000, now - 61_000)).toMatch(/future/);
  });
});
