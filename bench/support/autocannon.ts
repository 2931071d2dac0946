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
