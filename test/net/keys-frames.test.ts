import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { Uint8ArrayList } from 'uint8arraylist';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeVarint, encodeVarint } from '../../src/net/frames.ts';
import {
  generateClusterSecret,
  loadOrCreatePeerKey,
  PEER_KEY_FILE,
  PeerKeyInvalidError,
  ProtocolError,
  parseClusterSecret,
} from '../../src/net/index.ts';
import { cleanup, tempDir } from './helpers.ts';

afterAll(cleanup);

describe('peer key', () => {
  it('is created once with mode 0600 and reused', async () => {
    const dir = await tempDir();
    const first = await loadOrCreatePeerKey(dir);
    expect(first.type).toBe('Ed25519');
    expect((await stat(join(dir, PEER_KEY_FILE))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreatePeerKey(dir);
    expect(again.publicKey.toString()).toBe(first.publicKey.toString());
  });

  it('refuses a corrupt key file instead of silently replacing the identity', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, PEER_KEY_FILE), 'not a key');
    await expect(loadOrCreatePeerKey(dir)).rejects.toBeInstanceOf(PeerKeyInvalidError);
  });
});

describe('cluster secret', () => {
  it('generates distinct swarm.key secrets that parse back unchanged', () => {
    const a = generateClusterSecret();
    expect(new TextDecoder().decode(a)).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/);
    expect(parseClusterSecret(a)).toEqual(a);
    expect(generateClusterSecret()).not.toEqual(a);
  });

  it('accepts CRLF, upper case and a trailing newline; rejects anything else', () => {
    const hex = 'AB'.repeat(32);
    const parsed = parseClusterSecret(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex}\n`));
    expect(new TextDecoder().decode(parsed)).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.toLowerCase()}`);
    expect(() => parseClusterSecret(new TextEncoder().encode('hunter2'))).toThrow(/swarm.key/);
    expect(() =>
      parseClusterSecret(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${'a'.repeat(63)}`)),
    ).toThrow();
  });
});

describe('varint framing', () => {
  it('round-trips every length below 2^32, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(5), (n, cut) => {
        const bytes = encodeVarint(n);
        const list = new Uint8ArrayList(bytes.subarray(0, Math.min(cut, bytes.byteLength)));
        if (cut < bytes.byteLength) expect(decodeVarint(list)).toBeUndefined();
        list.append(bytes.subarray(Math.min(cut, bytes.byteLength)));
        expect(decodeVarint(list)).toEqual([n, bytes.byteLength]);
      }),
    );
  });

  it('rejects a varint longer than 5 bytes', () => {
    expect(() => decodeVarint(new Uint8ArrayList(new Uint8Array(6).fill(0x80)))).toThrow(ProtocolError);
  });
});
