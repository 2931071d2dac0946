/**
 * Fuzzing the data API (`/v1/records`, `/v1/batch`, the listing, and whatever path a client makes up) in
 * process with `app.inject()`. Properties, for every request: an answer comes within a bound; a failure is
 * catalogue JSON (`{ code, message }`, the code's own status) and never a 5xx; and the records written before
 * the run are byte for byte what they were after it (the fuzzer writes only other keys, and only reads those).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { type ApiHarness, apiHarness, recUrl } from '../support/api-harness.ts';
import {
  Body,
  expectCatalogueAnswer,
  fuzzRuns,
  fuzzTimeout,
  injectWithin,
  oddBody,
  oddHeaders,
  oddKey,
  oddQuery,
  oddSegment,
} from './support.ts';

/** Small limits keep big bodies cheap; the same code paths run at the default 16 MiB. */
const LIMIT = 256 * 1024;
const MAX_OPS = 50;
/** The prefix of the records the fuzzer must not change (no generator makes a snowman by chance often). */
const KNOWN = 'known\u2603/';
const ANSWER_MS = 5000;

type Method = 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'DELETE' | 'POST' | 'OPTIONS';
interface Req {
  method: Method;
  url: string;
  headers: Record<string, string>;
  payload?: Body;
}

const known: Array<{ key: string; body: Buffer; type: string; doc?: boolean }> = [
  { key: `${KNOWN}blob`, body: Buffer.from([0, 255, 1, 254, 0x0d, 0x0a, 0x25, 0x32]), type: 'image/jpeg' },
  { key: `${KNOWN}..`, body: Buffer.from('dot dot'), type: 'text/plain; charset=utf-8' },
  { key: `${KNOWN}%41 é/𝄞?#`, body: Buffer.from('odd key'), type: 'application/octet-stream' },
  { key: `${KNOWN}${'x'.repeat(1000)}`, body: Buffer.alloc(4096, 7), type: 'application/x-anything' },
  { key: `${KNOWN}empty`, body: Buffer.alloc(0), type: 'text/plain' },
  {
    key: `${KNOWN}doc`,
    body: Buffer.from('{"name":"Ada","nested":{"city":"Oslo","tags":[1,2]}}'),
    type: 'application/json',
    doc: true,
  },
];

let h: ApiHarness;
let before: string;

/** Every known record as a client sees it: value bytes and headers, metadata, Yjs state, and the listing. */
async function snapshot(): Promise<string> {
  const out: unknown[] = [];
  for (const k of known) {
    const get = await h.app.inject({ method: 'GET', url: recUrl(k.key) });
    const meta = await h.app.inject({ method: 'GET', url: recUrl(k.key, '?meta=1') });
    const yjs = k.doc
      ? (
          await h.app.inject({
            method: 'GET',
            url: recUrl(k.key),
            headers: { accept: 'application/vnd.shoal.yjs-state' },
          })
        ).rawPayload.toString('base64')
      : undefined;
    const { etag, 'content-type': type, 'x-shoal-checksum': sum, 'last-modified': lm } = get.headers;
    out.push({
      status: get.statusCode,
      value: get.rawPayload.toString('base64'),
      etag,
      type,
      sum,
      lm,
      meta: meta.json(),
      yjs,
    });
  }
  const list = await h.app.inject({ method: 'GET', url: `/v1/records?prefix=${encodeURIComponent(KNOWN)}&limit=1000` });
  out.push(list.json());
  return JSON.stringify(out);
}

/** Decodes every valid `%XX` run of a path (as a router would), leaving broken ones as they are. */
const looseDecode = (s: string) =>
  s.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });

/** A batch whose ops touch a known key turns those ops into gets; other bodies that name one become reads. */
function guardBatch(req: Req): Req {
  const text = req.payload?.bytes.toString() ?? '';
  if (!text.includes(KNOWN)) return req;
  try {
    const parsed = JSON.parse(text) as { ops?: unknown };
    if (parsed && typeof parsed === 'object' && Array.isArray(parsed.ops)) {
      const ops = parsed.ops.map((o: unknown) =>
        JSON.stringify(o).includes(KNOWN) ? { op: 'get', key: (o as { key?: unknown }).key } : o,
      );
      return { ...req, payload: new Body(JSON.stringify({ ...parsed, ops })) };
    }
  } catch {
    // not JSON, or too deep to walk: read-only below
  }
  return { ...req, method: 'GET' };
}

/** Mutations never reach a known record: such a request becomes a GET (reads of them are fuzzed on purpose). */
function guard(req: Req): Req {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return req;
  if (req.url.startsWith('/v1/batch')) return guardBatch(req);
  return looseDecode(req.url).includes(KNOWN) ? { ...req, method: 'GET' } : req;
}

const method = fc.constantFrom<Method>('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS');
const body = oddBody(LIMIT);

/** A Yjs update of a doc whose maps (built level by level, as a client can) or plain arrays nest `depth` deep. */
function deepYjs(depth: number, kind: 'maps' | 'arrays'): Body {
  const doc = new Y.Doc();
  let map = doc.getMap('root');
  if (kind === 'maps') {
    for (let i = 0; i < depth; i++) {
      const next = new Y.Map();
      map.set('a', next);
      map = next;
    }
  } else {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    map.set('a', v);
  }
  return new Body(Buffer.from(Y.encodeStateAsUpdate(doc)), `deepYjs(${depth}, ${kind})`);
}

/** A real Yjs update of a small doc, whole, cut short, or with a byte changed; or a deep one. */
const yjsUpdate = fc
  .tuple(
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.nat(),
    fc.nat(255),
    fc.constantFrom('whole', 'cut', 'flip'),
  )
  .map(([json, at, byte, how]) => {
    const doc = new Y.Doc();
    const root = doc.getMap('root');
    for (const [k, v] of Object.entries(json)) root.set(k, v);
    const update = Buffer.from(Y.encodeStateAsUpdate(doc));
    const i = at % Math.max(1, update.length);
    if (how === 'cut') return new Body(update.subarray(0, i), `yjs cut at ${i}`);
    if (how === 'flip') {
      update[i] = byte;
      return new Body(update, `yjs byte ${i} = ${byte}`);
    }
    return new Body(update, `yjs ${JSON.stringify(json)}`);
  });
const yjsBody = fc.oneof(
  { weight: 3, arbitrary: yjsUpdate },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 90, max: 3000 }), fc.constantFrom<'maps' | 'arrays'>('maps', 'arrays'))
      .map(([d, k]) => deepYjs(d, k)),
  },
);

/** A few keys every kind of request shares, so writes, patches, deletes and reads of one record interleave. */
const poolKey = fc.constantFrom('pool/a', 'pool/b', 'pool/..', 'pool/%', 'pool/é');

/** One batch operation: mostly well-formed (so whole batches apply), sometimes wrong in one field. */
const batchOp = fc
  .tuple(
    fc.record(
      {
        op: fc.constantFrom('put', 'put', 'get', 'delete'),
        key: fc.oneof(
          { weight: 3, arbitrary: poolKey },
          { weight: 2, arbitrary: oddKey },
          fc.constantFrom(...known.map((k) => k.key)),
        ),
        value: fc.oneof(
          { weight: 8, arbitrary: fc.string({ maxLength: 40 }) },
          fc.constantFrom('////', '=', 'not base64!', 'x'.repeat(LIMIT + 1)),
        ),
        encoding: fc.constantFrom('utf8', 'base64'),
        contentType: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: ['op', 'key', 'value'] },
    ),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      fc.record({
        field: fc.constantFrom('op', 'key', 'encoding', 'value', 'extra'),
        to: fc.jsonValue({ maxDepth: 1 }),
      }),
    ),
  )
  .map(([op, wrong]) => (wrong === null ? op : { ...op, [wrong.field]: wrong.to }));
const batchBody = fc.oneof(
  { weight: 4, arbitrary: fc.array(batchOp, { maxLength: 5 }).map((ops) => new Body(JSON.stringify({ ops }))) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_OPS, max: MAX_OPS + 2 })
      .map(
        (n) =>
          new Body(
            JSON.stringify({ ops: Array.from({ length: n }, (_, i) => ({ op: 'get', key: `n${i}` })) }),
            `${n} gets`,
          ),
      ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => new Body(JSON.stringify(v))) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '{"ops":null}',
        '{"ops":{}}',
        '{"ops":[null]}',
        '{"ops":[[]]}',
        '{"ops":[{"op":"put","key":"k"}]}',
        '{"ops":[],"x":1}',
      )
      .map((s) => new Body(s)),
  },
);

const request: fc.Arbitrary<Req> = fc.oneof(
  // the shared pool: a record's life (blob, doc, patch, conditional write, delete) in any order
  fc.record({
    method: fc.constantFrom<Method>('GET', 'HEAD', 'PUT', 'PUT', 'PATCH', 'DELETE'),
    url: fc.tuple(poolKey, oddQuery).map(([k, q]) => recUrl(k, q)),
    headers: oddHeaders,
    payload: fc.oneof(body, yjsBody),
  }),
  // a record route, any method, any key and query
  fc.record({
    method,
    url: fc.tuple(oddSegment, oddQuery).map(([s, q]) => `/v1/records/${s}${q}`),
    headers: oddHeaders,
    payload: body,
  }),
  // doc writes: JSON docs, merge patches and Yjs updates, deep and malformed ones included
  fc.record({
    method: fc.constantFrom<Method>('PUT', 'PATCH'),
    url: fc
      .tuple(oddKey, fc.constantFrom('?type=doc', '', '?type=doc&consistency=all'))
      .map(([k, q]) => `/v1/records/doc-${encodeURIComponent(k.replace(/[\ud800-\udfff]/g, ''))}${q}`),
    headers: fc
      .tuple(
        oddHeaders,
        fc.constantFrom('application/json', 'application/merge-patch+json', 'application/vnd.shoal.yjs-update'),
      )
      .map(([hd, ct]) => ({ ...hd, 'content-type': ct })),
    payload: fc.oneof(body, yjsBody),
  }),
  // reads (and conditional reads) of the known records, any query and headers
  fc.record({
    method: fc.constantFrom<Method>('GET', 'HEAD'),
    url: fc.tuple(fc.constantFrom(...known.map((k) => k.key)), oddQuery).map(([k, q]) => recUrl(k, q)),
    headers: oddHeaders,
  }),
  // the listing
  fc.record({ method, url: oddQuery.map((q) => `/v1/records${q}`), headers: oddHeaders }),
  // batches
  fc.record({
    method: fc.constantFrom<Method>('POST', 'POST', 'POST', 'PUT', 'GET'),
    url: fc
      .oneof(fc.constantFrom('', '', '?consistency=one', '?consistency=all'), oddQuery)
      .map((q) => `/v1/batch${q}`),
    headers: fc
      .tuple(oddHeaders, fc.constantFrom('application/json', 'application/json', 'text/plain', undefined))
      .map(([hd, ct]) => (ct ? { ...hd, 'content-type': ct } : hd)),
    payload: fc.oneof({ weight: 3, arbitrary: batchBody }, body),
  }),
  // paths nobody serves, or that look like ours
  fc.record({
    method,
    url: fc
      .tuple(
        fc.constantFrom('', '/v1', '/v1/records', '/v1/records/a', '/v1//records', '/admin', '/v2'),
        fc.array(oddSegment, { maxLength: 3 }),
        oddQuery,
      )
      .map(([p, segs, q]) => `${p}/${segs.join('/')}${q}`),
    headers: oddHeaders,
    payload: body,
  }),
);

beforeAll(async () => {
  h = await apiHarness({ maxValueBytes: LIMIT, maxBatchOps: MAX_OPS });
  for (const k of known) {
    const res = await h.app.inject({
      method: 'PUT',
      url: recUrl(k.key, k.doc ? '?type=doc' : ''),
      payload: k.body,
      headers: { 'content-type': k.type },
    });
    expect(res.statusCode, k.key).toBe(201);
  }
  before = await snapshot();
});
afterAll(async () => h?.close());

describe('data API under hostile input', () => {
  it(
    'answers every request in time with a catalogue code (never 5xx), and the known records stay as they were',
    async () => {
      let answered = 0;
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(request, async (raw) => {
          const req = guard(raw);
          const what = `${req.method} ${req.url.slice(0, 200)}`;
          const res = await injectWithin(h.app, { ...req, payload: req.payload?.bytes }, ANSWER_MS);
          const code = expectCatalogueAnswer(res, what) ?? String(res.statusCode);
          seen.set(`${req.method} ${code}`, (seen.get(`${req.method} ${code}`) ?? 0) + 1);
          if (
            res.statusCode < 300 &&
            String(res.headers['content-type']).startsWith('application/json') &&
            req.method !== 'HEAD'
          )
            expect(() => JSON.parse(res.body), `${what}: 2xx JSON`).not.toThrow();
          answered++;
        }),
        fuzzRuns(0x5eed_0001, 400),
      );
      expect(answered).toBeGreaterThan(0);
      // SHOAL_FUZZ_STATS=1: what the run reached (method and answer), to judge the generators.
      if (process.env.SHOAL_FUZZ_STATS)
        console.log(
          [...seen]
            .sort()
            .map(([k, n]) => `${k}: ${n}`)
            .join('\n'),
        );
      expect(await snapshot()).toBe(before);
      expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    },
    fuzzTimeout(30_000),
  );

  it('a check of the check: one write of a known record does show in the snapshot', async () => {
    const key = known[0].key;
    const res = await h.app.inject({
      method: 'PUT',
      url: recUrl(key),
      payload: 'changed',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(200);
    expect(await snapshot()).not.toBe(before);
  });
});
