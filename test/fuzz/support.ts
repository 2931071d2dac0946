/**
 * Shared pieces of the fuzz tests: how an answer must look (catalogue errors, a bound on time), the seed and
 * run count of every property, and the arbitraries of hostile HTTP input (keys, paths, headers, bodies).
 *
 * Every property runs with a fixed seed (fast-check prints it, with the shrunk counterexample, on failure);
 * `SHOAL_FUZZ_SEED` replays another seed and `SHOAL_FUZZ_RUNS` multiplies the run counts for a longer hunt.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors/index.ts';

/** Every code of the catalogue. */
export const CATALOGUE_CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CATALOGUE));

const runFactor = (): number => {
  const f = Number(process.env.SHOAL_FUZZ_RUNS ?? 1);
  return Number.isFinite(f) && f > 0 ? f : 1;
};

/** A test's timeout for `ms` at the default run count, scaled with `SHOAL_FUZZ_RUNS`. */
export const fuzzTimeout = (ms: number): number => Math.round(ms * Math.max(1, runFactor()));

/** Options of `fc.assert`: the property's own seed (or `SHOAL_FUZZ_SEED`), `runs` × `SHOAL_FUZZ_RUNS`. */
export function fuzzRuns(seed: number, runs: number): { seed: number; numRuns: number; endOnFailure: true } {
  const envSeed = process.env.SHOAL_FUZZ_SEED;
  return {
    seed: envSeed === undefined ? seed : Number(envSeed),
    numRuns: Math.max(1, Math.round(runs * runFactor())),
    endOnFailure: true,
  };
}

/** Rejects when `p` does not settle within `ms`: a hang is a failure, not a slow test. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `app.inject(req)` within the bound; a request light-my-request cannot even build (a URL `new URL()` refuses,
 * which no HTTP client would send either) is skipped as a precondition, not counted as an answer.
 */
export async function injectWithin<R extends { method: string; url: string }>(
  app: { inject(req: R): Promise<Answer> },
  req: R,
  ms: number,
): Promise<Answer> {
  const what = `${req.method} ${req.url.slice(0, 200)}`;
  let pending: Promise<Answer>;
  try {
    pending = app.inject(req);
  } catch (err) {
    fc.pre(!(err instanceof TypeError && /Invalid URL/.test(err.message)));
    throw err;
  }
  return within(
    ms,
    what,
    pending.catch((err: unknown) => {
      fc.pre(!(err instanceof TypeError && /Invalid URL/.test(err.message)));
      throw err;
    }),
  );
}

/** What the assertions read of an `inject()` answer. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/**
 * A non-2xx/3xx answer is `{ code, message }` JSON whose code is in the catalogue with this very status, and
 * never a 500 (a client mistake is not an internal error, nor a store failure) unless `allow` names it.
 * Returns the code (undefined for a success).
 */
export function expectCatalogueAnswer(res: Answer, what: string, allow: readonly ErrorCode[] = []): string | undefined {
  expect(res.statusCode, what).toBeGreaterThanOrEqual(200);
  expect(res.statusCode, what).toBeLessThan(600);
  if (res.statusCode < 400) return undefined;
  expect(String(res.headers['content-type']), `${what}: ${res.statusCode} content type`).toMatch(/^application\/json/);
  // A HEAD answer has the headers of the GET one and no body.
  if (what.startsWith('HEAD ') && res.body === '') return undefined;
  let body: { code?: unknown; message?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    throw new Error(`${what}: ${res.statusCode} body is not JSON: ${res.body.slice(0, 200)}`);
  }
  const code = String(body.code);
  expect(CATALOGUE_CODES.has(code), `${what}: code ${code} is not in the catalogue (${res.body.slice(0, 200)})`).toBe(
    true,
  );
  expect(typeof body.message, `${what}: message`).toBe('string');
  expect(ERROR_CATALOGUE[code as ErrorCode].status, `${what}: status of ${code}`).toBe(res.statusCode);
  if (res.statusCode >= 500 && !allow.includes(code as ErrorCode)) {
    throw new Error(`${what}: answered ${res.statusCode} ${code} to client input: ${res.body.slice(0, 300)}`);
  }
  // No stack trace or internal detail in an answer.
  expect(String(body.message), `${what}: message leaks a stack`).not.toMatch(/\n\s+at /);
  return code;
}

// ---------------------------------------------------------------------------------------------- arbitraries

/** Text that stresses key handling: `/`, `..`, `%`, spaces, control characters, astral and combining characters. */
const oddPieces = [
  '',
  '.',
  '..',
  '/',
  '//',
  '../',
  '%',
  '%2',
  '%2F',
  '%00',
  '%zz',
  '%ff',
  '%C0%AF',
  '%ED%A0%80',
  ' ',
  '\t',
  '\u0000',
  '\u0001',
  '\u007f',
  'é',
  '\u0301',
  '\u200b',
  '\ufeff',
  '𝄞',
  '\ud800',
  '\udc00',
  '?',
  '#',
  '&',
  '=',
  '+',
  ';',
  '\\',
  '"',
  "'",
  '<script>',
  '__proto__',
  'constructor',
  '\r\n',
];

/** A decoded key candidate: mostly short, sometimes around the 1024-byte limit, odd pieces mixed in. */
export const oddKey: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...oddPieces), fc.string({ maxLength: 6 })), { maxLength: 6 })
      .map((a) => a.join('')),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', '𝄞', '%'), fc.integer({ min: 250, max: 1100 }))
      .map(([c, n]) => c.repeat(n)),
  },
);

/** Percent-encodes what `encodeURIComponent` can, and keeps the rest raw (lone surrogates, say). */
function encodeLoosely(key: string): string {
  try {
    return encodeURIComponent(key);
  } catch {
    return key;
  }
}

/** A path segment: properly encoded, raw (`%` sequences and all), or raw with `/` and `..` in it. */
export const oddSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: oddKey.map(encodeLoosely) },
  { weight: 2, arbitrary: oddKey.map((k) => k.replace(/[\r\n\t ]/g, '')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('%', 'f', 'F', '0', '2', 'e', 'D', '8', 'a') }) },
);

/** Odd query strings: known and unknown parameters with good and bad values, repeated ones, raw `%`. */
const wildQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'consistency',
        'meta',
        'type',
        'prefix',
        'cursor',
        'limit',
        'scope',
        'from',
        'window',
        'zone',
        'reason',
        'colour',
        '__proto__',
        '',
      ),
      fc.oneof(
        fc.constantFrom(
          'one',
          'quorum',
          'all',
          'linearizable',
          'eventual',
          'doc',
          'blob',
          '1',
          'true',
          'cluster',
          'all',
        ),
        fc.constantFrom('0', '-1', '1e9', 'NaN', '1.5', '99999999999999999999', '', 'partition:7', 'partition:99999'),
        oddSegment,
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`);

/** Well-formed queries of the data routes, which let a request get past validation. */
const tameQuery = fc
  .record(
    {
      consistency: fc.constantFrom('one', 'quorum', 'all', 'linearizable'),
      meta: fc.constantFrom('1', 'true', '0'),
      type: fc.constantFrom('doc', 'blob'),
    },
    { requiredKeys: [] },
  )
  .map((q) => {
    const pairs = Object.entries(q).filter(([, v]) => v !== undefined);
    return pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
  });

/** A query string: none, a well-formed one, or a wild one. */
export const oddQuery: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: tameQuery },
  { weight: 3, arbitrary: wildQuery },
);

/** Printable header values (inject refuses what no HTTP parser would pass). */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** Content types the API gives meaning to, their odd spellings, and garbage. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/vnd.shoal.yjs-update',
    'application/vnd.shoal.yjs-update; x=1',
    'text/plain',
    'application/octet-stream',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '',
    ';',
    '*/*',
  ),
  headerText,
);

/** A version-like header value: `*`, quoted, weak, garbage. */
const etagLike = fc.oneof(
  fc.constantFrom('*', '""', '"*"', 'W/"x"', '"01a213d100c4.0000.0830cbd7001b"', 'W/', '"', '*, "a"'),
  headerText,
);

/** The headers the API reads, with good, odd and garbage values; a few at a time; sometimes a (wrong) bearer token. */
export const oddHeaders: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constant('content-type'), contentType),
      fc.tuple(fc.constantFrom('if-match', 'if-none-match'), etagLike),
      fc.tuple(fc.constant('accept'), fc.constantFrom('application/vnd.shoal.yjs-state', 'application/json', '*/*')),
      fc.tuple(fc.constantFrom('x-shoal-origin', 'x-shoal-app', 'x-forwarded-for'), headerText),
      fc.tuple(fc.constant('x-shoal-consistency'), fc.constantFrom('one', 'all', 'bogus')),
      fc.tuple(
        fc.constant('authorization'),
        fc.oneof(
          fc.constant('Bearer '),
          headerText.map((t) => `Bearer ${t}`),
          headerText,
        ),
      ),
      fc.tuple(fc.constant('range'), fc.constantFrom('bytes=0-1', 'bytes=-5', 'bytes=9999-', 'garbage')),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => {
    const out: Record<string, string> = {};
    for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
    return out;
  });

/** `[[[...]]]` or `{"a":{"a":...}}` nested `depth` deep: JSON that is small to send and deep to walk. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A request body that prints as a short label in a counterexample (not as a megabyte of byte values). */
export class Body {
  readonly bytes: Buffer;
  readonly label: string;
  constructor(bytes: Buffer | string, label?: string) {
    this.bytes = Buffer.from(bytes);
    this.label =
      label ??
      (this.bytes.length <= 120 ? JSON.stringify(this.bytes.toString('latin1')) : `${this.bytes.length} bytes`);
  }
  [fc.toStringMethod](): string {
    return `Body(${this.label})`;
  }
}

/**
 * Bodies: none, random bytes, exactly the value limit and one byte over it, JSON values (objects, merge patches
 * with nulls), JSON nested thousands of levels deep, malformed JSON.
 */
export function oddBody(limit: number): fc.Arbitrary<Body | undefined> {
  const json = (v: unknown) => new Body(JSON.stringify(v));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 256 }).map((b) => new Body(Buffer.from(b))) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(limit, limit + 1, limit * 2), fc.nat(255))
        .map(([n, fill]) => new Body(Buffer.alloc(n, fill), `${n} bytes of ${fill}`)),
    },
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json) },
    {
      weight: 2,
      arbitrary: fc
        .dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 })), {
          maxKeys: 6,
        })
        .map(json),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
        .map(([d, k]) => new Body(deepJson(d, k), `deepJson(${d}, ${k})`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{', '{"a":', '[1,]', 'nul', '{"__proto__":{"x":1}}', '1', '"s"', 'null')
        .map((s) => new Body(s)),
    },
  );
}
