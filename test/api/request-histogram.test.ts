import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestHistogram } from '../../src/api/request-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, string, number, number]> = [
  ['/v1/records/:key', 'GET', 200, 0.0004],
  ['/v1/records/:key', 'GET', 200, 0.001], // on a bound: counted in that bucket (le is inclusive)
  ['/v1/records/:key', 'GET', 200, 0.05],
  ['/v1/records/:key', 'GET', 404, 3],
  ['/v1/records/:key', 'PUT', 201, 0.2],
];

describe('RequestHistogram', () => {
  it('exposes exactly what a prom-client Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const reference = new Registry();
    const fast = new RequestHistogram({ name: 'req_seconds', help: 'h', buckets: BUCKETS, registers: [ours] });
    const slow = new Histogram({
      name: 'req_seconds',
      help: 'h',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: BUCKETS,
      registers: [reference],
    });
    for (const [route, method, status, s] of OBSERVATIONS) {
      fast.observe(route, method, status, s);
      slow.observe({ route, method, status: String(status) }, s);
    }
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toMatch(/req_seconds_bucket\{le="0.001",route="\/v1\/records\/:key",method="GET",status="200"\} 2/);
  });

  it('gives the same exposition through per-route observers, and forgets everything on reset', async () => {
    const direct = new Registry();
    const viaRoutes = new Registry();
    const one = new RequestHistogram({ name: 'req_seconds', help: 'h', buckets: BUCKETS, registers: [direct] });
    const other = new RequestHistogram({ name: 'req_seconds', help: 'h', buckets: BUCKETS, registers: [viaRoutes] });
    const observers = new Map<string, ReturnType<RequestHistogram['forRoute']>>();
    for (const [route, method, status, s] of OBSERVATIONS) {
      one.observe(route, method, status, s);
      if (!observers.has(route)) observers.set(route, other.forRoute(route));
      observers.get(route)?.(method, status, s);
    }
    expect(await viaRoutes.metrics()).toBe(await direct.metrics());
    viaRoutes.resetMetrics();
    expect(await viaRoutes.metrics()).not.toMatch(/req_seconds_count/);
    observers.get('/v1/records/:key')?.('GET', 200, 0.5);
    expect(await viaRoutes.metrics()).toMatch(
      /req_seconds_count\{route="\/v1\/records\/:key",method="GET",status="200"\} 1\n/,
    );
  });
});
