import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, recordUrl, startCluster, stopAllClusters } from '../support/cluster.ts';
import { type S3TestServer, startS3Server } from '../support/s3-server.ts';
import { eventually, FAST_REPAIR, get, meta } from './helpers.ts';

let s3: S3TestServer;
let c: Cluster;

beforeAll(async () => {
  s3 = await startS3Server(['shoal-mixed']);
  const s3Args = [
    ...['--s3-endpoint', s3.endpoint, '--s3-bucket', 'shoal-mixed', '--s3-region', s3.region],
    ...['--s3-access-key-id', s3.credentials.accessKeyId, '--s3-secret-access-key', s3.credentials.secretAccessKey],
  ];
  c = await startCluster({
    n: 3,
    store: ['level', 'sqlite', 's3'],
    extra: [FAST_REPAIR, FAST_REPAIR, [...FAST_REPAIR, ...s3Args]],
  });
});
afterAll(async () => {
  await stopAllClusters();
  await s3?.stop();
});

describe('a cluster of level, sqlite and s3 daemons', () => {
  it('reports each store kind in status and membership', async () => {
    const kinds = await Promise.all(
      c.daemons.map(async (d) => (await (await fetch(`${d.url}/admin/status`)).json()).store),
    );
    expect(kinds).toEqual(['level', 'sqlite', 's3']);
    const peers = (await (await fetch(`${c.daemons[0].url}/admin/peers`)).json()).members as Array<{
      storeKind: string;
    }>;
    expect(peers.map((p) => p.storeKind).sort()).toEqual(['level', 's3', 'sqlite']);
  });

  it('writes on the level daemon are read on the others at every consistency level, bytes and metadata equal', async () => {
    const [lvl, sql, obj] = c.daemons;
    const value = Buffer.from([0, 1, 2, 250, 251, 255, 10, 13]);
    const res = await fetch(recordUrl(lvl, 'mixed/bin'), {
      method: 'PUT',
      body: value,
      headers: { 'content-type': 'application/x-test' },
    });
    expect(res.status).toBe(201);
    const written = await res.json();
    for (const d of [sql, obj]) {
      for (const level of ['one', 'quorum', 'all', 'linearizable']) {
        const r = await fetch(recordUrl(d, 'mixed/bin', level));
        if (level === 'one' && r.status === 404) continue; // `one` may read a replica the write reaches later
        expect(r.status, level).toBe(200);
        expect(Buffer.from(await r.arrayBuffer()).equals(value), level).toBe(true);
        expect(r.headers.get('content-type')).toBe('application/x-test');
        expect(r.headers.get('x-shoal-checksum')).toBe(written.checksum);
      }
    }
    // The quorum write reaches the third replica a moment later (or by read repair): poll.
    await expect
      .poll(
        async () => (await meta(obj, 'mixed/bin')).replicas.every((r) => r.agrees && r.version === written.version),
        { timeout: 10_000 },
      )
      .toBe(true);
  });

  it('an s3 daemon refuses keys its object store cannot hold with 400 INVALID_KEY, not a 500', async () => {
    const obj = c.daemons[2];
    const res = await fetch(recordUrl(obj, 'k'.repeat(600)), { method: 'PUT', body: 'x' });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/limit is 50\d/);
    expect((await fetch(recordUrl(obj, 'k'.repeat(500)), { method: 'PUT', body: 'x' })).status).toBe(201);
  });

  it('moves records into a restarted s3 daemon through the replication protocol (anti-entropy bulk transfer)', async () => {
    const [lvl] = c.daemons;
    await c.kill9(2);
    const keys = Array.from({ length: 40 }, (_, i) => `moved/${i}`);
    for (const k of keys) {
      const r = await fetch(recordUrl(lvl, k), {
        method: 'PUT',
        body: `payload-${k}`,
        headers: { 'content-type': 'text/x-moved' },
      });
      expect(r.status).toBe(201);
    }
    const obj = await c.restart(2);
    const arrived = await eventually(async () => {
      for (const k of keys) if ((await get(obj, k, 'one')).body !== `payload-${k}`) return false;
      return true;
    }, 20_000);
    expect(arrived).toBe(true);
    const r = await fetch(recordUrl(obj, keys[0], 'one'));
    expect(r.headers.get('content-type')).toBe('text/x-moved');
    expect((await meta(obj, keys[0])).replicas.every((x) => x.agrees)).toBe(true);
  });
});
