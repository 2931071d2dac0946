/**
 * Every admin route a daemon registers is in the OpenAPI document of the listener that serves it. The routes
 * come from the daemon's own apps (an in-process daemon, with fault injection so that every admin route
 * exists), not from a list kept in this test.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../node/config.ts';
import { type Daemon, startDaemon } from '../../node/daemon.ts';
import { routesOf } from '../../src/api/index.ts';
import { tempDir } from '../support/daemon-process.ts';

type Doc = { paths: Record<string, Record<string, { security?: unknown }>> };

/** fastify's `/admin/records/:key` as OpenAPI's `/admin/records/{key}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

let daemon: Daemon;
beforeAll(async () => {
  const args = ['--data-dir', tempDir(), '--http-port', '0', '--admin-port', '0', '--fault-injection', 'on'];
  const cfg = resolveConfig([...args, '--dsm-policy', 'off'], {});
  daemon = await startDaemon(cfg, pino({ level: 'silent' }));
}, 30_000);
afterAll(async () => daemon?.stop());

const docOf = async (app: Daemon['app']) => (await app.inject({ url: '/openapi.json' })).json() as Doc;

describe('OpenAPI coverage of the admin API', () => {
  it('lists every registered admin route (method and path) in the admin listener document', async () => {
    const routes = routesOf(daemon.adminApp).filter((r) => r.url.startsWith('/admin') && r.method !== 'HEAD');
    // The daemon's admin API is large: a broken route index must not pass as "nothing to check".
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => r.hidden)).toEqual([]);
    const doc = await docOf(daemon.adminApp);
    const missing = routes
      .filter((r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    for (const must of ['/admin/status', '/admin/peers', '/admin/ring', '/admin/heatmap', '/admin/stats/top'])
      expect(doc.paths[must]?.get, must).toBeDefined();
    expect(doc.paths['/metrics']?.get).toBeDefined();
  });

  it('the data listener has no admin route at all, and its document lists none', async () => {
    expect(routesOf(daemon.app).filter((r) => r.url.startsWith('/admin') || r.url === '/metrics')).toEqual([]);
    const doc = await docOf(daemon.app);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
    expect(doc.paths['/v1/records/{key}']?.put).toBeDefined();
  });
});
