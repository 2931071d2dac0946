import autocannon from 'autocannon';
import { processCpuMs } from './proc-cpu.ts';

export interface LoadResult {
  name: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Offered load (requests/s) when the run was rate-limited; absent for a saturating run. */
  offeredPerSec?: number;
  /** CPU µs per request of each watched process (the daemons), in the order of `pids`; from /proc. */
  cpuUsPerRequest?: number[];
}

/** How a run is watched and paced. */
export interface LoadWatch {
  /** Processes whose CPU time per request is reported (Linux /proc). */
  pids?: ReadonlyArray<number | undefined>;
  /** Fixed offered load in requests/s over all connections (autocannon's overallRate); default: as fast as it answers. */
  ratePerSec?: number;
}

/** Runs autocannon (after a 2 s unmeasured warm-up, so both sides are JIT-compiled) and summarises the result. */
export async function load(name: string, opts: autocannon.Options, watch: LoadWatch = {}): Promise<LoadResult> {
  const paced = watch.ratePerSec === undefined ? {} : { overallRate: watch.ratePerSec };
  await autocannon({ connections: 16, pipelining: 1, ...opts, ...paced, duration: 2 });
  const cpuBefore = (watch.pids ?? []).map(processCpuMs);
  const r = await autocannon({ connections: 16, pipelining: 1, duration: 8, ...opts, ...paced });
  const cpuAfter = (watch.pids ?? []).map(processCpuMs);
  const total = r.requests.total;
  const cpu = cpuAfter.map((after, i) => {
    const before = cpuBefore[i];
    return after === undefined || before === undefined || total === 0
      ? Number.NaN
      : Math.round(((after - before) * 1000) / total);
  });
  return {
    name,
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    ...(watch.ratePerSec === undefined ? {} : { offeredPerSec: watch.ratePerSec }),
    ...(cpu.length > 0 && cpu.every(Number.isFinite) ? { cpuUsPerRequest: cpu } : {}),
  };
}

/** GETs spread over the keys `k0`..`k999` (50 of them, 20 apart), the records the benches preload. */
export function recordGets(
  name: string,
  url: string,
  seconds: number,
  query = '',
  watch?: LoadWatch,
): Promise<LoadResult> {
  return load(
    name,
    {
      url,
      duration: seconds,
      requests: Array.from({ length: 50 }, (_, i) => ({ method: 'GET', path: `/v1/records/k${i * 20}${query}` })),
    },
    watch,
  );
}

/** PUTs of `value` to keys `p0`..`p9999` in turn. */
export function recordPuts(
  name: string,
  url: string,
  seconds: number,
  value: Uint8Array,
  query = '',
  watch?: LoadWatch,
): Promise<LoadResult> {
  let n = 0;
  return load(
    name,
    {
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
    },
    watch,
  );
}
