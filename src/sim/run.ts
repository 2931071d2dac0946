/**
 * The event loop of {@link simulate}: one pass over the workload in time order, every policy in lockstep (so the
 * policy-independent demand, forecast and accuracy are computed once per cycle). Events, in time order: move and
 * copy completions (a heap per policy), planning cycles at bucket boundaries, requests (trace rows).
 * @module
 */
import { ShoalError, throwIfAborted } from '../errors/index.ts';
import { createBaseline, type Forecaster, loadOnnxForecaster } from '../pae/index.ts';
import { createCluster } from './cluster.ts';
import { DEFAULT_SIM_OPTIONS, type PolicyResult, type SimOptions, type SimResult } from './index.ts';
import { topAccessor } from './metrics.ts';
import { Placements } from './placement.ts';
import { defaultPlannerConfig, PolicyState } from './policy.ts';
import { DemandTracker } from './series.ts';
import { bucketOf, keyOf, type Workload } from './workload.ts';

async function makeForecaster(o: SimOptions): Promise<Forecaster> {
  if (o.forecaster.kind === 'baseline') return createBaseline(o.forecaster.name, o.horizonBuckets);
  return loadOnnxForecaster(o.forecaster.path, { horizonBuckets: o.horizonBuckets, maxBatchRows: 4096 });
}

/** Replays `w` under every policy of `options` (see the package doc in `index.ts`). Deterministic for a seed. */
export async function simulate(
  w: Workload,
  options: Partial<SimOptions> & Pick<SimOptions, 'scenario'>,
): Promise<SimResult> {
  const o: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...options };
  const sc = o.scenario;
  const wall0 = performance.now();
  if (w.zoneNames.length !== sc.zones) {
    throw new ShoalError('CONFIG_INVALID', `workload has ${w.zoneNames.length} zones, scenario ${sc.name} ${sc.zones}`);
  }
  const cluster = createCluster(w.zoneNames, o.daemonsPerZone, sc.replicationFactor, o.seed, {
    members: o.members,
    latency: o.latency,
  });
  const pl = new Placements(cluster, w, (rid) => keyOf(w, rid));
  const bucketMs = o.bucketMs ?? bucketOf(w);
  const H = o.horizonBuckets;
  const gridStartMs = Math.floor(w.startMs / bucketMs) * bucketMs;
  const needsForecast = o.policies.some((p) => p === 'proactive' || p === 'hybrid');
  const forecaster = needsForecast ? await makeForecaster(o) : undefined;
  const tracker = new DemandTracker(w, {
    gridStartMs,
    bucketMs,
    horizon: H,
    lookback: o.lookbackBuckets,
    readClass: sc.readClass,
    forecaster,
    future: o.policies.includes('oracle'),
    signal: o.signal,
  });
  const { used, total } = pl.initialBytes();
  const ttlMs = o.ttlMs ?? o.transferUsdPerGb / (o.storageUsdPerGbMonth / (730 * 3_600_000));
  const ctx = {
    pl,
    readOne: sc.readClass === 'one',
    bytesPerMs: o.bandwidthBytesPerS / 1000,
    moveDelayMs: o.moveDelayMs,
    cadence: o.dsmCadence,
    intervalMs: bucketMs,
    ttlMs,
    planner: defaultPlannerConfig({ survive: sc.survive, replicationFactor: sc.replicationFactor, ...o.planner }),
    prices: {
      storageUsdPerGbMonth: o.storageUsdPerGbMonth,
      transferUsdPerGb: o.transferUsdPerGb,
      moveBackWindowMs: o.moveBackWindowMs,
      horizonMs: H * bucketMs,
    },
    initialUsed: used,
    initialHeld: total,
    startMs: w.startMs,
  };
  const states = o.policies.map((p) => new PolicyState(p, ctx));
  let heapPeak = process.memoryUsage().heapUsed;
  let lastProgress = performance.now();
  let e = 1;
  let next = gridStartMs + bucketMs;
  const runCycle = async (): Promise<void> => {
    // Yield to the event loop once per cycle: timers (the caller's AbortSignal.timeout, samplers) must run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(o.signal);
    const d = await tracker.cycle(e);
    for (const s of states) s.cycle(next, d);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    e++;
    next += bucketMs;
  };
  try {
    for (let i = 0; i < w.rows; i++) {
      const t = w.ts[i];
      while (t >= next) await runCycle();
      tracker.add(i);
      for (const s of states) {
        s.advance(t);
        s.serve(i);
      }
      if ((i & 4095) === 0 && o.onProgress && performance.now() - lastProgress > 1000) {
        lastProgress = performance.now();
        o.onProgress({
          fraction: i / w.rows,
          simMs: t - w.startMs,
          elapsedMs: lastProgress - wall0,
          planMs: states.reduce((s, x) => s + x.metrics.planMs, 0),
        });
      }
    }
  } finally {
    await forecaster?.close?.();
  }
  for (const s of states) s.advance(w.endMs);
  const top = topAccessor(w);
  const policies: PolicyResult[] = states.map((s) => s.metrics.result(s.policy, w, w.endMs, top));
  return {
    trace: w.name,
    scenario: sc.name,
    scenarioLabel: sc.label,
    rows: w.rows,
    records: w.records,
    zones: sc.zones,
    daemons: cluster.members.length,
    bucketMs,
    horizonMs: H * bucketMs,
    spanMs: w.endMs - w.startMs,
    forecaster: forecaster?.name ?? 'none',
    policies,
    wallMs: performance.now() - wall0,
    heapPeakBytes: Math.max(heapPeak, process.memoryUsage().heapUsed),
  };
}
