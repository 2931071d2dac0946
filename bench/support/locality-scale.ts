/**
 * `npm run bench:locality -- --scale [--daemons 1000] [--zones 20] [--records 10000000] [--repeat 10]
 * [--time-limit-s 900]`: time and memory of one simulated day at scale, written to
 * `bench/results/locality-scale.json`. The workload is WorldCup98's day, keys scaled to `records` (k → k#i, demand
 * split), each request repeated `repeat` times (copy j goes to `k#(murmur3(row, j) mod s)`), and, for this run
 * only, synthetic origins: each record has a home zone `murmur3(rid) mod zones` that sends 80 % of its requests,
 * the rest spread uniformly (WorldCup's three origins would leave 17 of 20 zones idle). Policies static and
 * hybrid, forecaster EWMA (a baseline: the GRU at this size would dominate the run time). First a small run
 * (a tenth of the daemons and records), then the full one, each bounded by the time limit.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { hashWords, unitInterval } from '../../src/ring/hash.ts';
import { loadWorkload, SCENARIOS, type SimResult, simulate, type Workload } from '../../src/sim/index.ts';

export interface ScaleArgs {
  readonly daemons: number;
  readonly zones: number;
  readonly records: number;
  readonly trace: string;
  readonly repeat?: number;
  readonly timeLimitS?: number;
  /** Which runs: the small one (a tenth), the full one, or both (default). */
  readonly only?: 'small' | 'full';
}

export async function scaledWorkload(a: ScaleArgs, repeat: number): Promise<Workload> {
  const zoneNames = Array.from({ length: a.zones }, (_, i) => `z${i}`);
  const base = await loadWorkload(a.trace, { zoneNames });
  const s = Math.max(1, Math.ceil(a.records / base.baseKeys.length));
  const n = base.rows * repeat;
  const ts = new Float64Array(n);
  const rid = new Int32Array(n);
  const zone = new Uint8Array(n);
  const write = new Uint8Array(n);
  for (let i = 0; i < base.rows; i++) {
    for (let j = 0; j < repeat; j++) {
      const x = i * repeat + j;
      ts[x] = base.ts[i];
      write[x] = base.write[i];
      const r = base.rid[i] * s + ((hashWords(1, i, j) >>> 0) % s);
      rid[x] = r;
      const u = unitInterval(hashWords(2, i, j));
      zone[x] = u < 0.8 ? (hashWords(3, r, 0) >>> 0) % a.zones : Math.floor((u - 0.8) * 5 * a.zones) % a.zones;
    }
  }
  return { ...base, rows: n, ts, rid, zone, write, keyScale: s, records: base.baseKeys.length * s };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

async function once(a: ScaleArgs, repeat: number, limitS: number) {
  const w = await scaledWorkload(a, repeat);
  const perZone = Math.max(1, Math.round(a.daemons / a.zones));
  const scenario = {
    ...SCENARIOS.B,
    name: 'scale',
    label: `${a.zones} zones, R=3, survive zone, reads at one`,
    zones: a.zones,
  };
  let rssPeak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 200);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const load0 = loadavg()[0];
  let r: SimResult | undefined;
  let error: string | undefined;
  try {
    r = await simulate(w, {
      scenario,
      daemonsPerZone: perZone,
      policies: ['static', 'hybrid'],
      forecaster: { kind: 'baseline', name: 'ewma' },
      signal: AbortSignal.timeout(limitS * 1000),
      onProgress: (p) => {
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        console.error(
          `  scale ${a.daemons}/${a.zones}/${w.records}: ${(100 * p.fraction).toFixed(0)} % sim ${(p.simMs / 3.6e6).toFixed(1)} h, ${(p.elapsedMs / 1000).toFixed(0)} s, planner ${(p.planMs / 1000).toFixed(0)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
        );
      },
    });
  } catch (err) {
    error = (err as Error).message;
  } finally {
    clearInterval(timer);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  const hybrid = r?.policies.find((p) => p.policy === 'hybrid');
  return {
    daemons: perZone * a.zones,
    zones: a.zones,
    records: w.records,
    requests: w.rows,
    simulatedHours: (w.endMs - w.startMs) / 3.6e6,
    wallS: (performance.now() - t0) / 1000,
    // CPU of this process (every thread: the GC's too) and the 1-minute load average before and after: the
    // development machines' 2 cores are shared, so wall time alone says little.
    cpuS: cpuSeconds(process.cpuUsage(cpu0)),
    loadAvg: [load0, loadavg()[0]],
    heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    rssPeakMiB: Math.round(rssPeak / 2 ** 20),
    heapPeakMiB: r ? Math.round(r.heapPeakBytes / 2 ** 20) : undefined,
    planCalls: hybrid?.planCalls,
    planS: hybrid ? hybrid.planMs / 1000 : undefined,
    planMsPerCycle: hybrid && hybrid.planCalls > 0 ? hybrid.planMs / hybrid.planCalls : undefined,
    hybrid: hybrid && {
      remoteShare: hybrid.remoteShare,
      meanLatencyMs: hybrid.meanLatencyMs,
      moves: hybrid.recordsMoved,
    },
    static: r?.policies.find((p) => p.policy === 'static')?.remoteShare,
    error,
  };
}

export async function runScale(outDir: string, a: ScaleArgs): Promise<void> {
  const repeat = a.repeat ?? 10;
  const limit = a.timeLimitS ?? 900;
  const small = {
    ...a,
    daemons: Math.round(a.daemons / 10),
    zones: Math.max(3, Math.round(a.zones / 2)),
    records: Math.round(a.records / 10),
  };
  const runs = [];
  const plan = [
    [small, 1],
    [a, repeat],
  ] as const;
  for (const [args, rep] of plan.filter((_, i) => a.only === undefined || a.only === (i === 0 ? 'small' : 'full'))) {
    console.error(`scale run: ${args.daemons} daemons, ${args.zones} zones, ${args.records} records, ×${rep} requests`);
    const res = await once(args, rep, limit);
    console.error(JSON.stringify(res));
    runs.push(res);
  }
  await writeFile(
    `${outDir}locality-scale.json`,
    `${JSON.stringify({ date: new Date().toISOString(), runs }, null, 2)}\n`,
  );
}
