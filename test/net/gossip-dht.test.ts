import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClusterSecret, MessageTooLargeError, type Net, type PeerInfo } from '../../src/net/index.ts';
import { cleanup, startCluster, waitFor } from './helpers.ts';

const TOPIC = '/shoal/test/stats/1';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('gossip and DHT in a 3-node private cluster', () => {
  let nets: Net[];
  const got: Map<string, string[]> = new Map();
  beforeAll(async () => {
    nets = await startCluster(3, { clusterSecret: generateClusterSecret(), gossip: { maxMessageBytes: 1024 } });
    for (const net of nets) {
      const inbox: string[] = [];
      got.set(net.peerId, inbox);
      net.subscribe(TOPIC, (data: Uint8Array, from: PeerInfo) => inbox.push(`${dec(data)}@${from.peerId}`), {
        validate: (data) => !dec(data).startsWith('bad'),
      });
    }
  });
  afterAll(cleanup);

  it('a published message reaches the other two; an invalid one is rejected', async () => {
    const [a, b, c] = nets;
    // gossipsub learns subscriptions asynchronously: publish until both saw one, then check the rest
    await waitFor(async () => {
      await a.publish(TOPIC, enc('hello'));
      return got.get(b.peerId)!.length > 0 && got.get(c.peerId)!.length > 0;
    });
    await a.publish(TOPIC, enc('bad news'));
    await a.publish(TOPIC, enc('after'));
    await waitFor(
      () => got.get(b.peerId)!.includes(`after@${a.peerId}`) && got.get(c.peerId)!.includes(`after@${a.peerId}`),
    );
    for (const net of [b, c]) {
      expect(got.get(net.peerId)!.every((m) => m === `hello@${a.peerId}` || m === `after@${a.peerId}`)).toBe(true);
    }
    expect(got.get(a.peerId)).toEqual([]);
  });

  it('refuses to publish a message over maxMessageBytes', async () => {
    await expect(nets[0].publish(TOPIC, new Uint8Array(2048))).rejects.toBeInstanceOf(MessageTooLargeError);
  });

  it('rate-limits publish without losing messages', async () => {
    const [a, b] = nets;
    const before = got.get(b.peerId)!.length;
    await Promise.all(Array.from({ length: 150 }, (_, i) => a.publish(TOPIC, enc(`burst ${i}`))));
    await waitFor(() => got.get(b.peerId)!.length - before === 150);
  });

  it('dhtPut on one node, dhtGet on the others; the newer value wins', async () => {
    const [a, b, c] = nets;
    const key = enc('partition/17/holders');
    expect(await b.dhtGet(enc('never written'))).toBeUndefined();
    const acks = await a.dhtPut(key, enc('A,B,C'));
    expect(acks).toBeGreaterThan(0);
    expect(dec((await b.dhtGet(key))!)).toBe('A,B,C');
    expect(dec((await c.dhtGet(key))!)).toBe('A,B,C');
    await new Promise((r) => setTimeout(r, 2));
    await c.dhtPut(key, enc('B,C,D'));
    expect(dec((await a.dhtGet(key))!)).toBe('B,C,D');
    expect(dec((await b.dhtGet(key))!)).toBe('B,C,D');
  });
});
