/**
 * Fuzzing the admin API (`/admin/*`) of a real in-process daemon (the composition root's own routes: cluster,
 * placement, DSM, layout, stats, PAE) with `inject()`. The routes come from the daemon's route index, not a list
 * kept here. Properties: without the token (none, wrong, malformed) every admin route answers 401
 * `UNAUTHORIZED` and nothing changes; with it, every answer comes within its bound and is catalogue JSON, never
 * a 5xx for bad input (only a join may say that a well-formed address cannot be reached); and the records
 * written before either run are byte for byte the same after both.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../node/config.ts';
import { type Daemon, startDaemon } from '../../node/daemon.ts';
import { routesOf } from '../../src/api/index.ts';
import { generateClusterSecret } from '../../src/net/index.ts';
import { recUrl } from '../support/api-harness.ts';
import { tempDir } from '../support/daemon-process.ts';
import {
  Body,
  expectCatalogueAnswer,
  fuzzRuns,
  fuzzTimeout,
  injectWithin,
  oddBody,
  oddHeaders,
  oddQuery,
  oddSegment,
} from './support.ts';

const TOKEN = 'admin-fuzz-token-0123456789abcdef';
/** A join may wait for its dial (15 s deadline); every other admin call answers at once on one daemon. */
const ANSWER_MS = 5000;
const JOIN_MS = 20_000;
/** Ends the daemon on purpose: not fuzzed (its own tests cover it). */
const SKIP = new Set(['POST /admin/leave']);

let daemon: Daemon;
let selfId = '';
let routes: Array<{ method: string; url: string }> = [];
const records = ['keep/a', 'keep/..', 'keep/é 𝄞'];

const auth = { authorization: `Bearer ${TOKEN}` };
const inject = (req: { method: string; url: string; headers?: Record<string, string>; payload?: string }) =>
  daemon.adminApp.inject(req as InjectOptions);

/** The records as a client reads them. */
async function recordsNow(): Promise<string> {
  const out: unknown[] = [];
  for (const k of records) {
    const r = await inject({ method: 'GET', url: recUrl(k) });
    out.push([r.statusCode, r.rawPayload.toString('base64'), r.headers.etag, r.headers['content-type']]);
  }
  return JSON.stringify(out);
}

/** What an admin client can see of the daemon's state (clocks left out). */
async function adminState(): Promise<string> {
  const get = async (url: string) => (await inject({ method: 'GET', url, headers: auth })).json();
  const { uptimeMs: _u, ...status } = await get('/admin/status');
  const peers = (await get('/admin/peers')).members.map(
    ({ lastSeen: _l, rttMs: _r, ...m }: Record<string, unknown>) => m,
  );
  const { lastCycle: _c, nextCycleAt: _n, ...dsm } = await get('/admin/dsm');
  return JSON.stringify({
    status,
    peers,
    dsm,
    overrides: await get('/admin/overrides'),
    layout: (await get('/admin/layout')).head,
    epochs: await get('/admin/layout/epochs'),
    migrations: await get('/admin/migrations'),
  });
}

/** A route's URL with its `:params` filled with odd segments (and this daemon's id, whole or cut, for peer ids). */
function fillUrl(url: string): fc.Arbitrary<string> {
  const params = url.match(/:[A-Za-z]+/g) ?? [];
  const value = (p: string) =>
    p === ':peerId'
      ? fc.oneof(
          oddSegment,
          fc
            .constantFrom(
              () => selfId,
              () => selfId.slice(-8),
              () => selfId.slice(0, 9),
            )
            .map((f) => f()),
        )
      : fc.oneof(oddSegment, fc.constantFrom(...records.map(encodeURIComponent)));
  return fc.tuple(...params.map(value), oddQuery).map((vals) => {
    let i = 0;
    return url.replace(/:[A-Za-z]+/g, () => String(vals[i++])) + String(vals[params.length]);
  });
}

/** JSON bodies made of the fields admin routes take, with good and hostile values. */
const adminValue = fc.oneof(
  fc.constantFrom('off', 'reactive', 'proactive', 'hybrid', 'bogus', '', 0, -1, 1.5, 2 ** 53, true, null),
  fc.constantFrom(
    '/ip4/127.0.0.1/tcp/1',
    '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGW4NGgUEhf5ubosWE7Wa7gGFKTEyDU591NqGyqZLBpCg',
    '/ip6/::1/tcp/1',
    '/ip4/999.1.1.1/tcp/1',
    '/memory/x',
    'garbage',
    '/',
    '/p2p/nope',
  ),
  fc
    .constantFrom(
      () => [selfId],
      () => [selfId, selfId],
      () => [],
      () => ['nope'],
      () => [selfId.slice(-8)],
    )
    .map((f) => f()),
  fc.array(
    fc.record({ key: fc.oneof(oddSegment, fc.constantFrom('', 'k')), replicas: fc.constantFrom(null, [], ['x']) }),
    { maxLength: 3 },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const adminBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .dictionary(
        fc.constantFrom(
          'policy',
          'multiaddr',
          'replicas',
          'reason',
          'force',
          'allowMissing',
          'placements',
          'toTime',
          'wave',
          'extra',
        ),
        adminValue,
        { maxKeys: 3 },
      )
      .map((o) => new Body(JSON.stringify(o))),
  },
  { weight: 2, arbitrary: oddBody(64 * 1024) },
);

/** Joins get their own share: addresses well-formed and not, reachable and not. */
const multiaddrs = fc.oneof(
  fc.constantFrom(
    '/ip4/127.0.0.1/tcp/1',
    '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGW4NGgUEhf5ubosWE7Wa7gGFKTEyDU591NqGyqZLBpCg',
    '/ip6/::1/tcp/1',
    '/ip4/999.1.1.1/tcp/1',
    '/ip4/127.0.0.1/tcp/99999',
    '/memory/x',
    'garbage',
    '/',
    '//',
    '/p2p/nope',
    '/ip4',
    '/tcp/1',
  ),
  fc.constantFrom(() => `/p2p/${selfId}`).map((f) => f()),
  oddSegment,
);
const json = (v: unknown) => new Body(JSON.stringify(v));
const holders = fc
  .constantFrom(
    () => [selfId],
    () => [selfId.slice(-8)],
    () => [selfId, selfId],
    () => [],
    () => ['nope'],
    () => null,
  )
  .map((f) => f());
const flag = fc.option(fc.boolean(), { nil: undefined });

/** Bodies shaped for each admin route that takes one (mostly well-formed, so requests get past the schema). */
const tameBodies: Record<string, fc.Arbitrary<Body>> = {
  '/admin/join': multiaddrs.map((m) => json({ multiaddr: m })),
  '/admin/dsm/policy': fc
    .constantFrom('off', 'reactive', 'proactive', 'hybrid', 'Hybrid', '')
    .map((policy) => json({ policy })),
  '/admin/records/:key/placement': fc
    .record({
      replicas: holders,
      reason: fc.option(fc.string({ maxLength: 600 }), { nil: undefined }),
      force: flag,
      allowMissing: flag,
    })
    .map(json),
  '/admin/placements': fc
    .record({
      placements: fc.array(fc.record({ key: fc.oneof(fc.constantFrom(...records), oddSegment), replicas: holders }), {
        maxLength: 3,
      }),
      force: flag,
    })
    .map(json),
  '/admin/layout/rollback': fc
    .oneof(
      fc.constantFrom(0, -1, 1.5, Date.now() - 60_000, Date.now() + 1e12).map((toTime) => ({ toTime })),
      fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('', 'w-1')).map((wave) => ({ wave })),
      fc.constant({ toTime: 1, wave: 'w' }),
    )
    .map(json),
  '/admin/members/:peerId/remove': fc.oneof(
    flag.map((force) => json({ force })),
    fc.constant(new Body('null')),
  ),
};
const bodyFor = (url: string): fc.Arbitrary<Body | undefined> =>
  tameBodies[url] ? fc.oneof({ weight: 3, arbitrary: tameBodies[url] }, adminBody) : adminBody;

const adminRequest = (withToken: boolean) =>
  fc
    .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.nat(5))
    .chain(([i, join]) => {
      const r = join === 0 ? { method: 'POST', url: '/admin/join' } : routes[i % routes.length];
      return fc.record({
        method: fc.oneof(
          { weight: 6, arbitrary: fc.constant(r.method) },
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
        ),
        url: fillUrl(r.url),
        headers: fc
          .tuple(
            oddHeaders,
            fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', undefined),
          )
          .map(([h, ct]) => {
            const { authorization: wrong, ...rest } = h;
            const out: Record<string, string> = ct ? { ...rest, 'content-type': ct } : rest;
            if (withToken) out.authorization = `Bearer ${TOKEN}`;
            else if (wrong !== undefined && wrong !== `Bearer ${TOKEN}`) out.authorization = wrong;
            return out;
          }),
        payload: fc.option(bodyFor(r.url), { nil: undefined, freq: 4 }),
      });
    })
    .filter((r) => !SKIP.has(`${r.method} ${r.url.split('?')[0]}`));

/** Whether `method url` reaches a registered admin route (HEAD: its GET), matched as the router does. */
function reachesRoute(method: string, url: string): boolean {
  // The path as the server gets it: inject() (as browsers) resolves `..`, turns `\` into `/`, drops `#...`.
  const path = new URL(url, 'http://daemon').pathname;
  const m = method === 'HEAD' ? 'GET' : method;
  return routes.some((r) => r.method === m && new RegExp(`^${r.url.replace(/:[A-Za-z]+/g, '[^/]+')}$`).test(path));
}

/** Whether a join request names a well-formed multiaddr (which may then be unreachable: 503 is an honest answer). */
function wellFormedJoin(req: { url: string; payload?: Body }): boolean {
  if (!req.url.startsWith('/admin/join') || req.payload === undefined) return false;
  try {
    const address = (JSON.parse(req.payload.bytes.toString()) as { multiaddr?: unknown }).multiaddr;
    return typeof address === 'string' && multiaddr(address).toString() !== '/';
  } catch {
    return false;
  }
}

let recordsBefore = '';
beforeAll(async () => {
  const dir = tempDir('shoal-fuzz-admin-');
  writeFileSync(join(dir, 'token'), TOKEN);
  writeFileSync(join(dir, 'cluster.key'), generateClusterSecret());
  const args = ['--data-dir', join(dir, 'data'), '--http-port', '0', '--dsm-policy', 'off'];
  const cfg = resolveConfig(
    [...args, '--admin-token-file', join(dir, 'token'), '--cluster-secret', join(dir, 'cluster.key')],
    {},
  );
  daemon = await startDaemon(cfg, pino({ level: 'silent' }));
  selfId = (await inject({ method: 'GET', url: '/admin/status', headers: auth })).json().peerId;
  routes = routesOf(daemon.adminApp).filter(
    (r) => r.url.startsWith('/admin') && r.method !== 'HEAD' && !SKIP.has(`${r.method} ${r.url}`),
  );
  for (const k of records) {
    const res = await inject({
      method: 'PUT',
      url: recUrl(k),
      payload: `value of ${k}`,
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(201);
  }
  recordsBefore = await recordsNow();
}, 30_000);
afterAll(async () => daemon?.stop());

describe('admin API under hostile input', () => {
  it('the route index is the daemon\'s own (a broken one must not pass as "nothing to fuzz")', () => {
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /admin/join', 'PUT /admin/dsm/policy', 'POST /admin/placements']),
    );
  });

  it(
    'without the token every admin route answers 401 UNAUTHORIZED, and nothing changes',
    async () => {
      const before = await adminState();
      await fc.assert(
        fc.asyncProperty(adminRequest(false), async (req) => {
          const what = `${req.method} ${req.url.slice(0, 200)}`;
          const res = await injectWithin(daemon.adminApp, { ...req, payload: req.payload?.bytes }, ANSWER_MS);
          const code = expectCatalogueAnswer(res, what);
          // Only what never reaches a route may answer otherwise (no such path or method: 404 or 405, after the body
          // was parsed); a URL that is not UTF-8 is refused before routing (400 INVALID_KEY).
          expect(res.statusCode, `${what}: ${res.body}`).toBeGreaterThanOrEqual(400);
          if (reachesRoute(req.method, req.url)) {
            if (req.method === 'HEAD') expect([401, 400], what).toContain(res.statusCode);
            else expect(['UNAUTHORIZED', 'INVALID_KEY'], `${what}: ${res.body}`).toContain(code);
          }
        }),
        fuzzRuns(0x5eed_0006, 300),
      );
      expect(await adminState()).toBe(before);
      expect(await recordsNow()).toBe(recordsBefore);
    },
    fuzzTimeout(30_000),
  );

  it(
    'with the token, bad input gets a catalogue 4xx in time, never a 5xx, and the records stay as they were',
    async () => {
      await fc.assert(
        fc.asyncProperty(adminRequest(true), async (req) => {
          const join = req.url.startsWith('/admin/join');
          const res = await injectWithin(
            daemon.adminApp,
            { ...req, payload: req.payload?.bytes },
            join ? JOIN_MS : ANSWER_MS,
          );
          // A well-formed address that nothing answers on is the one 5xx a client may get here.
          const unreachable = wellFormedJoin(req) ? (['REPLICAS_UNAVAILABLE', 'TIMEOUT'] as const) : [];
          expectCatalogueAnswer(res, `${req.method} ${req.url.slice(0, 200)}`, unreachable);
        }),
        fuzzRuns(0x5eed_0007, 400),
      );
      expect(await recordsNow()).toBe(recordsBefore);
      expect((await inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    },
    fuzzTimeout(60_000),
  );
});
