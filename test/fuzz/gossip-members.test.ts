/**
 * Fuzzing the member records a daemon receives (src/net/member-codec.ts, src/net/membership.ts): its own
 * record a member gossips, and the member lists exchanged on every new connection. The membership runs as a
 * unit over fakes of libp2p, the RPC and the gossip, with fake timers for its failure detector. Hostile
 * messages: random bytes, valid messages cut short or with a byte changed, and forged ones (a record with one
 * field wrong, another member's name). Properties: decoding throws only the protocol error; the gossip
 * validator never throws; a message it refuses, or an exchange that fails, leaves the member list as it was;
 * and after any message the ring can still be built from the members and the failure detector still ticks.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShoalError } from '../../src/errors/index.ts';
import type { NetCore, PeerInfo } from '../../src/net/core.ts';
import type { Gossip } from '../../src/net/gossip.ts';
import { decodeMembers, type MemberInfo } from '../../src/net/member-codec.ts';
import type { MembersFile } from '../../src/net/members-store.ts';
import { DEFAULT_TIMINGS, Membership } from '../../src/net/membership.ts';
import type { Rpc } from '../../src/net/rpc.ts';
import { createRing } from '../../src/ring/index.ts';
import { fuzzRuns } from './support.ts';

type Handler = (data: Uint8Array, from: PeerInfo) => unknown;

/** Peer ids: this daemon, two members it knows, one stranger. */
let SELF = '';
let A = '';
let B = '';
let C = '';
beforeAll(async () => {
  [SELF, A, B, C] = await Promise.all(
    [0, 1, 2, 3].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()),
  );
});
afterEach(() => {
  vi.useRealTimers();
});

const record = (peerId: string, over: Partial<MemberInfo> = {}): MemberInfo => ({
  peerId,
  zone: `zone-${peerId.slice(-2)}`,
  capacity: 1,
  storeKind: 'level',
  apiUrl: 'http://127.0.0.1:7070',
  multiaddrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${peerId}`],
  joinedAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_001,
  ...over,
});
const bytesOf = (msg: unknown) => new TextEncoder().encode(JSON.stringify(msg));

/** Message bytes that print as their text in a counterexample. */
class Msg extends Uint8Array {
  [fc.toStringMethod](): string {
    return `Msg(${JSON.stringify(Buffer.from(this).toString('latin1'))})`;
  }
}
const msg = (b: Uint8Array) => new Msg(b);

/** A daemon's membership over fakes; it already knows A (up, directly) and B (through A). */
async function daemon() {
  let announce: Handler | undefined;
  let gossip: Handler | undefined;
  let validate: ((data: Uint8Array, from: PeerInfo) => boolean) | undefined;
  const core = {
    libp2p: {
      peerStore: { merge: async () => undefined },
      services: { ping: { ping: async () => Promise.reject(new Error('no one answers')) } },
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    },
    logger: pino({ level: 'silent' }),
    faults: { isBlocked: () => false },
    selfZone: 'z1',
    bulkTls: undefined,
    zoneOf: () => undefined,
  } as unknown as NetCore;
  const rpc = {
    handle: async (_p: string, h: Handler) => {
      announce = h;
    },
    request: async () => Promise.reject(new Error('unreachable')),
  } as unknown as Rpc;
  const pubsub = {
    subscribe: (_t: string, h: Handler, o: { validate: typeof validate }) => {
      gossip = h;
      validate = o.validate;
      return () => undefined;
    },
    publish: async () => undefined,
  } as unknown as Gossip;
  const file = { track: () => undefined, changed: () => undefined } as unknown as MembersFile;
  const m = new Membership({
    core,
    rpc,
    gossip: pubsub,
    events: new EventTarget(),
    timings: DEFAULT_TIMINGS,
    topic: 'members',
    file,
    self: record(SELF),
  });
  await m.start([]);
  await announce!(bytesOf({ self: record(A), known: [record(B)] }), { peerId: A, zone: undefined });
  return { m, announce: announce!, gossip: gossip!, validate: validate! };
}

/** The member list without its clocks (lastSeen moves on its own). */
const view = (m: Membership) => JSON.stringify(m.members().map(({ lastSeen: _l, ...rest }) => rest));

/** What the replication does with the member list on every change (src/replication/cluster-ring.ts). */
const buildRing = (m: Membership) =>
  createRing({
    partitions: 64,
    replicas: 3,
    members: m.members().map((x) => ({ id: x.peerId, zone: x.zone, capacity: x.capacity })),
  });

const hostileValue = fc.oneof(
  // what the ring and the dialer choke on, most often
  { weight: 3, arbitrary: fc.constantFrom('', 0, -1) },
  fc.constantFrom('not-a-peer-id', '12D3KooWExample', 'Qm', 'x'.repeat(129), ' ', '\u0000'),
  fc.constantFrom(0, -1, 1e308, Number.NaN, 2 ** 53, 1.5, -0),
  fc.constantFrom(null, true, [], {}, ['/not/a/multiaddr'], Array(65).fill('/ip4/1.2.3.4/tcp/1')),
  fc.jsonValue({ maxDepth: 1 }),
);
/** The fields the ring and the failure detector read most often, the rest now and then. */
const field = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<keyof MemberInfo>('peerId', 'zone', 'capacity') },
  fc.constantFrom<keyof MemberInfo>(
    'storeKind',
    'apiUrl',
    'multiaddrs',
    'joinedAt',
    'updatedAt',
    'usedBytes',
    'limitBytes',
  ),
);
/** A member message: self and known records of known and unknown peers, some with one field set to a hostile value. */
const forged = fc
  .record({
    from: fc.constantFrom(
      () => A,
      () => C,
    ),
    self: fc.constantFrom(
      () => A,
      () => B,
      () => C,
    ),
    known: fc.array(
      fc.constantFrom(
        () => B,
        () => C,
        () => SELF,
      ),
      { maxLength: 3 },
    ),
    wrong: fc.array(fc.record({ index: fc.nat(2), field, value: hostileValue }), { maxLength: 2 }),
    newer: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  })
  .map(({ from, self, known, wrong, newer }) => {
    const over = newer ? { updatedAt: 1_800_000_000_000 } : {};
    const records: Record<string, unknown>[] = [self(), ...known.map((k) => k())].map((id) => ({
      ...record(id, over),
    }));
    for (const w of wrong) if (records[w.index]) records[w.index][w.field] = w.value;
    return { bytes: msg(bytesOf({ self: records[0], known: records.slice(1) })), from: from() };
  });

const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => ({ bytes: msg(b), from: A })),
  fc.tuple(fc.nat(), fc.nat(255)).map(([at, byte]) => {
    const b = bytesOf({ self: record(A, { updatedAt: 1_800_000_000_000 }), known: [record(B)] });
    b[at % b.length] = byte;
    return { bytes: msg(b), from: A };
  }),
  fc.nat().map((cut) => {
    const b = bytesOf({ self: record(A), known: [record(C)] });
    return { bytes: msg(b.subarray(0, cut % b.length)), from: A };
  }),
  forged,
  forged,
);

describe('member records under hostile input', () => {
  it('decoding throws only the protocol error, never a TypeError out of a field', () => {
    fc.assert(
      fc.property(hostile, ({ bytes }) => {
        try {
          decodeMembers(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(ShoalError);
          expect((err as ShoalError).code).toBe('PROTOCOL_ERROR');
        }
      }),
      fuzzRuns(0x5eed_0004, 500),
    );
  });

  it('gossip and exchanges: a refused message changes nothing; after any, the ring builds and the detector ticks', async () => {
    vi.useFakeTimers({ now: 1_750_000_000_000 });
    await fc.assert(
      fc.asyncProperty(hostile, async ({ bytes, from }) => {
        const d = await daemon();
        try {
          const peer = { peerId: from, zone: undefined };
          const before = view(d.m);
          const ok = d.validate(bytes, peer);
          try {
            d.gossip(bytes, peer);
          } catch (err) {
            expect(err).toBeInstanceOf(ShoalError);
          }
          if (!ok) expect(view(d.m), 'a refused gossip message').toBe(before);
          const mid = view(d.m);
          const exchanged = await Promise.resolve(d.announce(bytes, peer)).then(
            () => true,
            (err: unknown) => {
              expect(err).toBeInstanceOf(ShoalError);
              return false;
            },
          );
          if (!exchanged) expect(view(d.m), 'a failed exchange').toBe(mid);
          expect(() => buildRing(d.m), 'the ring from the member list').not.toThrow();
          expect(
            () => vi.advanceTimersByTime(DEFAULT_TIMINGS.pingIntervalMs * 2),
            'the failure detector',
          ).not.toThrow();
        } finally {
          d.m.stop();
        }
      }),
      fuzzRuns(0x5eed_0005, 300),
    );
  });
});
