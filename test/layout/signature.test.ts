import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { signEd25519, verifyEd25519 } from '../../src/layout/signature.ts';

describe('Ed25519 signatures on kept key objects', () => {
  it('interoperate with @libp2p/crypto both ways and reject tampering', async () => {
    const key = await generateKeyPair('Ed25519');
    const signer = peerIdFromPrivateKey(key).toString();
    const bytes = new TextEncoder().encode('shoal/test\nhello');
    const sig = signEd25519(key, bytes);
    expect(await key.publicKey.verify(bytes, Buffer.from(sig, 'hex'))).toBe(true);
    const theirs = Buffer.from(await key.sign(bytes)).toString('hex');
    expect(verifyEd25519(signer, bytes, theirs)).toBe(true);
    expect(verifyEd25519(signer, new TextEncoder().encode('shoal/test\nhellO'), sig)).toBe(false);
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    expect(verifyEd25519(other, bytes, sig)).toBe(false);
  });

  it('answers false, never throws, for a malformed signer or signature', async () => {
    const key = await generateKeyPair('Ed25519');
    const bytes = new Uint8Array([1, 2, 3]);
    const sig = signEd25519(key, bytes);
    expect(verifyEd25519('not-a-peer-id', bytes, sig)).toBe(false);
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
    expect(verifyEd25519(secp, bytes, sig)).toBe(false);
    expect(verifyEd25519(peerIdFromPrivateKey(key).toString(), bytes, sig.slice(2))).toBe(false);
  });
});
