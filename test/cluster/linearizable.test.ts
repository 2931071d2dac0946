import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, stopAllClusters } from '../support/cluster.ts';
import { checkRegisterHistory, createHistoryRecorder } from '../support/linearizability.ts';

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ n: 3 });
});
afterAll(stopAllClusters);

const KEY = 'register';

describe('consistency=linearizable', () => {
  it('a concurrent history with a SIGKILLed replica is linearizable (checked by search)', async () => {
    const rec = createHistoryRecorder<string>();
    let killed = false;
    let seq = 0;
    const client = async (p: number) => {
      for (let i = 0; i < 40; i++) {
        const target = killed ? [0, 1][(p + i) % 2] : (p + i) % 3;
        const d = c.daemons[target];
        if (Math.random() < 0.5) {
          const value = `p${p}-${seq++}`;
          const h = rec.invoke(p, 'write', value);
          try {
            const r = await fetch(recordUrl(d, KEY, 'linearizable'), {
              method: 'PUT',
              body: value,
              signal: AbortSignal.timeout(8000),
            });
            await r.arrayBuffer();
            if (r.status < 300) h.ok();
            else h.info(); // 503: may have reached some replicas
          } catch {
            h.info();
          }
        } else {
          const h = rec.invoke(p, 'read');
          try {
            const r = await fetch(recordUrl(d, KEY, 'linearizable'), { signal: AbortSignal.timeout(8000) });
            const body = await r.text();
            if (r.status === 200) h.ok(body);
            else if (r.status === 404) h.ok(undefined);
            else h.info();
          } catch {
            h.info();
          }
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, p) => client(p));
    await new Promise((r) => setTimeout(r, 700));
    killed = true;
    await c.kill9(2);
    await Promise.all(clients);
    const history = rec.history();
    expect(history.filter((o) => o.complete !== undefined).length).toBeGreaterThan(60);
    const result = checkRegisterHistory(history);
    expect(result.ok, JSON.stringify(result).slice(0, 300)).toBe(true);
  });
});
