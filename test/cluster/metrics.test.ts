import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, stopAllClusters } from '../support/cluster.ts';
import { type DaemonProcess, kill9, startDaemonProcess } from '../support/daemon-process.ts';
import { eventually, FAST_REPAIR, get, put } from './helpers.ts';

afterAll(stopAllClusters);

/** Every sample of `/metrics` as `name{labels}` → value. */
async function scrape(d: { url: string }): Promise<Map<string, number>> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
const sample = (m: Map<string, number>, name: string) => m.get(name) ?? Number.NaN;

describe('/metrics on one daemon', () => {
  let d: DaemonProcess;
  afterAll(async () => d && kill9(d));

  it('store operations, membership, gossip and the PAE appear and move', async () => {
    d = await startDaemonProcess(['--pae-interval-ms', '300']);
    const before = await scrape(d);
    for (const family of [
      'shoal_store_operation_seconds_count{op="put"}',
      'shoal_store_errors_total{op="get"}',
      'shoal_cluster_members{state="up"}',
      'shoal_gossip_messages_total{kind="sent"}',
      'shoal_pae_runs_total',
      'shoal_replica_calls_total{outcome="ok"}',
      'shoal_hints_queued_total',
      'shoal_hints_pending',
      'shoal_handoff_bytes_total{kind="ring"}',
      'shoal_handoff_bytes_total{kind="hints"}',
      'shoal_pae_model_load_seconds',
      'shoal_anti_entropy_repairs_total{direction="pulled"}',
    ])
      expect(before.has(family), family).toBe(true);
    for (let i = 0; i < 20; i++) expect(await put(d, `m/${i}`, `v${i}`)).toBe(201);
    for (let i = 0; i < 20; i++) expect((await get(d, `m/${i}`)).status).toBe(200);
    expect(await eventually(async () => sample(await scrape(d), 'shoal_pae_runs_total') >= 1, 10_000)).toBe(true);
    const after = await scrape(d);
    const putCount = 'shoal_store_operation_seconds_count{op="put"}';
    expect(sample(after, putCount) - sample(before, putCount)).toBeGreaterThanOrEqual(20);
    expect(sample(after, 'shoal_store_operation_seconds_sum{op="put"}')).toBeGreaterThan(0);
    expect(sample(after, 'shoal_cluster_members{state="up"}')).toBe(1);
    expect(sample(after, 'shoal_pae_last_run_seconds')).toBeGreaterThan(0);
    expect([...after.keys()].some((k) => k.startsWith('shoal_pae_model{'))).toBe(true);
    // The shipped ONNX model was loaded at start, which took some time.
    expect(sample(after, 'shoal_pae_model_load_seconds')).toBeGreaterThan(0);
  }, 30_000);
});

describe('/metrics on two daemons', () => {
  it('replica calls, hints and gossip move with the cluster’s work', async () => {
    const args = [...FAST_REPAIR, '--replicas', '2'];
    const c = await startCluster({ n: 2, extra: [args, args] });
    const [a] = c.daemons;
    const calls = 'shoal_replica_calls_total{outcome="ok"}';
    const before = await scrape(a);
    for (let i = 0; i < 10; i++) expect(await put(a, `r/${i}`, `v${i}`)).toBe(201);
    const mid = await scrape(a);
    expect(sample(mid, calls) - sample(before, calls)).toBeGreaterThanOrEqual(10);
    const gossip = await eventually(async () => {
      const m = await scrape(a);
      return (
        sample(m, 'shoal_gossip_messages_total{kind="sent"}') > 0 &&
        sample(m, 'shoal_gossip_messages_total{kind="received"}') > 0
      );
    }, 15_000);
    expect(gossip).toBe(true);
    // The other replica dies: writes at `one` are hinted for it, and the calls to it fail.
    await c.kill9(1);
    for (let i = 0; i < 10; i++) expect(await put(a, `h/${i}`, `v${i}`, 'one')).toBe(201);
    const hinted = await eventually(async () => sample(await scrape(a), 'shoal_hints_queued_total') >= 10, 10_000);
    expect(hinted).toBe(true);
    const after = await scrape(a);
    expect(sample(after, 'shoal_hints_pending')).toBe(10);
    const failed = ['timeout', 'unreachable', 'error'].reduce(
      (n, o) => n + sample(after, `shoal_replica_calls_total{outcome="${o}"}`),
      0,
    );
    expect(failed).toBeGreaterThan(0);
    const noticed = await eventually(async () => {
      const m = await scrape(a);
      return (
        sample(m, 'shoal_cluster_members{state="suspect"}') + sample(m, 'shoal_cluster_members{state="down"}') === 1
      );
    }, 15_000);
    expect(noticed).toBe(true);
    // With its only other replica down, a quorum write cannot get its two copies: counted by reason.
    // (The answer may be the request's own deadline while the coordinator still waits for the dead replica.)
    const failures = (m: Map<string, number>) =>
      sample(m, 'shoal_quorum_failures_total{reason="not_reached"}') +
      sample(m, 'shoal_quorum_failures_total{reason="unavailable"}');
    const beforeFailure = failures(await scrape(a));
    expect(await put(a, 'q/1', 'v')).toBeGreaterThanOrEqual(500);
    const counted = await eventually(async () => failures(await scrape(a)) - beforeFailure === 1, 10_000);
    expect(counted).toBe(true);
    // Back again: its hints are replayed.
    await c.restart(1);
    expect(await eventually(async () => sample(await scrape(a), 'shoal_hints_replayed_total') >= 10, 20_000)).toBe(
      true,
    );
    // Replayed hints are no longer pending, and their bytes count as handed off ('v0'..'v9': 2 bytes each).
    expect(await eventually(async () => sample(await scrape(a), 'shoal_hints_pending') === 0, 10_000)).toBe(true);
    expect(sample(await scrape(a), 'shoal_handoff_bytes_total{kind="hints"}')).toBeGreaterThanOrEqual(20);
    await c.stopAll();
  }, 90_000);
});
