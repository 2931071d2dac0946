import { afterAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, kill9, startDaemonProcess } from '../support/daemon-process.ts';

let d: DaemonProcess | undefined;
afterAll(async () => {
  if (d) await kill9(d);
});

describe('the daemon runs the PAE over its own access statistics', () => {
  it('serves the model in use and a heatmap of the records being read, by zone', async () => {
    d = await startDaemonProcess(['--stats-bucket-ms', '1000', '--pae-interval-ms', '500']);
    const model = await (await fetch(`${d.url}/admin/pae/model`)).json();
    expect(model).toMatchObject({ name: 'default', kind: 'onnx' });
    expect(model.metrics?.traces).toBeDefined();
    // The heatmap says when the next forecast starts (between cycles; a cycle in progress schedules none).
    let next: number | undefined;
    for (let i = 0; i < 50 && next === undefined; i++) {
      next = ((await (await fetch(`${d.url}/admin/heatmap`)).json()) as { nextRunAt?: number }).nextRunAt;
      if (next === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(next).toBeGreaterThan(Date.now() - 100);
    expect(next).toBeLessThanOrEqual(Date.now() + 600);
    await fetch(`${d.url}/v1/records/hot`, { method: 'PUT', body: 'x' });
    const deadline = Date.now() + 15_000;
    let heat: { records: Array<{ key: string; zones: Array<{ zone: string; probability: number }> }> } = {
      records: [],
    };
    while (Date.now() < deadline) {
      for (let i = 0; i < 20; i++)
        await (await fetch(`${d.url}/v1/records/hot`, { headers: { 'x-shoal-origin': 'eu' } })).arrayBuffer();
      heat = await (await fetch(`${d.url}/admin/heatmap?limit=5`)).json();
      // The first bucket may hold only the write (zone local): wait for the reads from eu to show.
      const row = heat.records.find((r) => r.key === 'hot');
      if ((row?.zones.find((z) => z.zone === 'eu')?.probability ?? 0) > 0.5) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const hot = heat.records.find((r) => r.key === 'hot');
    expect(hot).toBeDefined();
    const eu = hot!.zones.find((z) => z.zone === 'eu');
    expect(eu!.probability).toBeGreaterThan(0.5);
    expect((heat as { lastRunAt?: number }).lastRunAt).toBeGreaterThan(0);
    const bad = await fetch(`${d.url}/admin/heatmap?limit=0`);
    expect((await bad.json()).code).toBe('INVALID_QUERY');
  });
});
