import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon (after a 2 s unmeasured warm-up, so both sides are JIT-compiled) and summarises the result. */
export async function load(name: string, opts: autocannon.Options): Promise<LoadResult> {
  await autocannon({ connections: 16, pipelining: 1, ...opts, duration: 2 });
  const r = await autocannon({ connections: 16, pipelining: 1, duration: 8, ...opts });
  return {
    name,
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** GETs spread over the keys `k0`..`k999` (50 of them, 20 apart), the records the benches preload. */
export function recordGets(name: string, url: string, seconds: number, query = ''): Promise<LoadResult> {
  return load(name, {
    url,
    duration: seconds,
    requests: Array.from({ length: 50 }, (_, i) => ({ method: 'GET', path: `/v1/records/k${i * 20}${query}` })),
  });
}

/** PUTs of `value` to keys `p0`..`p9999` in turn. */
export function recordPuts(
  name: string,
  url: string,
  seconds: number,
  value: Uint8Array,
  query = '',
): Promise<LoadResult> {
  let n = 0;
  return load(name, {
    url,
    duration: seconds,
    requests: [
      {
        method: 'PUT',
        setupRequest: (req) => ({
          ...req,
          path: `/v1/records/p${n++ % 10000}${query}`,
          body: Buffer.from(value),
          headers: { 'content-type': 'application/octet-stream' },
        }),
      },
    ],
  });
}
