import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TAGS } from '../../src/api/openapi.ts';
import { ROOT_LINKS } from '../../src/api/root.ts';
import { type DaemonProcess, kill9, startDaemonProcess } from '../support/daemon-process.ts';

interface Operation {
  tags?: string[];
  responses?: Record<string, { description?: string }>;
}

let d: DaemonProcess;
beforeAll(async () => {
  // With fault injection, so that every route a daemon can have is in its document.
  d = await startDaemonProcess(['--fault-injection', 'on']);
}, 30_000);
afterAll(async () => kill9(d));

describe("a real daemon's API index and OpenAPI document", () => {
  it('GET / links to the docs, dashboard, OpenAPI document and metrics', async () => {
    const res = await fetch(`${d.url}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; links: Record<string, string> };
    expect(body.name).toBe('shoal');
    expect(body.links).toMatchObject({
      docs: '/docs',
      dashboard: '/dashboard',
      openapi: '/openapi.json',
      metrics: '/metrics',
    });
    expect(body.links).toEqual(ROOT_LINKS);
  });

  it('tags every route with one of the API tags and describes every response', async () => {
    const doc = (await (await fetch(`${d.url}/openapi.json`)).json()) as {
      tags: Array<{ name: string }>;
      paths: Record<string, Record<string, Operation>>;
    };
    const known = new Set<string>(API_TAGS.map((t) => t.name));
    expect(doc.tags.map((t) => t.name)).toEqual([...known]);
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(ops.length).toBeGreaterThan(20);
    const untagged = ops.filter(({ op }) => !op.tags?.length || op.tags.some((t) => !known.has(t))).map((o) => o.at);
    expect(untagged).toEqual([]);
    const undescribed = ops.flatMap(({ at, op }) =>
      Object.entries(op.responses ?? {})
        .filter(([, r]) => !r.description || r.description === 'Default Response')
        .map(([status]) => `${at} ${status}`),
    );
    expect(undescribed).toEqual([]);
    const tagOf = (at: string) => ops.find((o) => o.at === at)?.op.tags;
    expect(tagOf('PUT /v1/records/{key}')).toEqual(['data']);
    expect(tagOf('GET /admin/peers')).toEqual(['cluster']);
    expect(tagOf('GET /admin/stats/top')).toEqual(['stats']);
    expect(tagOf('GET /admin/heatmap')).toEqual(['pae']);
    expect(tagOf('GET /readyz')).toEqual(['admin']);
  });
});
