/**
 * The cluster's migrations (node/cluster-migrations.ts): the union of every member's moves, each with its
 * coordinator, over the real request handler and a net that routes requests to it in memory.
 */
import { describe, expect, it } from 'vitest';
import {
  clusterMigrations,
  isMigration,
  MIGRATIONS_PROTOCOL,
  mergeMigrations,
  parseMigrationsAnswer,
  serveMigrations,
} from '../../node/cluster-migrations.ts';
import type { Dsm, Migration } from '../../src/dsm/index.ts';
import { ShoalError } from '../../src/errors/index.ts';
import type { Member, Net, RequestHandler } from '../../src/net/index.ts';
import { DONE, FAILED, FakeDsm, IN_FLIGHT, PEERS } from '../support/dsm-fake.ts';

const enc = new TextEncoder();
const bytesOf = (v: unknown) => enc.encode(JSON.stringify(v));
const move = (id: string, over: Partial<Migration> = {}): Migration => ({ ...DONE, id, wave: id, ...over });

/** A DSM whose migrations are `view` (the fake's other answers unused here). */
class ListedDsm extends FakeDsm {
  readonly view: { inFlight: Migration[]; history: Migration[] };
  constructor(view: { inFlight: Migration[]; history: Migration[] }) {
    super();
    this.view = view;
  }
  override migrations(q?: { limit?: number }) {
    return { inFlight: this.view.inFlight, history: this.view.history.slice(0, q?.limit ?? 100) };
  }
}

type Peer = { id: string; zone: string; status: Member['status']; dsm?: Dsm; answer?: Uint8Array; fail?: Error };

/**
 * The members as `net.members()` lists them, `self` first; a request to a peer runs the handler that peer
 * registered with serveMigrations (or answers `answer`, or fails with `fail`).
 */
async function cluster(peers: Peer[]) {
  const handlers = new Map<string, RequestHandler>();
  const asked: string[] = [];
  const netOf = (self: Peer) =>
    // Only what the migrations code calls: members(), handle() and request().
    ({
      members: () => peers.map((p) => ({ peerId: p.id, zone: p.zone, status: p.status, self: p === self })),
      handle: async (protocol: string, h: RequestHandler) => {
        expect(protocol).toBe(MIGRATIONS_PROTOCOL);
        handlers.set(self.id, h);
      },
      request: async (peer: string, protocol: string, req: Uint8Array, opts: { signal?: AbortSignal }) => {
        expect(protocol).toBe(MIGRATIONS_PROTOCOL);
        asked.push(peer);
        const p = peers.find((x) => x.id === peer)!;
        if (p.fail) throw p.fail;
        if (p.answer) return p.answer;
        return handlers.get(peer)!(req, { peerId: self.id } as never, {
          signal: opts.signal ?? new AbortController().signal,
        });
      },
    }) as unknown as Net;
  for (const p of peers) if (p.dsm) await serveMigrations(netOf(p), () => p.dsm);
  return {
    query: clusterMigrations(
      () => netOf(peers[0]),
      () => peers[0].dsm,
    ),
    asked,
  };
}

describe('the cluster migrations query', () => {
  it("merges every member's moves with its coordinator, and names the members that did not answer", async () => {
    const a1 = move('w-a/1', { startedAt: 100, endedAt: 400 });
    const b1 = move('w-b/1', { startedAt: 200, endedAt: 300 });
    const b2 = move('w-b/2', { startedAt: 250, endedAt: 500, state: 'failed', error: 'timed out' });
    const bIn = { ...IN_FLIGHT, id: 'w-b/3', startedAt: 50 };
    const { query, asked } = await cluster([
      { id: PEERS.A, zone: 'eu', status: 'up', dsm: new ListedDsm({ inFlight: [IN_FLIGHT], history: [a1] }) },
      { id: PEERS.B, zone: 'us', status: 'up', dsm: new ListedDsm({ inFlight: [bIn], history: [b2, b1] }) },
      { id: PEERS.C, zone: 'ap', status: 'suspect', fail: new ShoalError('TIMEOUT', 'no answer within 4 s') },
      { id: PEERS.E, zone: 'ap', status: 'down' },
    ]);
    const got = await query({ limit: 100, signal: AbortSignal.timeout(5000) });
    expect(asked.sort()).toEqual([PEERS.B, PEERS.C].sort()); // not itself, not the down member
    expect(got.inFlight).toEqual([
      { ...bIn, coordinator: PEERS.B },
      { ...IN_FLIGHT, coordinator: PEERS.A },
    ]);
    // Most recent end first, across members.
    expect(got.history.map((m) => [m.id, m.coordinator])).toEqual([
      ['w-b/2', PEERS.B],
      ['w-a/1', PEERS.A],
      ['w-b/1', PEERS.B],
    ]);
    expect(got.history[0]).toMatchObject({ state: 'failed', error: 'timed out' });
    expect(got.daemons).toEqual([
      { peerId: PEERS.C, zone: 'ap', answered: false, error: 'TIMEOUT: no answer within 4 s', inFlight: 0, history: 0 },
      { peerId: PEERS.E, zone: 'ap', answered: false, error: 'down: not asked', inFlight: 0, history: 0 },
      { peerId: PEERS.A, zone: 'eu', answered: true, inFlight: 1, history: 1 },
      { peerId: PEERS.B, zone: 'us', answered: true, inFlight: 1, history: 2 },
    ]);
    // The limit holds for the union, and reaches the members.
    const one = await query({ limit: 1, signal: AbortSignal.timeout(5000) });
    expect(one.history.map((m) => m.id)).toEqual(['w-b/2']);
  });

  it("reports a malformed answer as that member's error, and a member whose DSM is still starting", async () => {
    const { query } = await cluster([
      { id: PEERS.A, zone: 'eu', status: 'up', dsm: new ListedDsm({ inFlight: [], history: [DONE] }) },
      {
        id: PEERS.B,
        zone: 'us',
        status: 'up',
        answer: bytesOf({ inFlight: [], history: [{ ...DONE, state: 'gone' }] }),
      },
      { id: PEERS.C, zone: 'us', status: 'up', answer: enc.encode('<html>') },
    ]);
    const got = await query({ limit: 10, signal: AbortSignal.timeout(5000) });
    expect(got.history).toEqual([{ ...DONE, coordinator: PEERS.A }]);
    expect(got.daemons.filter((d) => !d.answered).map((d) => [d.peerId, d.error])).toEqual([
      [PEERS.B, 'PROTOCOL_ERROR: migrations answer: malformed history'],
      [PEERS.C, 'PROTOCOL_ERROR: migrations answer is not JSON'],
    ]);
    // A member still starting answers NOT_READY through the handler.
    let handler: RequestHandler | undefined;
    await serveMigrations(
      {
        handle: async (_p: string, h: RequestHandler) => {
          handler = h;
        },
      } as unknown as Net,
      () => undefined,
    );
    await expect(
      handler!(bytesOf({ limit: 5 }), {} as never, { signal: new AbortController().signal }),
    ).rejects.toThrow(expect.objectContaining({ code: 'NOT_READY' }));
  });
});

describe("a member's answer", () => {
  it('accepts every field of a move, optional ones absent or present', () => {
    for (const m of [DONE, FAILED, IN_FLIGHT, { ...DONE, checksum: 'ab'.repeat(32), gainMs: 1.5 }])
      expect(isMigration(m), m.id).toBe(true);
  });

  it('refuses a move with a field missing or of the wrong type, and lists beyond the limit', () => {
    const bad: Array<[string, unknown]> = [
      ['no key', { ...DONE, key: undefined }],
      ['unknown state', { ...DONE, state: 'gone' }],
      ['unknown kind', { ...DONE, kind: 'teleport' }],
      ['holders not strings', { ...DONE, to: [1, 2] }],
      ['fractional bytes', { ...DONE, bytes: 1.5 }],
      ['epoch without hash', { ...DONE, epoch: { scope: 'partition:1', number: 1 } }],
      ['not an object', 'done'],
    ];
    for (const [why, m] of bad) expect(isMigration(m), why).toBe(false);
    expect(() => parseMigrationsAnswer(bytesOf({ inFlight: [], history: [DONE, DONE] }), 1)).toThrow(
      /malformed history/,
    );
    expect(() => parseMigrationsAnswer(bytesOf({ history: [] }), 1)).toThrow(/malformed inFlight/);
    expect(parseMigrationsAnswer(bytesOf({ inFlight: [IN_FLIGHT], history: [DONE] }), 1)).toEqual({
      inFlight: [IN_FLIGHT],
      history: [DONE],
    });
  });

  it('keeps a move listed twice once', () => {
    const m = mergeMigrations(
      [
        { peerId: PEERS.A, zone: 'eu', view: { inFlight: [], history: [DONE] } },
        { peerId: PEERS.B, zone: 'us', view: { inFlight: [], history: [DONE] } },
      ],
      10,
    );
    expect(m.history).toHaveLength(1);
  });
});
