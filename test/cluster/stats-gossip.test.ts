import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, stopAllClusters } from '../support/cluster.ts';
import { eventually } from './helpers.ts';

const FAST_STATS = ['--stats-bucket-ms', '1000', '--stats-gossip-interval-ms', '700'];
let c: Cluster;

beforeAll(async () => {
  c = await startCluster({ n: 3, extra: [FAST_STATS, FAST_STATS, FAST_STATS] });
});
afterAll(stopAllClusters);

type Top = { records: Array<{ key: string; reads: number; writes: number }> };
const top = async (url: string, q: string) => (await (await fetch(`${url}/admin/stats/top?${q}`)).json()) as Top;

describe('access statistics across the cluster', () => {
  it('every daemon sees cluster-wide access per record: the sum of what each daemon served', async () => {
    const reads = [5, 7, 11];
    await fetch(recordUrl(c.daemons[0], 'hot/1'), { method: 'PUT', body: 'x' });
    for (const [i, d] of c.daemons.entries()) {
      for (let n = 0; n < reads[i]; n++) {
        const r = await fetch(recordUrl(d, 'hot/1', 'one'), { headers: { 'x-shoal-origin': `zone-${i}` } });
        await r.arrayBuffer();
      }
    }
    // Local view: each daemon counts only what it served.
    const local1 = await top(c.daemons[1].url, 'scope=local&window=1h');
    expect(local1.records.find((r) => r.key === 'hot/1')?.reads).toBe(7);
    // Cluster view (gossip): 5 + 7 + 11 reads everywhere, once buckets closed and summaries arrived.
    const agreed = await eventually(
      async () => {
        for (const d of c.daemons) {
          const t = await top(d.url, 'scope=cluster&window=1h');
          if (t.records.find((r) => r.key === 'hot/1')?.reads !== 23) return false;
        }
        return true;
      },
      15_000,
      300,
    );
    expect(agreed).toBe(true);
    const perZone = await top(c.daemons[0].url, 'scope=cluster&window=1h&zone=zone-2');
    expect(perZone.records.find((r) => r.key === 'hot/1')?.reads).toBe(11);
  });

  it('serves a record series and a summary, and rejects a malformed window', async () => {
    const series = await (await fetch(`${c.daemons[2].url}/admin/stats/records/hot%2F1`)).json();
    expect(series.key).toBe('hot/1');
    const summary = await (await fetch(`${c.daemons[0].url}/admin/stats/summary`)).json();
    expect(summary.cluster.nodes.length).toBe(3);
    const bad = await fetch(`${c.daemons[0].url}/admin/stats/top?window=soon`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('INVALID_QUERY');
  });
});
